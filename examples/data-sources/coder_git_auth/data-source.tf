terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

# coder_git_auth comes from templates written for Coder before v2 and is
# deprecated. It reads the token Coder obtained from the "github" git auth
# provider. Replace it with coder_external_auth, which works the same way:
#
#   data "coder_external_auth" "github" {
#     id = "github"
#   }
#
# and use data.coder_external_auth.github.access_token.
data "coder_git_auth" "github" {
  id = "github"
}

resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"
  env = {
    GITHUB_TOKEN = data.coder_git_auth.github.access_token
  }
}
