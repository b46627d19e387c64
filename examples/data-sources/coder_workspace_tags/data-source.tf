terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

data "coder_parameter" "cluster" {
  name         = "cluster"
  display_name = "Cluster"
  default      = "eu-1"
  option {
    name  = "Frankfurt"
    value = "eu-1"
  }
  option {
    name  = "Virginia"
    value = "us-1"
  }
}

# Builds of this template go only to provisioners carrying all these tags,
# so each workspace is built by a provisioner inside its chosen cluster.
data "coder_workspace_tags" "placement" {
  tags = {
    "cluster" = data.coder_parameter.cluster.value
    "os"      = "linux"
  }
}

resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"
}
