terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

# Whether this workspace runs a Coder Task, and the prompt it was given.
data "coder_task" "me" {}

resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"
}

# Give the agent's process the task's prompt, only in task workspaces.
resource "coder_env" "task_prompt" {
  count    = data.coder_task.me.enabled ? 1 : 0
  agent_id = coder_agent.dev.id
  name     = "TASK_PROMPT"
  value    = data.coder_task.me.prompt
}
