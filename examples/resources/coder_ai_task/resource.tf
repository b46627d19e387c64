terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

data "coder_workspace" "me" {}

# Inside a Coder Task, this holds the task's prompt.
data "coder_task" "me" {}

resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"
}

# The agent's chat interface, run by the agent.
resource "coder_app" "claude_code" {
  agent_id     = coder_agent.dev.id
  slug         = "claude-code"
  display_name = "Claude Code"
  icon         = "/icon/claude.svg"
  url          = "http://localhost:3284"
  subdomain    = false
}

# Makes the template usable for Coder Tasks, with the app above as the
# task's interface.
resource "coder_ai_task" "task" {
  count  = data.coder_workspace.me.start_count
  app_id = coder_app.claude_code.id
}

# Hand the prompt to the agent's process.
resource "coder_env" "prompt" {
  agent_id = coder_agent.dev.id
  name     = "CODER_MCP_CLAUDE_TASK_PROMPT"
  value    = data.coder_task.me.prompt
}
