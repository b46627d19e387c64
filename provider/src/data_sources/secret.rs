//! `data "coder_secret"`: declares that the workspace needs one of the user's secrets, matched
//! by environment variable name or file path, and exposes its value during builds.

use crate::cty::Value;
use crate::provider::CoderMeta;
use crate::schema::validators::{go_quote, string_check};
use crate::schema::{Attribute, DataSource, Diagnostic, Diagnostics, Schema};

pub struct Secret;

const NAME: &str = "coder_secret";

/// The rule coderd applies when secrets are stored; shown verbatim in the error.
const POSIX_ENV_NAME: &str = "^[a-zA-Z_][a-zA-Z0-9_]*$";

fn is_posix_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Empty passes: the "exactly one of" check at read time gives the clearer message.
fn check_env(s: &str) -> Result<(), String> {
    if s.is_empty() || is_posix_env_name(s) {
        Ok(())
    } else {
        Err(format!(
            "`env` must be a POSIX-compliant identifier matching {}; got {}",
            go_quote(POSIX_ENV_NAME),
            go_quote(s)
        ))
    }
}

fn check_file(s: &str) -> Result<(), String> {
    if s.is_empty() || s.starts_with('/') || s.starts_with("~/") {
        Ok(())
    } else {
        Err(format!(
            "`file` must start with `/` or `~/`; got {}",
            go_quote(s)
        ))
    }
}

/// The variable carrying a secret matched by environment variable name (used verbatim).
pub fn env_secret_variable(env: &str) -> String {
    format!("CODER_SECRET_ENV_{env}")
}

/// The variable carrying a secret matched by file path: the path's bytes in lowercase hex,
/// since a path is not a valid variable name.
pub fn file_secret_variable(file: &str) -> String {
    let hex: String = file.bytes().map(|b| format!("{b:02x}")).collect();
    format!("CODER_SECRET_FILE_{hex}")
}

impl DataSource<CoderMeta> for Secret {
    fn name(&self) -> &'static str {
        NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "Declares one user secret the workspace needs, identified by an environment variable \
             name (`env`) or a file path (`file`); its value is available during builds.",
        )
        .version(1)
        .attr(
            Attribute::string("env")
                .optional()
                .force_new()
                .validate(string_check(check_env))
                .describe(
                    "Environment variable name the secret provides, a POSIX identifier such as \
                     `MY_TOKEN`. Set exactly one of `env` and `file`.",
                ),
        )
        .attr(
            Attribute::string("file")
                .optional()
                .force_new()
                .validate(string_check(check_file))
                .describe(
                    "File path the secret provides, starting with `/` or `~/`. Set exactly one \
                     of `env` and `file`.",
                ),
        )
        .attr(
            Attribute::string("help_message")
                .required()
                .describe("What to tell users who have not stored this secret yet (may be empty)."),
        )
        .attr(
            Attribute::string("value")
                .computed()
                .sensitive()
                .describe("The secret's value during builds; an empty value counts as missing."),
        )
    }

    fn read(&self, meta: &CoderMeta, config: Value, diags: &mut Diagnostics) -> Value {
        let env_vars = &meta.env;
        let mut state = config.as_object().cloned().unwrap_or_default();
        let text = |name: &str| {
            state
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let (env, file, help) = (text("env"), text("file"), text("help_message"));

        // Both empty and both set are the same error upstream.
        let (id, variable, requirement) = match (env.is_empty(), file.is_empty()) {
            (false, true) => (
                format!("env:{env}"),
                env_secret_variable(&env),
                format!("environment variable {}", go_quote(&env)),
            ),
            (true, false) => (
                format!("file:{file}"),
                file_secret_variable(&file),
                format!("file {}", go_quote(&file)),
            ),
            _ => {
                diags.push(Diagnostic::error(
                    "exactly one of `env` or `file` must be set",
                ));
                return Value::Object(state);
            }
        };
        state.insert("id".to_string(), Value::string(id));

        // An empty value counts as missing: Coder cannot tell "not stored" from "stored empty".
        let value = env_vars.or(&variable, "").to_string();
        // Only a real start build insists. Stop and delete builds, and local plans, go on with
        // "" so a deleted secret never makes a workspace unstoppable. Upstream compares the
        // transition with "start" exactly, with no default here (unlike coder_workspace).
        let start_build = env_vars.non_empty("CODER_WORKSPACE_BUILD_ID").is_some()
            && env_vars.lookup("CODER_WORKSPACE_TRANSITION") == Some("start");
        if value.is_empty() && start_build {
            let mut detail = format!("Required: {requirement}\n\n");
            if !help.is_empty() {
                detail.push_str(&format!("Help message: {help}\n\n"));
            }
            detail.push_str(&format!(
                "To resolve: ensure a secret exposes the {requirement}.\n"
            ));
            diags.push(
                Diagnostic::error(format!("Missing required secret: {requirement}")).detail(detail),
            );
            return Value::Object(state);
        }
        state.insert("value".to_string(), Value::string(value));
        Value::Object(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::testing::{read, read_error, validate_errors};

    const START_BUILD: [(&str, &str); 2] = [
        ("CODER_WORKSPACE_BUILD_ID", "build-1"),
        ("CODER_WORKSPACE_TRANSITION", "start"),
    ];

    fn env_secret(name: &str) -> Vec<(&'static str, Value)> {
        vec![
            ("env", Value::string(name)),
            ("help_message", Value::string("")),
        ]
    }

    #[test]
    fn env_secret_resolves_from_its_variable() {
        let state = read(
            NAME,
            &env_secret("MY_TOKEN"),
            &[("CODER_SECRET_ENV_MY_TOKEN", "s3cr3t")],
        );
        assert_eq!(state.get_attr("id"), Some(&Value::string("env:MY_TOKEN")));
        assert_eq!(state.get_attr("value"), Some(&Value::string("s3cr3t")));
    }

    #[test]
    fn file_secret_resolves_from_the_hex_named_variable() {
        assert_eq!(
            file_secret_variable("~/.aws/credentials"),
            "CODER_SECRET_FILE_7e2f2e6177732f63726564656e7469616c73"
        );
        let state = read(
            NAME,
            &[
                ("file", Value::string("~/.aws/credentials")),
                ("help_message", Value::string("")),
            ],
            &[(
                "CODER_SECRET_FILE_7e2f2e6177732f63726564656e7469616c73",
                "[default]",
            )],
        );
        assert_eq!(
            state.get_attr("id"),
            Some(&Value::string("file:~/.aws/credentials"))
        );
        assert_eq!(state.get_attr("value"), Some(&Value::string("[default]")));
    }

    #[test]
    fn neither_or_both_is_an_error() {
        let d = read_error(NAME, &[("help_message", Value::string(""))], &[]);
        assert_eq!(d.summary, "exactly one of `env` or `file` must be set");
        let d = read_error(
            NAME,
            &[
                ("env", Value::string("A")),
                ("file", Value::string("/a")),
                ("help_message", Value::string("")),
            ],
            &[],
        );
        assert_eq!(d.summary, "exactly one of `env` or `file` must be set");
    }

    #[test]
    fn missing_secret_outside_a_start_build_is_empty() {
        for env in [
            vec![],
            vec![("CODER_WORKSPACE_BUILD_ID", "b")],
            vec![
                ("CODER_WORKSPACE_BUILD_ID", "b"),
                ("CODER_WORKSPACE_TRANSITION", "stop"),
            ],
            vec![("CODER_WORKSPACE_TRANSITION", "start")],
        ] {
            let state = read(NAME, &env_secret("MISSING"), &env);
            assert_eq!(state.get_attr("value"), Some(&Value::string("")));
        }
    }

    #[test]
    fn missing_env_secret_on_start_fails_with_help() {
        let d = read_error(
            NAME,
            &[
                ("env", Value::string("DOES_NOT_EXIST")),
                (
                    "help_message",
                    Value::string("Please add the DOES_NOT_EXIST secret"),
                ),
            ],
            &START_BUILD,
        );
        assert_eq!(
            d.summary,
            "Missing required secret: environment variable \"DOES_NOT_EXIST\""
        );
        assert_eq!(
            d.detail,
            "Required: environment variable \"DOES_NOT_EXIST\"\n\n\
             Help message: Please add the DOES_NOT_EXIST secret\n\n\
             To resolve: ensure a secret exposes the environment variable \"DOES_NOT_EXIST\".\n"
        );
    }

    #[test]
    fn missing_file_secret_on_start_fails_without_help() {
        let d = read_error(
            NAME,
            &[
                ("file", Value::string("~/.missing/secret")),
                ("help_message", Value::string("")),
            ],
            &START_BUILD,
        );
        assert_eq!(
            d.summary,
            "Missing required secret: file \"~/.missing/secret\""
        );
        assert_eq!(
            d.detail,
            "Required: file \"~/.missing/secret\"\n\n\
             To resolve: ensure a secret exposes the file \"~/.missing/secret\".\n"
        );
    }

    #[test]
    fn env_must_be_a_posix_name() {
        let errors = validate_errors(NAME, &env_secret("1BAD-NAME"));
        assert_eq!(
            errors[0].summary,
            "`env` must be a POSIX-compliant identifier matching \
             \"^[a-zA-Z_][a-zA-Z0-9_]*$\"; got \"1BAD-NAME\""
        );
        assert_eq!(
            errors[0].path,
            Some(crate::cty::AttributePath::root().attr("env"))
        );
    }

    #[test]
    fn file_must_be_absolute_or_home_relative() {
        let errors = validate_errors(
            NAME,
            &[
                ("file", Value::string("relative/path")),
                ("help_message", Value::string("")),
            ],
        );
        assert_eq!(
            errors[0].summary,
            "`file` must start with `/` or `~/`; got \"relative/path\""
        );
    }
}
