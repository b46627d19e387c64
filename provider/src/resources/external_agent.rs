//! `coder_external_agent`: marks an agent as running outside the template's infrastructure
//! (started by hand with its token). Needs a Premium licence on the Coder side.

use crate::cty::Value;
use crate::provider::CoderMeta;
use crate::schema::{Attribute, Diagnostics, Resource, Schema};

pub struct ExternalAgent;

impl Resource<CoderMeta> for ExternalAgent {
    fn name(&self) -> &'static str {
        "coder_external_agent"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "Declares an agent of the workspace as external: it runs wherever you start it.\n\n\
             ~> **Warning:** External agents need a [Premium](https://coder.com/pricing) Coder \
             licence.",
        )
        .version(1)
        .attr(
            Attribute::string("agent_id")
                .required()
                .force_new()
                .describe("The `id` of the `coder_agent` that runs externally."),
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
    use crate::provider::testing::{is_uuid, tf};
    use crate::schema::ProviderServer;

    const NAME: &str = "coder_external_agent";

    #[test]
    fn records_the_agent_with_a_random_id() {
        let t = tf(&[]);
        assert_eq!(t.fw.schemas().resources[NAME].version, 1);
        let (_, state, _) = t.create(
            NAME,
            &t.config(NAME, &[("agent_id", Value::string("agent"))]),
        );
        assert!(is_uuid(state.get_attr("id")));
        assert_eq!(state.get_attr("agent_id"), Some(&Value::string("agent")));
    }
}
