terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

# Coder passes its access URL to every build in CODER_AGENT_URL, so the
# provider block is usually empty. Set `url` only when agents must reach
# Coder through a different address than users do.
provider "coder" {}

data "coder_provisioner" "me" {}

data "coder_workspace" "me" {}

data "coder_workspace_owner" "me" {}

resource "coder_agent" "main" {
  os   = data.coder_provisioner.me.os
  arch = data.coder_provisioner.me.arch

  startup_script = <<-EOT
    #!/bin/sh
    echo "Welcome to ${data.coder_workspace.me.name}, ${data.coder_workspace_owner.me.full_name}!"
  EOT
}

# In a real template this is the machine the workspace runs on (a
# docker_container, kubernetes_pod, aws_instance, ...). It exists only while
# the workspace is started, and it runs the agent's init script with the
# agent's token in its environment.
resource "terraform_data" "workspace" {
  count = data.coder_workspace.me.start_count

  input = {
    hostname   = lower("${data.coder_workspace_owner.me.name}-${data.coder_workspace.me.name}")
    entrypoint = coder_agent.main.init_script
    env        = { CODER_AGENT_TOKEN = coder_agent.main.token }
  }
}
