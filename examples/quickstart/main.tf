# A Coder workspace template that runs anywhere, offline: the shape of Coder's Docker starter
# template, with Terraform's built-in `terraform_data` standing in for the Docker volume and
# container. `scripts/quickstart` plans, applies and destroys it against our provider.

terraform {
  required_providers {
    coder = {
      source  = "coder/coder"
      version = ">= 2.0.0"
    }
  }
}

# The access URL the agent connects back to; defaults to $CODER_AGENT_URL.
provider "coder" {}

data "coder_provisioner" "me" {}

# Which build this is: name, transition (start/stop), start_count (1 on start, 0 on stop).
data "coder_workspace" "me" {}

data "coder_workspace_owner" "me" {}

resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"

  startup_script_behavior = "non-blocking"
  startup_script          = <<-EOT
    set -e
    # Start code-server (installed in the workspace image) for the app below.
    code-server --auth none --port 13337 >/tmp/code-server.log 2>&1 &
  EOT

  env = {
    GIT_AUTHOR_NAME     = data.coder_workspace_owner.me.full_name
    GIT_AUTHOR_EMAIL    = data.coder_workspace_owner.me.email
    GIT_COMMITTER_NAME  = data.coder_workspace_owner.me.full_name
    GIT_COMMITTER_EMAIL = data.coder_workspace_owner.me.email
  }

  metadata {
    display_name = "CPU Usage"
    key          = "cpu_usage"
    script       = "coder stat cpu"
    interval     = 10
    timeout      = 1
  }

  metadata {
    display_name = "Home Disk"
    key          = "home_disk"
    script       = "coder stat disk --path $HOME"
    interval     = 60
    timeout      = 1
  }
}

resource "coder_app" "code_server" {
  agent_id     = coder_agent.main.id
  slug         = "code-server"
  display_name = "code-server"
  url          = "http://localhost:13337/?folder=/home/coder"
  icon         = "/icon/code.svg"
  subdomain    = false
  share        = "owner"

  healthcheck {
    url       = "http://localhost:13337/healthz"
    interval  = 5
    threshold = 6
  }
}

# Persistent: survives stop/start, like the Docker template's home volume. Its name is fixed at
# creation (ignore_changes), since the workspace id is only stable inside a real Coder build.
resource "terraform_data" "home_volume" {
  input = "coder-${data.coder_workspace.me.id}-home"

  lifecycle {
    ignore_changes = all
  }
}

# Ephemeral: exists only while the workspace is started (start_count is 0 on stop), like the
# Docker template's container. Its input carries what the container would run: the agent's
# init script as the command and its token in the environment.
resource "terraform_data" "workspace" {
  count = data.coder_workspace.me.start_count

  input = {
    hostname = data.coder_workspace.me.name
    command  = ["sh", "-c", coder_agent.main.init_script]
    env      = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
    volume   = terraform_data.home_volume.output
  }
}

resource "coder_metadata" "workspace_info" {
  count       = data.coder_workspace.me.start_count
  resource_id = terraform_data.workspace[0].id

  item {
    key   = "image"
    value = "codercom/enterprise-base:ubuntu"
  }
  item {
    key   = "home volume"
    value = terraform_data.home_volume.output
  }
}

output "workspace" {
  value = {
    name        = data.coder_workspace.me.name
    transition  = data.coder_workspace.me.transition
    start_count = data.coder_workspace.me.start_count
    owner       = data.coder_workspace_owner.me.name
    access_url  = data.coder_workspace.me.access_url
  }
}

output "provisioner" {
  value = "${data.coder_provisioner.me.os}/${data.coder_provisioner.me.arch}"
}

output "agent_id" {
  value = coder_agent.main.id
}

output "agent_init_script" {
  value = coder_agent.main.init_script
}

output "agent_token" {
  value     = coder_agent.main.token
  sensitive = true
}

output "app" {
  value = {
    slug = coder_app.code_server.slug
    url  = coder_app.code_server.url
  }
}

output "home_volume" {
  value = terraform_data.home_volume.output
}

output "container_running" {
  value = length(terraform_data.workspace) == 1
}
