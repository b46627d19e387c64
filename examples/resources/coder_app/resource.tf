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
  os             = "linux"
  arch           = "amd64"
  startup_script = "code-server --auth none --port 13337 >/tmp/code-server.log 2>&1 &"
}

# A web IDE served by the agent on port 13337, opened on its own subdomain.
resource "coder_app" "code_server" {
  agent_id     = coder_agent.dev.id
  slug         = "code-server"
  display_name = "VS Code (browser)"
  icon         = "/icon/code.svg"
  url          = "http://localhost:13337/?folder=/home/coder"
  subdomain    = true
  share        = "owner"
  order        = 1

  healthcheck {
    url       = "http://localhost:13337/healthz"
    interval  = 5
    threshold = 6
  }
}

# A terminal app: the command runs in a terminal on the agent.
resource "coder_app" "htop" {
  agent_id     = coder_agent.dev.id
  slug         = "htop"
  display_name = "htop"
  icon         = "/icon/terminal.svg"
  command      = "htop"
  group        = "Tools"
  order        = 2
}

# An external app: a link the browser opens, here into the desktop editor.
resource "coder_app" "cursor" {
  agent_id     = coder_agent.dev.id
  slug         = "cursor"
  display_name = "Cursor"
  icon         = "/icon/cursor.svg"
  external     = true
  url          = "cursor://coder.coder-remote/open?owner=${data.coder_workspace_owner.me.name}&workspace=${data.coder_workspace.me.name}&url=${data.coder_workspace.me.access_url}"
  tooltip      = "Opens this workspace in your local Cursor editor."
}

# Stands in for the container of a real template.
resource "terraform_data" "workspace" {
  count = data.coder_workspace.me.start_count
  input = {
    command = coder_agent.dev.init_script
    token   = coder_agent.dev.token
  }
}
