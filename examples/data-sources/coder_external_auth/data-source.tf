terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

# The owner must sign in to the "github" external auth provider configured in
# the Coder deployment before the workspace builds.
data "coder_external_auth" "github" {
  id = "github"
}

# Used when the owner has signed in, but the workspace builds without it.
data "coder_external_auth" "jira" {
  id       = "jira"
  optional = true
}

resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"

  # The agent also serves fresh tokens through `coder external-auth
  # access-token github`; this one is valid as of the build.
  env = {
    GITHUB_TOKEN = data.coder_external_auth.github.access_token
  }
  startup_script = <<-EOT
    #!/bin/sh
    [ -d ~/project ] || git clone https://github.com/example/project ~/project
  EOT
}

resource "coder_env" "jira" {
  count    = data.coder_external_auth.jira.access_token != "" ? 1 : 0
  agent_id = coder_agent.dev.id
  name     = "JIRA_TOKEN"
  value    = data.coder_external_auth.jira.access_token
}
