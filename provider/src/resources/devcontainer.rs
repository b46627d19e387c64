//! `coder_devcontainer` (Coder ≥ 2.21): a Dev Container the agent knows of and tries to start.
//! Coder runs it as a sub-agent, whose id the provider makes up at create.

use crate::cty::Value;
use crate::provider::CoderMeta;
use crate::schema::validators::string_not_empty;
use crate::schema::{Attribute, Diagnostics, Resource, Schema};

pub struct Devcontainer;

impl Resource<CoderMeta> for Devcontainer {
    fn name(&self) -> &'static str {
        "coder_devcontainer"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "A Dev Container the agent should know of and try to start automatically. Coder \
             runs it as a sub-agent of that agent.\n\n~> **Note:** Dev Containers need Coder \
             v2.21 or later.",
        )
        .version(1)
        .attr(
            Attribute::string("agent_id")
                .required()
                .force_new()
                .describe("The `id` of the `coder_agent` that runs the Dev Container."),
        )
        .attr(
            Attribute::string("workspace_folder")
                .required()
                .force_new()
                .validate(string_not_empty())
                .describe("Workspace folder of the Dev Container."),
        )
        .attr(
            Attribute::string("config_path")
                .optional()
                .force_new()
                .describe("Path of its configuration file (`devcontainer.json`)."),
        )
        // Not force-new: it only ever changes with the resource itself.
        .attr(
            Attribute::string("subagent_id")
                .computed()
                .describe("Id of the sub-agent that runs the Dev Container."),
        )
    }

    fn create(&self, _meta: &CoderMeta, mut planned: Value, _diags: &mut Diagnostics) -> Value {
        // Its own UUID, separate from the resource id (which the framework fills in).
        if let Some(slot) = planned.get_attr_mut("subagent_id") {
            if slot.is_unknown() {
                *slot = Value::string(uuid::Uuid::new_v4().to_string());
            }
        }
        planned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::testing::{errors, is_uuid, tf};

    const NAME: &str = "coder_devcontainer";

    #[test]
    fn gets_a_subagent_id_separate_from_its_id() {
        let t = tf(&[]);
        let config = t.config(
            NAME,
            &[
                ("agent_id", Value::string("agent")),
                ("workspace_folder", Value::string("/workspace")),
                (
                    "config_path",
                    Value::string("/workspace/.devcontainer/devcontainer.json"),
                ),
            ],
        );
        let (planned, state, _) = t.create(NAME, &config);
        assert_eq!(planned.get_attr("subagent_id"), Some(&Value::Unknown));
        assert!(is_uuid(state.get_attr("id")));
        assert!(is_uuid(state.get_attr("subagent_id")));
        assert_ne!(state.get_attr("id"), state.get_attr("subagent_id"));
    }

    #[test]
    fn workspace_folder_must_not_be_empty() {
        let t = tf(&[]);
        let config = t.config(
            NAME,
            &[
                ("agent_id", Value::string("agent")),
                ("workspace_folder", Value::string("")),
            ],
        );
        assert_eq!(
            errors(&t.validate(NAME, &config)),
            vec![r#"expected "workspace_folder" to not be an empty string, got "#.to_string()]
        );
    }
}
