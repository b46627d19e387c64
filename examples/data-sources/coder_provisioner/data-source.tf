terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

# The platform of the provisioner running this build. Useful when the
# workspace runs on the same host, e.g. a local Docker daemon.
data "coder_provisioner" "me" {}

resource "coder_agent" "dev" {
  os   = data.coder_provisioner.me.os
  arch = data.coder_provisioner.me.arch
}
