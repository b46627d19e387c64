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
}

# Stands in for the container of a real template: it exists while the
# workspace is started (start_count is 1 on start, 0 on stop).
resource "terraform_data" "container" {
  count = data.coder_workspace.me.start_count
  input = {
    name  = "coder-${data.coder_workspace.me.id}"
    token = coder_agent.dev.token
    # Unclaimed prebuilt workspaces start before anyone owns them.
    labels = {
      "coder.workspace_name" = data.coder_workspace.me.name
      "coder.prebuild"       = tostring(data.coder_workspace.me.is_prebuild)
    }
  }
}

# Stands in for the home volume: it survives stops and lives as long as the
# workspace does, so its name uses the workspace's id.
resource "terraform_data" "home" {
  input = "coder-${data.coder_workspace.me.id}-home"
}

output "dashboard" {
  value = "${data.coder_workspace.me.access_url}/@me/${data.coder_workspace.me.name}"
}
