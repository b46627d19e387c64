terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

# A secret the workspace owner stored in Coder, exposed as the environment
# variable ANTHROPIC_API_KEY. A start build fails with the help message
# below when the owner has no such secret.
data "coder_secret" "anthropic" {
  env          = "ANTHROPIC_API_KEY"
  help_message = "Add your Anthropic API key under Account > Secrets as ANTHROPIC_API_KEY."
}

# A secret exposed as a file.
data "coder_secret" "aws" {
  file         = "~/.aws/credentials"
  help_message = "Add your AWS credentials file under Account > Secrets."
}

resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"
}

resource "coder_env" "anthropic" {
  agent_id = coder_agent.dev.id
  name     = "ANTHROPIC_API_KEY"
  value    = data.coder_secret.anthropic.value
}

resource "coder_script" "aws_credentials" {
  agent_id     = coder_agent.dev.id
  display_name = "AWS credentials"
  run_on_start = true
  script       = <<-EOT
    #!/bin/sh
    mkdir -p ~/.aws
    printf '%s' "$AWS_CREDENTIALS" > ~/.aws/credentials
    chmod 600 ~/.aws/credentials
  EOT
}

resource "coder_env" "aws_credentials" {
  agent_id = coder_agent.dev.id
  name     = "AWS_CREDENTIALS"
  value    = data.coder_secret.aws.value
}
