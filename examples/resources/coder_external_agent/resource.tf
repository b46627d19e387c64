terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

# The agent of a machine Terraform does not manage: a laptop, a bare-metal
# box, a VM from another system. Its owner starts the agent there with the
# command Coder shows on the workspace page (needs a Premium licence).
resource "coder_agent" "main" {
  os   = "linux"
  arch = "arm64"
}

resource "coder_external_agent" "main" {
  agent_id = coder_agent.main.id
}
