terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

data "coder_workspace" "me" {}

data "coder_workspace_owner" "me" {}

resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"

  # Wait for the startup script before users can log in, and give a slow
  # image five minutes to connect before the agent is reported unhealthy.
  startup_script_behavior = "blocking"
  connection_timeout      = 300
  startup_script          = <<-EOT
    #!/bin/sh
    set -e
    [ -f ~/.gitconfig ] || git config --global init.defaultBranch main
  EOT
  shutdown_script         = "pkill -TERM -f code-server || true"

  env = {
    GIT_AUTHOR_NAME  = coalesce(data.coder_workspace_owner.me.full_name, data.coder_workspace_owner.me.name)
    GIT_AUTHOR_EMAIL = data.coder_workspace_owner.me.email
  }

  # Only the browser terminal and VS Code Desktop in the dashboard.
  display_apps {
    vscode                 = true
    vscode_insiders        = false
    web_terminal           = true
    ssh_helper             = false
    port_forwarding_helper = false
  }

  # Live values shown on the workspace page, refreshed by the agent.
  metadata {
    display_name = "CPU usage"
    key          = "cpu"
    script       = "coder stat cpu"
    interval     = 10
    timeout      = 1
    order        = 1
  }

  metadata {
    display_name = "Home disk"
    key          = "home_disk"
    script       = "coder stat disk --path $HOME"
    interval     = 600
    timeout      = 30
    order        = 2
  }

  # Notify the owner when memory or the home volume runs short.
  resources_monitoring {
    memory {
      enabled   = true
      threshold = 90
    }
    volume {
      path      = "/home/coder"
      enabled   = true
      threshold = 85
    }
  }
}

# Stands in for the container or VM of a real template (docker_container,
# kubernetes_pod, ...): it runs the agent's init script with its token.
resource "terraform_data" "workspace" {
  count = data.coder_workspace.me.start_count

  input = {
    image   = "codercom/enterprise-base:ubuntu"
    command = ["sh", "-c", coder_agent.dev.init_script]
    env     = ["CODER_AGENT_TOKEN=${coder_agent.dev.token}"]
  }
}
