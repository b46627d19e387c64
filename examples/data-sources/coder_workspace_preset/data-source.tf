terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

data "coder_parameter" "size" {
  name    = "size"
  default = "small"
  mutable = true
  option {
    name  = "Small (2 CPUs)"
    value = "small"
  }
  option {
    name  = "Large (8 CPUs)"
    value = "large"
  }
}

data "coder_parameter" "region" {
  name    = "region"
  default = "eu-west"
  option {
    name  = "Europe"
    value = "eu-west"
  }
  option {
    name  = "US"
    value = "us-east"
  }
}

# Presets fill in the parameters with one click; the keys are parameter names.
data "coder_workspace_preset" "everyday" {
  name        = "Everyday"
  description = "A small workspace in Europe."
  icon        = "/emojis/1f4bb.png"
  default     = true
  parameters = {
    size   = "small"
    region = "eu-west"
  }

  # Keep two workspaces of this preset built ahead of time, so users get one
  # instantly; rebuild any that sit unclaimed for a day. During European
  # office hours keep five.
  prebuilds {
    instances = 2

    expiration_policy {
      ttl = 86400
    }

    scheduling {
      timezone = "Europe/Berlin"
      schedule {
        cron      = "* 8-18 * * 1-5"
        instances = 5
      }
    }
  }
}

data "coder_workspace_preset" "big_build" {
  name        = "Big build"
  description = "Eight CPUs in the US, for compiling large projects."
  parameters = {
    size   = "large"
    region = "us-east"
  }
}

resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"
}

# Stands in for the VM of a real template, sized by the parameters.
resource "terraform_data" "vm" {
  input = {
    machine_type = data.coder_parameter.size.value == "large" ? "e2-standard-8" : "e2-standard-2"
    region       = data.coder_parameter.region.value
    token        = coder_agent.dev.token
  }
}
