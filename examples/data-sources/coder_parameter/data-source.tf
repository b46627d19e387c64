terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

# Chosen once, when the workspace is created: shown as radio buttons.
data "coder_parameter" "region" {
  name         = "region"
  display_name = "Region"
  description  = "Where the workspace runs. It cannot move later."
  icon         = "/emojis/1f30e.png"
  default      = "eu-west"
  order        = 1

  option {
    name  = "Europe (Frankfurt)"
    value = "eu-west"
    icon  = "/emojis/1f1ea-1f1fa.png"
  }
  option {
    name  = "US East (Virginia)"
    value = "us-east"
    icon  = "/emojis/1f1fa-1f1f8.png"
  }
  option {
    name  = "Asia Pacific (Sydney)"
    value = "ap-southeast"
    icon  = "/emojis/1f1e6-1f1fa.png"
  }
}

# A number shown as a slider; the disk can grow but never shrink.
data "coder_parameter" "disk_size" {
  name         = "disk_size"
  display_name = "Home disk size (GB)"
  type         = "number"
  form_type    = "slider"
  default      = 20
  mutable      = true
  order        = 2

  validation {
    min       = 10
    max       = 200
    monotonic = "increasing"
    error     = "Pick between {min} and {max} GB; {value} is out of range."
  }
}

# A checkbox.
data "coder_parameter" "dotfiles" {
  name        = "install_dotfiles"
  description = "Install your dotfiles repository at start."
  type        = "bool"
  default     = true
  mutable     = true
  order       = 3
}

# Free text checked against a regular expression.
data "coder_parameter" "repo" {
  name         = "repo"
  display_name = "Git repository"
  default      = "https://github.com/coder/coder"
  mutable      = true
  order        = 4

  validation {
    regex = "^https://[^ ]+$"
    error = "Use an https:// clone URL."
  }
}

# Several picks at once; the value is a JSON list.
data "coder_parameter" "ides" {
  name         = "ides"
  display_name = "IDEs"
  type         = "list(string)"
  form_type    = "multi-select"
  default      = jsonencode(["code-server"])
  mutable      = true
  order        = 5

  option {
    name  = "VS Code in the browser"
    value = "code-server"
  }
  option {
    name  = "JetBrains Gateway"
    value = "jetbrains"
  }
  option {
    name  = "Jupyter"
    value = "jupyter"
  }
}

# Asked on every start and forgotten afterwards.
data "coder_parameter" "reset_home" {
  name        = "reset_home"
  description = "Wipe the home directory on this start."
  type        = "bool"
  form_type   = "switch"
  default     = false
  mutable     = true
  ephemeral   = true
  order       = 6
}

locals {
  ides = jsondecode(data.coder_parameter.ides.value)
}

resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"
  env = {
    REPO             = data.coder_parameter.repo.value
    INSTALL_DOTFILES = data.coder_parameter.dotfiles.value
    RESET_HOME       = data.coder_parameter.reset_home.value
  }
}

resource "coder_app" "code_server" {
  count        = contains(local.ides, "code-server") ? 1 : 0
  agent_id     = coder_agent.dev.id
  slug         = "code-server"
  display_name = "VS Code"
  url          = "http://localhost:13337"
}

# Stands in for the disk a real template creates (a cloud volume).
resource "terraform_data" "home_disk" {
  input = {
    region  = data.coder_parameter.region.value
    size_gb = tonumber(data.coder_parameter.disk_size.value)
  }
}
