terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

data "coder_workspace_owner" "me" {}

resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"
}

# Variables in every session the agent starts (terminals, SSH, apps).
resource "coder_env" "editor" {
  agent_id = coder_agent.dev.id
  name     = "EDITOR"
  value    = "vim"
}

resource "coder_env" "git_email" {
  agent_id = coder_agent.dev.id
  name     = "GIT_AUTHOR_EMAIL"
  value    = data.coder_workspace_owner.me.email
}

# The agent expands variables in values when it starts, so this extends the
# image's PATH rather than replacing it.
resource "coder_env" "path" {
  agent_id = coder_agent.dev.id
  name     = "PATH"
  value    = "/home/coder/.local/bin:$PATH"
}

# Several coder_env resources (often from different modules) may set the same
# variable. With `append`, Coder joins their values with ":" instead of
# keeping only the last one.
resource "coder_env" "node_path_global" {
  agent_id       = coder_agent.dev.id
  name           = "NODE_PATH"
  value          = "/usr/local/lib/node_modules"
  merge_strategy = "append"
}

resource "coder_env" "node_path_home" {
  agent_id       = coder_agent.dev.id
  name           = "NODE_PATH"
  value          = "/home/coder/.node_modules"
  merge_strategy = "append"
}
