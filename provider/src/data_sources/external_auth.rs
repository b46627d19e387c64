//! `data "coder_external_auth"`: requires the user to authenticate with an external provider
//! configured in the Coder deployment, and exposes the token Coder obtained.

use crate::cty::Value;
use crate::provider::CoderMeta;
use crate::schema::{Attribute, DataSource, Diagnostic, Diagnostics, Schema};

pub struct ExternalAuth;

const NAME: &str = "coder_external_auth";

/// The variable Coder sets to the access token of external auth provider `id` (used verbatim).
pub fn access_token_variable(id: &str) -> String {
    format!("CODER_EXTERNAL_AUTH_ACCESS_TOKEN_{id}")
}

impl DataSource<CoderMeta> for ExternalAuth {
    fn name(&self) -> &'static str {
        NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "Requires the workspace owner to sign in to an external auth provider configured \
             in Coder (GitHub, GitLab, a cloud, ...) and exposes the resulting access token.",
        )
        .version(1)
        .attr(
            Attribute::string("id").required().describe(
                "Id of the external auth provider as configured in the Coder deployment.",
            ),
        )
        .attr(
            Attribute::string("access_token")
                .computed()
                .sensitive()
                .describe("The access token Coder obtained from the provider; empty when none."),
        )
        // No default: left out, it stays null.
        .attr(Attribute::bool("optional").optional().describe(
            "When true, users may skip signing in to this provider when they create or update \
             a workspace.",
        ))
    }

    fn read(&self, meta: &CoderMeta, config: Value, diags: &mut Diagnostics) -> Value {
        read_access_token(meta, config, access_token_variable, diags)
    }
}

/// The read upstream shares with its predecessor `coder_git_auth`: the token from the variable
/// `variable(id)` names (empty when Coder passed none), and an error when `id` is empty.
pub(super) fn read_access_token(
    meta: &CoderMeta,
    config: Value,
    variable: fn(&str) -> String,
    diags: &mut Diagnostics,
) -> Value {
    let mut state = config.as_object().cloned().unwrap_or_default();
    let id = state
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if id.is_empty() {
        diags.push(Diagnostic::error("id is required"));
        return Value::Object(state);
    }
    let token = meta.env.or(&variable(&id), "").to_string();
    state.insert("access_token".to_string(), Value::string(token));
    Value::Object(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::testing::{read, read_error};

    #[test]
    fn token_comes_from_the_id_named_variable() {
        let state = read(
            NAME,
            &[("id", Value::string("github"))],
            &[("CODER_EXTERNAL_AUTH_ACCESS_TOKEN_github", "gho_123")],
        );
        assert_eq!(state.get_attr("id"), Some(&Value::string("github")));
        assert_eq!(
            state.get_attr("access_token"),
            Some(&Value::string("gho_123"))
        );
        assert_eq!(state.get_attr("optional"), Some(&Value::Null));
    }

    #[test]
    fn token_is_empty_when_not_passed() {
        let state = read(
            NAME,
            &[
                ("id", Value::string("gitlab")),
                ("optional", Value::bool(true)),
            ],
            &[],
        );
        assert_eq!(state.get_attr("access_token"), Some(&Value::string("")));
        assert_eq!(state.get_attr("optional"), Some(&Value::bool(true)));
    }

    #[test]
    fn empty_id_is_rejected() {
        let d = read_error(NAME, &[("id", Value::string(""))], &[]);
        assert_eq!(d.summary, "id is required");
    }
}
