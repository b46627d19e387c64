//! `coder_env`: an environment variable the agent sets in the workspace. Several `coder_env`s
//! of one name are merged by Coder according to `merge_strategy`; the provider only records.

use crate::cty::Value;
use crate::provider::CoderMeta;
use crate::schema::validators::{one_of, string_match};
use crate::schema::{Attribute, Diagnostics, Resource, Schema};

pub struct CoderEnv;

impl Resource<CoderMeta> for CoderEnv {
    fn name(&self) -> &'static str {
        "coder_env"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "Sets an environment variable in a workspace. It cannot override a variable set by \
             the `env` of the `coder_agent` itself.",
        )
        .version(1)
        .attr(
            Attribute::string("agent_id")
                .required()
                .force_new()
                .describe("The `id` of the `coder_agent` whose environment gets the variable."),
        )
        .attr(
            Attribute::string("name")
                .required()
                .force_new()
                .validate(string_match(
                    "^[a-zA-Z_][a-zA-Z0-9_]*$",
                    "must be a valid environment variable name",
                ))
                .describe("Name of the variable."),
        )
        .attr(
            Attribute::string("value")
                .optional()
                .force_new()
                .describe("Value of the variable."),
        )
        .attr(
            Attribute::string("merge_strategy")
                .default(Value::string("replace"))
                .force_new()
                .validate(one_of(&["replace", "append", "prepend", "error"]))
                .describe(
                    "What happens when several `coder_env` resources set the same name: \
                     `replace` (the default) keeps the last value; `append` and `prepend` join \
                     the values with `:`; `error` fails the build. Appends and prepends apply \
                     in alphabetical order of the resources' addresses, and only combine \
                     `coder_env` values: to extend a variable the image already sets, such as \
                     `PATH`, reference it in the value (`\"$PATH:/usr/local/bin\"`), which the \
                     agent expands at startup.",
                ),
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
    use crate::provider::testing::{errors, is_uuid, tf, Tf};

    const NAME: &str = "coder_env";

    fn config(t: &Tf, name: &str, extra: &[(&str, Value)]) -> Value {
        let mut attrs = vec![
            ("agent_id", Value::string("king")),
            ("name", Value::string(name)),
        ];
        attrs.extend(extra.iter().cloned());
        t.config(NAME, &attrs)
    }

    #[test]
    fn merge_strategy_defaults_to_replace() {
        let t = tf(&[]);
        let (planned, state, _) = t.create(
            NAME,
            &config(
                &t,
                "MESSAGE",
                &[("value", Value::string("Believe in yourself"))],
            ),
        );
        assert_eq!(
            planned.get_attr("merge_strategy"),
            Some(&Value::string("replace"))
        );
        assert_eq!(
            state.get_attr("value"),
            Some(&Value::string("Believe in yourself"))
        );
        assert!(is_uuid(state.get_attr("id")));
    }

    #[test]
    fn a_missing_value_stays_null() {
        let t = tf(&[]);
        let (_, state, _) = t.create(NAME, &config(&t, "_X1", &[]));
        assert_eq!(state.get_attr("value"), Some(&Value::Null));
    }

    #[test]
    fn name_must_be_an_environment_variable_name() {
        let t = tf(&[]);
        for bad in ["1X", "A-B", "", "A B", "\u{c4}B"] {
            assert_eq!(
                errors(&t.validate(NAME, &config(&t, bad, &[]))),
                vec![
                    "invalid value for name (must be a valid environment variable name)"
                        .to_string()
                ],
                "{bad:?}"
            );
        }
    }

    #[test]
    fn merge_strategy_is_one_of_four() {
        let t = tf(&[]);
        for good in ["replace", "append", "prepend", "error"] {
            let c = config(&t, "PATH", &[("merge_strategy", Value::string(good))]);
            assert!(t.validate(NAME, &c).is_empty(), "{good}");
        }
        let c = config(&t, "PATH", &[("merge_strategy", Value::string("merge"))]);
        assert_eq!(
            errors(&t.validate(NAME, &c)),
            vec![r#"expected merge_strategy to be one of ["replace" "append" "prepend" "error"], got merge"#
                .to_string()]
        );
    }
}
