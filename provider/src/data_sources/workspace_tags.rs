//! `data "coder_workspace_tags"`: tags Coder uses to pick a provisioner for the workspace. The
//! provider only passes them through; Coder reads them from the plan.

use crate::cty::Value;
use crate::provider::CoderMeta;
use crate::schema::{Attribute, DataSource, Diagnostics, Schema};

pub struct WorkspaceTags;

const NAME: &str = "coder_workspace_tags";

impl DataSource<CoderMeta> for WorkspaceTags {
    fn name(&self) -> &'static str {
        NAME
    }

    fn schema(&self) -> Schema {
        Schema::new("Tags that select which provisioners may build the workspace.")
            .version(1)
            .attr(
                Attribute::map_of_string("tags")
                    .optional()
                    .describe("Tag names and values."),
            )
    }

    fn read(&self, _meta: &CoderMeta, config: Value, _diags: &mut Diagnostics) -> Value {
        let mut state = config.as_object().cloned().unwrap_or_default();
        // Upstream gives every read a fresh id, whatever the configuration says.
        state.insert(
            "id".to_string(),
            Value::string(uuid::Uuid::new_v4().to_string()),
        );
        Value::Object(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::testing::read;

    #[test]
    fn tags_pass_through() {
        let tags = Value::map([
            ("cluster", Value::string("developers")),
            ("os", Value::string("ubuntu")),
        ]);
        let state = read(NAME, &[("tags", tags.clone())], &[]);
        assert_eq!(state.get_attr("tags"), Some(&tags));
        let id = state.get_attr("id").and_then(Value::as_str).unwrap_or("");
        assert!(uuid::Uuid::parse_str(id).is_ok());
    }

    #[test]
    fn no_tags_is_fine() {
        let state = read(NAME, &[], &[]);
        assert_eq!(state.get_attr("tags"), Some(&Value::Null));
    }
}
