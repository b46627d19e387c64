terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

data "coder_workspace" "me" {}

resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"

  # The Dev Container CLI must be available to the agent.
  startup_script = "command -v devcontainer >/dev/null || npm install -g @devcontainers/cli"
}

# The agent builds and starts the repository's Dev Container, and Coder
# connects to it as a separate sub-agent (needs Coder 2.21 or later).
resource "coder_devcontainer" "project" {
  count            = data.coder_workspace.me.start_count
  agent_id         = coder_agent.dev.id
  workspace_folder = "/home/coder/project"
  config_path      = "/home/coder/project/.devcontainer/devcontainer.json"
}

# Stands in for the host container or VM, which needs Docker inside.
resource "terraform_data" "workspace" {
  count = data.coder_workspace.me.start_count
  input = {
    privileged = true
    command    = coder_agent.dev.init_script
    token      = coder_agent.dev.token
  }
}

output "devcontainer_agent" {
  value = one(coder_devcontainer.project[*].subagent_id)
}
