//! `data "coder_git_auth"` (late 2022, removed upstream in v2.0.0): the Git-only predecessor of
//! `coder_external_auth`. Kept so templates of that era plan unchanged, with a deprecation
//! warning pointing at the replacement.

use crate::cty::Value;
use crate::provider::CoderMeta;
use crate::schema::{Attribute, DataSource, Diagnostic, Diagnostics, Schema};

use super::external_auth::read_access_token;

pub struct GitAuth;

const NAME: &str = "coder_git_auth";

/// Upstream's deprecation message for the type.
const DEPRECATION: &str = "Use the `coder_external_auth` data source instead.";

/// The variable Coder sets to the access token of git auth provider `id` (used verbatim).
pub fn access_token_variable(id: &str) -> String {
    format!("CODER_GIT_AUTH_ACCESS_TOKEN_{id}")
}

impl DataSource<CoderMeta> for GitAuth {
    fn name(&self) -> &'static str {
        NAME
    }

    fn schema(&self) -> Schema {
        let mut schema = Schema::new(
            "**Deprecated**: use `coder_external_auth`. Requires the workspace owner to sign in \
             to a Git provider configured in Coder and exposes the access token.",
        )
        .version(1)
        .attr(
            Attribute::string("id")
                .required()
                .describe("Id of the git auth provider as configured in the Coder deployment."),
        )
        .attr(
            Attribute::string("access_token")
                .computed()
                .sensitive()
                .describe("The access token Coder obtained from the provider; empty when none."),
        );
        schema.block.deprecated = true;
        schema
    }

    /// SDKv2 warns about a deprecated type whenever its configuration is validated.
    fn validate(&self, _config: &Value, diags: &mut Diagnostics) {
        diags.push(Diagnostic::warning("Deprecated Resource").detail(DEPRECATION));
    }

    fn read(&self, meta: &CoderMeta, config: Value, diags: &mut Diagnostics) -> Value {
        read_access_token(meta, config, access_token_variable, diags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::testing::{read, read_error, validate};
    use crate::schema::Severity;

    #[test]
    fn token_comes_from_the_id_named_variable() {
        let state = read(
            NAME,
            &[("id", Value::string("github"))],
            &[("CODER_GIT_AUTH_ACCESS_TOKEN_github", "ghp_1")],
        );
        assert_eq!(state.get_attr("id"), Some(&Value::string("github")));
        assert_eq!(
            state.get_attr("access_token"),
            Some(&Value::string("ghp_1"))
        );
    }

    #[test]
    fn accepted_with_a_warning_naming_the_replacement() {
        let diags = validate(NAME, &[("id", Value::string("github"))]);
        let d = &diags.0[0];
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(d.summary, "Deprecated Resource");
        assert!(d.detail.contains("coder_external_auth"));
        assert!(!diags.has_errors());
    }

    #[test]
    fn empty_id_is_rejected() {
        let d = read_error(NAME, &[("id", Value::string(""))], &[]);
        assert_eq!(d.summary, "id is required");
    }
}
