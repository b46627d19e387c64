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

# Stands in for the container of a real template (a docker_container).
resource "terraform_data" "container" {
  count = data.coder_workspace.me.start_count
  input = {
    image = "codercom/enterprise-base:ubuntu"
    token = coder_agent.dev.token
  }
}

# Stands in for the persistent home volume (a docker_volume), which outlives
# stops and starts.
resource "terraform_data" "home" {
  input = "coder-${data.coder_workspace.me.id}-home"
}

# The dashboard shows these items next to the container.
resource "coder_metadata" "container" {
  count       = data.coder_workspace.me.start_count
  resource_id = terraform_data.container[0].id
  icon        = "/icon/docker.svg"
  daily_cost  = 30

  item {
    key   = "image"
    value = terraform_data.container[0].input.image
  }
  item {
    key       = "database password"
    value     = "correct-horse-battery-staple"
    sensitive = true
  }
  # An item without a value is shown as empty (`is_null` records that).
  item {
    key = "gpu"
  }
}

# Internal plumbing the user does not need to see.
resource "coder_metadata" "home" {
  resource_id = terraform_data.home.id
  hide        = true

  item {
    key   = "volume"
    value = terraform_data.home.output
  }
}
