terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"
}

# Install dotfiles before anyone logs in; the dashboard shows its log.
resource "coder_script" "dotfiles" {
  agent_id           = coder_agent.dev.id
  display_name       = "Dotfiles"
  icon               = "/icon/dotfiles.svg"
  run_on_start       = true
  start_blocks_login = true
  timeout            = 300
  script             = <<-EOT
    #!/bin/sh
    set -e
    if [ ! -d ~/.dotfiles ]; then
      git clone https://github.com/example/dotfiles ~/.dotfiles
      ~/.dotfiles/install.sh
    fi
  EOT
}

# Runs alongside other start scripts without holding up logins.
resource "coder_script" "code_server" {
  agent_id     = coder_agent.dev.id
  display_name = "code-server"
  icon         = "/icon/code.svg"
  run_on_start = true
  log_path     = "code-server.log"
  script       = "code-server --auth none --port 13337 &"
}

# Every night at 02:30 (six fields: seconds come first).
resource "coder_script" "prune" {
  agent_id     = coder_agent.dev.id
  display_name = "Prune caches"
  cron         = "0 30 2 * * *"
  script       = "rm -rf ~/.cache/go-build ~/.npm/_cacache"
}

# Before the workspace stops.
resource "coder_script" "save_history" {
  agent_id     = coder_agent.dev.id
  display_name = "Save shell history"
  run_on_stop  = true
  script       = "cp ~/.bash_history ~/persist/ 2>/dev/null || true"
}
