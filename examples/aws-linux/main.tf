# A Coder workspace template that runs each workspace on its own EC2 instance (Ubuntu).
#
# Workspace lifecycle:
#   - aws_instance.dev is persistent: its root disk (and so the user's home) is kept while the
#     workspace is stopped;
#   - aws_ec2_instance_state.dev follows the workspace's transition: the instance is running
#     while the workspace is started and stopped (not billed for compute) while it is stopped.
#
# The agent authenticates with the instance's identity document (auth = aws-instance-identity),
# so no agent token is passed to the instance.

terraform {
  required_providers {
    coder = {
      source  = "coder/coder"
      version = ">= 2.0.0"
    }
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

# User parameter: chosen when the workspace is created; moving a workspace to another region
# would replace its disk, so it cannot be changed afterwards.
data "coder_parameter" "region" {
  name         = "region"
  display_name = "Region"
  description  = "The AWS region the workspace runs in."
  type         = "string"
  default      = "us-east-1"
  mutable      = false
  icon         = "/emojis/1f30e.png"

  option {
    name  = "US East (N. Virginia)"
    value = "us-east-1"
    icon  = "/emojis/1f1fa-1f1f8.png"
  }
  option {
    name  = "US West (Oregon)"
    value = "us-west-2"
    icon  = "/emojis/1f1fa-1f1f8.png"
  }
  option {
    name  = "Europe (Frankfurt)"
    value = "eu-central-1"
    icon  = "/emojis/1f1ea-1f1fa.png"
  }
  option {
    name  = "Asia Pacific (Tokyo)"
    value = "ap-northeast-1"
    icon  = "/emojis/1f1ef-1f1f5.png"
  }
}

data "coder_parameter" "instance_type" {
  name         = "instance_type"
  display_name = "Instance type"
  description  = "Size of the workspace's instance; can be changed while the workspace is stopped."
  type         = "string"
  default      = "t3.medium"
  mutable      = true
  icon         = "/icon/memory.svg"

  option {
    name  = "2 vCPU, 4 GiB RAM"
    value = "t3.medium"
  }
  option {
    name  = "2 vCPU, 8 GiB RAM"
    value = "t3.large"
  }
  option {
    name  = "4 vCPU, 16 GiB RAM"
    value = "t3.xlarge"
  }
}

# Admin parameter: the network placement is the same for every workspace of the template.
variable "subnet_id" {
  description = "Subnet for workspace instances; empty for the region's default VPC"
  type        = string
  default     = ""
  sensitive   = true
}

provider "aws" {
  region = data.coder_parameter.region.value
}

provider "coder" {}

data "coder_workspace" "me" {}

data "coder_workspace_owner" "me" {}

data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"] # Canonical

  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"]
  }
  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

locals {
  linux_user = "coder"

  # What each instance type costs per day, shown to users next to the workspace (and counted
  # against their quota when quotas are enabled).
  daily_cost = {
    "t3.medium" = 1
    "t3.large"  = 2
    "t3.xlarge" = 4
  }

  # cloud-init: create the user once, and run the shell part on every boot (a stopped
  # workspace is a stopped instance, and the agent must start again when it boots).
  user_data = <<-EOT
    Content-Type: multipart/mixed; boundary="//"
    MIME-Version: 1.0

    --//
    Content-Type: text/cloud-config; charset="us-ascii"
    MIME-Version: 1.0
    Content-Transfer-Encoding: 7bit
    Content-Disposition: attachment; filename="cloud-config.txt"

    #cloud-config
    cloud_final_modules:
    - [scripts-user, always]
    hostname: ${lower(data.coder_workspace.me.name)}
    users:
    - name: ${local.linux_user}
      sudo: ALL=(ALL) NOPASSWD:ALL
      shell: /bin/bash

    --//
    Content-Type: text/x-shellscript; charset="us-ascii"
    MIME-Version: 1.0
    Content-Transfer-Encoding: 7bit
    Content-Disposition: attachment; filename="coder-agent.sh"

    #!/bin/bash
    # The agent's init script, base64-encoded so no quoting in it can break this file.
    echo '${base64encode(coder_agent.main.init_script)}' | base64 -d > /opt/coder-init.sh
    chmod 0755 /opt/coder-init.sh
    sudo -u ${local.linux_user} --login /opt/coder-init.sh
    --//--
  EOT
}

resource "coder_agent" "main" {
  arch = "amd64"
  os   = "linux"
  auth = "aws-instance-identity"

  startup_script = <<-EOT
    set -e
    if [ ! -x "$HOME/.local/bin/code-server" ]; then
      curl -fsSL https://code-server.dev/install.sh | sh -s -- --method=standalone --prefix="$HOME/.local"
    fi
    "$HOME/.local/bin/code-server" --auth none --port 13337 >/tmp/code-server.log 2>&1 &
  EOT

  env = {
    GIT_AUTHOR_NAME     = coalesce(data.coder_workspace_owner.me.full_name, data.coder_workspace_owner.me.name)
    GIT_AUTHOR_EMAIL    = data.coder_workspace_owner.me.email
    GIT_COMMITTER_NAME  = coalesce(data.coder_workspace_owner.me.full_name, data.coder_workspace_owner.me.name)
    GIT_COMMITTER_EMAIL = data.coder_workspace_owner.me.email
  }

  metadata {
    display_name = "CPU Usage"
    key          = "cpu_usage"
    script       = "coder stat cpu"
    interval     = 10
    timeout      = 1
  }

  metadata {
    display_name = "Home Disk"
    key          = "home_disk"
    script       = "coder stat disk --path $HOME"
    interval     = 60
    timeout      = 1
  }
}

resource "coder_app" "code_server" {
  agent_id     = coder_agent.main.id
  slug         = "code-server"
  display_name = "code-server"
  url          = "http://localhost:13337/?folder=/home/${local.linux_user}"
  icon         = "/icon/code.svg"
  subdomain    = false
  share        = "owner"

  healthcheck {
    url       = "http://localhost:13337/healthz"
    interval  = 5
    threshold = 6
  }
}

# Persistent: kept while the workspace is stopped. A new AMI release must not replace the
# instance (and its disk), hence ignore_changes.
resource "aws_instance" "dev" {
  ami           = data.aws_ami.ubuntu.id
  instance_type = data.coder_parameter.instance_type.value
  subnet_id     = var.subnet_id != "" ? var.subnet_id : null
  user_data     = local.user_data

  root_block_device {
    volume_size = 30
    volume_type = "gp3"
  }

  tags = {
    Name              = "coder-${data.coder_workspace_owner.me.name}-${data.coder_workspace.me.name}"
    Coder_Provisioned = "true"
  }

  lifecycle {
    ignore_changes = [ami]
  }
}

# Starts and stops the instance with the workspace.
resource "aws_ec2_instance_state" "dev" {
  instance_id = aws_instance.dev.id
  state       = data.coder_workspace.me.transition == "start" ? "running" : "stopped"
}

resource "coder_metadata" "instance_info" {
  resource_id = aws_instance.dev.id
  daily_cost  = local.daily_cost[data.coder_parameter.instance_type.value]

  item {
    key   = "region"
    value = data.coder_parameter.region.value
  }
  item {
    key   = "instance type"
    value = aws_instance.dev.instance_type
  }
  item {
    key   = "disk"
    value = "${aws_instance.dev.root_block_device[0].volume_size} GiB"
  }
}
