# A Coder workspace template that runs each workspace as a Docker container on the Coder host.
#
# Workspace lifecycle:
#   - docker_volume.home_volume is persistent: it is created with the workspace and kept across
#     stop/start, so everything under /home/coder survives a restart;
#   - docker_container.workspace is ephemeral: `count = start_count` makes it exist only while
#     the workspace is started.

terraform {
  required_providers {
    coder = {
      source  = "coder/coder"
      version = ">= 2.0.0"
    }
    docker = {
      source  = "kreuzwerker/docker"
      version = "~> 3.0"
    }
  }
}

# Admin parameter (template-wide): a sensitive variable is set by a template admin when the
# template is pushed and is never shown to workspace users.
variable "image_registry" {
  description = "Registry the workspace images are pulled from, e.g. registry.example.com/team"
  type        = string
  default     = "docker.io/codercom"
  sensitive   = true
}

# User parameter (per workspace): chosen by the user when they create a workspace.
variable "image_name" {
  description = "Workspace image, e.g. enterprise-base:ubuntu or enterprise-node:ubuntu"
  type        = string
  default     = "enterprise-base:ubuntu"
}

variable "docker_host" {
  description = "Docker daemon the containers run on; empty for the provider's default socket"
  type        = string
  default     = ""
  sensitive   = true
}

provider "docker" {
  host = var.docker_host != "" ? var.docker_host : null
}

provider "coder" {}

data "coder_provisioner" "me" {}

data "coder_workspace" "me" {}

data "coder_workspace_owner" "me" {}

resource "coder_agent" "main" {
  arch = data.coder_provisioner.me.arch
  os   = "linux"

  startup_script = <<-EOT
    set -e
    # Install code-server on first start; the home volume keeps it for later starts.
    if [ ! -x "$HOME/.local/bin/code-server" ]; then
      curl -fsSL https://code-server.dev/install.sh | sh -s -- --method=standalone --prefix="$HOME/.local"
    fi
    "$HOME/.local/bin/code-server" --auth none --port 13337 >/tmp/code-server.log 2>&1 &
  EOT

  env = {
    GIT_AUTHOR_NAME     = coalesce(data.coder_workspace_owner.me.full_name, data.coder_workspace_owner.me.name)
    GIT_AUTHOR_EMAIL    = data.coder_workspace_owner.me.email
    GIT_COMMITTER_NAME  = coalesce(data.coder_workspace_owner.me.full_name, data.coder_workspace_owner.me.name)
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

# Persistent: named after the workspace id, which never changes, and kept on stop. The
# lifecycle rule stops Terraform from replacing (and emptying) it if the name ever changes.
resource "docker_volume" "home_volume" {
  name = "coder-${data.coder_workspace.me.id}-home"

  lifecycle {
    ignore_changes = all
  }

  labels {
    label = "coder.owner"
    value = data.coder_workspace_owner.me.name
  }
  labels {
    label = "coder.workspace_id"
    value = data.coder_workspace.me.id
  }
}

# Ephemeral: destroyed on stop, created again on start.
resource "docker_container" "workspace" {
  count    = data.coder_workspace.me.start_count
  image    = "${var.image_registry}/${var.image_name}"
  name     = "coder-${data.coder_workspace_owner.me.name}-${lower(data.coder_workspace.me.name)}"
  hostname = data.coder_workspace.me.name

  # The agent's init script downloads the agent from the Coder deployment and starts it.
  # Inside the container "localhost" is the container itself, so a deployment reached on the
  # Docker host's loopback address is reached through host.docker.internal instead.
  entrypoint = ["sh", "-c", replace(coder_agent.main.init_script, "/localhost|127\\.0\\.0\\.1/", "host.docker.internal")]
  env        = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]

  host {
    host = "host.docker.internal"
    ip   = "host-gateway"
  }

  volumes {
    container_path = "/home/coder"
    volume_name    = docker_volume.home_volume.name
    read_only      = false
  }

  labels {
    label = "coder.owner"
    value = data.coder_workspace_owner.me.name
  }
  labels {
    label = "coder.workspace_id"
    value = data.coder_workspace.me.id
  }
}

resource "coder_metadata" "container_info" {
  count       = data.coder_workspace.me.start_count
  resource_id = docker_container.workspace[0].id

  item {
    key   = "image"
    value = "${var.image_registry}/${var.image_name}"
  }
  item {
    key   = "home volume"
    value = docker_volume.home_volume.name
  }
}
