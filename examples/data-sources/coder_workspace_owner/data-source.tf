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

  # Commits carry the owner's name; Git over SSH uses the key pair Coder
  # generated for them (the public half is what they add to GitHub).
  env = {
    GIT_AUTHOR_NAME     = coalesce(data.coder_workspace_owner.me.full_name, data.coder_workspace_owner.me.name)
    GIT_AUTHOR_EMAIL    = data.coder_workspace_owner.me.email
    GIT_COMMITTER_NAME  = coalesce(data.coder_workspace_owner.me.full_name, data.coder_workspace_owner.me.name)
    GIT_COMMITTER_EMAIL = data.coder_workspace_owner.me.email
  }
}

resource "coder_script" "ssh_key" {
  agent_id     = coder_agent.dev.id
  display_name = "SSH key"
  run_on_start = true
  script       = <<-EOT
    #!/bin/sh
    mkdir -p ~/.ssh && chmod 700 ~/.ssh
    echo "$OWNER_SSH_KEY" > ~/.ssh/id_coder && chmod 600 ~/.ssh/id_coder
  EOT
}

resource "coder_env" "ssh_key" {
  agent_id = coder_agent.dev.id
  name     = "OWNER_SSH_KEY"
  value    = data.coder_workspace_owner.me.ssh_private_key
}

# Extra tooling for members of the "data-science" group.
resource "coder_script" "jupyter" {
  count        = contains(data.coder_workspace_owner.me.groups, "data-science") ? 1 : 0
  agent_id     = coder_agent.dev.id
  display_name = "Jupyter"
  run_on_start = true
  script       = "pip install --user jupyterlab"
}

# Site-wide roles have an empty org_id.
locals {
  is_site_owner = anytrue([for role in data.coder_workspace_owner.me.rbac_roles : role.name == "owner" && role.org_id == ""])
}

output "owner" {
  value = {
    username   = data.coder_workspace_owner.me.name
    login_type = data.coder_workspace_owner.me.login_type
    site_owner = local.is_site_owner
  }
}
