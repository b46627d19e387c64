terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

# With instance identity, the agent proves which VM it runs on with the
# cloud's signed instance metadata instead of a token.
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  auth = "aws-instance-identity"
}

# Stands in for the VM (an aws_instance here; whose `id` is the EC2
# instance id). Its user data starts the agent.
resource "terraform_data" "vm" {
  input = {
    ami           = "ami-0123456789abcdef0"
    instance_type = "t3.large"
    user_data     = coder_agent.main.init_script
  }
}

# Coder links aws_instance, google_compute_instance and the azurerm virtual
# machines to their agent by itself. For any other kind of machine, tell it
# which instance belongs to which agent.
resource "coder_agent_instance" "main" {
  agent_id    = coder_agent.main.id
  instance_id = terraform_data.vm.id
}
