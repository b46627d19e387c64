//! `coder_agent_instance`: ties a cloud instance id to an agent, so the agent can authenticate
//! with the instance's identity instead of a token. Coder makes this link by itself for
//! `google_compute_instance`, `aws_instance`, `azurerm_linux_virtual_machine` and
//! `azurerm_windows_virtual_machine`.

use crate::cty::Value;
use crate::provider::CoderMeta;
use crate::schema::{Attribute, Diagnostics, Resource, Schema};

pub struct AgentInstance;

impl Resource<CoderMeta> for AgentInstance {
    fn name(&self) -> &'static str {
        "coder_agent_instance"
    }

    /// Version 0: this type never got the bump to 1 the others received, and state written by
    /// the Go provider carries 0.
    fn schema(&self) -> Schema {
        Schema::new(
            "Links a cloud instance id to an agent for zero-trust (instance identity) \
             authentication. Not needed for `google_compute_instance`, `aws_instance`, \
             `azurerm_linux_virtual_machine` and `azurerm_windows_virtual_machine`, which Coder \
             links by itself.",
        )
        .version(0)
        .attr(
            Attribute::string("agent_id")
                .required()
                .force_new()
                .describe("The `id` of the `coder_agent` to link."),
        )
        .attr(
            Attribute::string("instance_id")
                .required()
                .force_new()
                .describe("The cloud provider's id of the instance the agent runs on."),
        )
    }

    fn create(&self, _meta: &CoderMeta, planned: Value, _diags: &mut Diagnostics) -> Value {
        // Only the id is unknown; the framework gives it a random UUID.
        planned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cty::AttributePath;
    use crate::provider::testing::{is_uuid, tf};
    use crate::schema::ProviderServer;

    const NAME: &str = "coder_agent_instance";

    #[test]
    fn links_an_instance_to_an_agent_with_a_random_id() {
        let t = tf(&[]);
        assert_eq!(t.fw.schemas().resources[NAME].version, 0);
        let config = t.config(
            NAME,
            &[
                ("agent_id", Value::string("agent")),
                ("instance_id", Value::string("i-0123456789")),
            ],
        );
        let (planned, state, _) = t.create(NAME, &config);
        assert_eq!(planned.get_attr("id"), Some(&Value::Unknown));
        assert!(is_uuid(state.get_attr("id")));
        assert_eq!(
            state.get_attr("instance_id"),
            Some(&Value::string("i-0123456789"))
        );
    }

    #[test]
    fn a_new_instance_id_replaces_it() {
        let t = tf(&[]);
        let config = |instance: &str| {
            t.config(
                NAME,
                &[
                    ("agent_id", Value::string("agent")),
                    ("instance_id", Value::string(instance)),
                ],
            )
        };
        let (_, state, _) = t.create(NAME, &config("a"));
        let plan = t.replan(NAME, &state, &config("b"));
        assert_eq!(
            plan.requires_replace,
            vec![AttributePath::root().attr("instance_id")]
        );
    }
}
