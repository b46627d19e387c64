//! `coder_app`: a shortcut in the dashboard to an application in the workspace, reached through
//! an agent (a URL it proxies, or a command it runs in a terminal) or an external link.

use regex::Regex;

use crate::cty::Value;
use crate::go;
use crate::provider::CoderMeta;
use crate::schema::validators::{go_quote, string_check};
use crate::schema::{
    Attribute, Block, Diagnostic, Diagnostics, NestedBlock, Resource, Schema, Validator,
};

pub struct App;

/// A slug becomes part of a hostname when the app is served on a subdomain.
const SLUG_PATTERN: &str = "^[a-z0-9](-?[a-z0-9])*$";

fn slug_validator() -> Validator {
    let re = Regex::new(SLUG_PATTERN);
    string_check(move |slug| match &re {
        Ok(re) if re.is_match(slug) => Ok(()),
        _ => Err(format!(
            "invalid \"coder_app\" slug, must be a valid hostname ({}, cannot contain two \
             consecutive hyphens or start/end with a hyphen): {}",
            go_quote(SLUG_PATTERN),
            go_quote(slug)
        )),
    })
}

/// Upstream's length limits count bytes (Go's `len`), whatever the message says.
fn max_len(max: usize, message: &'static str) -> Validator {
    string_check(move |s| {
        if s.len() > max {
            Err(message.to_string())
        } else {
            Ok(())
        }
    })
}

fn share_validator() -> Validator {
    string_check(|share| match share {
        "owner" | "authenticated" | "public" => Ok(()),
        other => Err(format!(
            "invalid app share {}, must be one of \"owner\", \"authenticated\", \"public\"",
            go_quote(other)
        )),
    })
}

fn open_in_validator() -> Validator {
    string_check(|open_in| match open_in {
        "tab" | "slim-window" => Ok(()),
        other => Err(format!(
            "invalid \"coder_app\" open_in value, must be one of \"tab\", \"slim-window\": {}",
            go_quote(other)
        )),
    })
}

fn healthcheck_block() -> NestedBlock {
    NestedBlock::set(
        "healthcheck",
        Block::new()
            .describe("How Coder checks that the app is up.")
            .attr(
                Attribute::string("url")
                    .required()
                    .force_new()
                    .describe("The URL to request, e.g. `http://localhost:13337/healthz`."),
            )
            .attr(
                Attribute::number("interval")
                    .required()
                    .force_new()
                    .describe("Seconds between checks."),
            )
            .attr(
                Attribute::number("threshold")
                    .required()
                    .force_new()
                    .describe("Failed checks in a row before the app counts as unhealthy."),
            ),
    )
    .max(1)
    .force_new()
    .conflicts_with(&["command"])
}

/// Upstream warns at create when a hidden app also sets something only a visible app shows.
fn hidden_warnings(planned: &Value) -> Vec<Diagnostic> {
    if planned.get_attr("hidden").and_then(Value::as_bool) != Some(true) {
        return Vec::new();
    }
    let non_empty = |name: &str| {
        planned
            .get_attr(name)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    let non_zero = |name: &str| {
        planned
            .get_attr(name)
            .and_then(Value::as_number)
            .is_some_and(|n| n.as_i64() != Some(0))
    };
    let mut warnings = Vec::new();
    if non_empty("display_name") {
        warnings.push(Diagnostic::warning("`display_name` set when app is hidden"));
    }
    if non_empty("icon") {
        warnings.push(Diagnostic::warning("`icon` set when app is hidden"));
    }
    if non_zero("order") {
        warnings.push(Diagnostic::warning("`order` set when app is hidden"));
    }
    warnings
}

impl Resource<CoderMeta> for App {
    fn name(&self) -> &'static str {
        "coder_app"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "Use this resource to define shortcuts to access applications in a workspace.",
        )
        .version(1)
        .attr(
            Attribute::string("agent_id")
                .required()
                .force_new()
                .describe("The `id` of the `coder_agent` that serves the app."),
        )
        .attr(
            Attribute::string("slug")
                .required()
                .force_new()
                .validate(slug_validator())
                .describe(
                    "A hostname-friendly name for the app, used in its URLs: lowercase letters, \
                     digits and single hyphens, not at either end.",
                ),
        )
        .attr(
            Attribute::string("display_name")
                .optional()
                .force_new()
                .validate(max_len(64, "display name is too long (max 64 characters)"))
                .describe("The name shown in the dashboard (at most 64 characters)."),
        )
        .attr(
            Attribute::string("icon")
                .optional()
                .force_new()
                .validate(go::url::validator())
                .describe(
                    "A URL of an icon shown in the dashboard. Coder's built-in icons are served \
                     under `/icon/`, e.g. `\"${data.coder_workspace.me.access_url}/icon/code.svg\"`.",
                ),
        )
        .attr(
            Attribute::string("command")
                .optional()
                .force_new()
                .conflicts_with(&["url", "subdomain"])
                .describe("A command run in a terminal when the app is opened."),
        )
        .attr(
            Attribute::string("url")
                .optional()
                .force_new()
                .conflicts_with(&["command"])
                .describe("The URL the agent proxies to, e.g. `http://localhost:8080`."),
        )
        .attr(
            Attribute::bool("subdomain")
                .optional()
                .force_new()
                .describe(
                    "Serve the app on a subdomain of the wildcard access URL instead of a path; \
                     needs a wildcard access URL in Coder.",
                ),
        )
        .attr(
            Attribute::string("share")
                .default(Value::string("owner"))
                .force_new()
                .validate(share_validator())
                .describe("Who may open the app: `owner`, `authenticated` or `public`."),
        )
        .attr(
            Attribute::bool("external")
                .default(Value::bool(false))
                .force_new()
                .conflicts_with(&["healthcheck", "command", "subdomain", "share"])
                .describe(
                    "Open `url` directly in the browser instead of through the agent (for \
                     links and custom protocols such as `vscode://`).",
                ),
        )
        .attr(
            Attribute::string("group")
                .optional()
                .force_new()
                .validate(max_len(64, "group name is too long (max 64 characters)"))
                .describe("Apps of one group are shown together (at most 64 characters)."),
        )
        .attr(
            Attribute::number("order")
                .optional()
                .force_new()
                .describe("Position of the app in the dashboard (ascending)."),
        )
        .attr(
            Attribute::bool("hidden")
                .default(Value::bool(false))
                .force_new()
                .describe("Keep the app out of the dashboard (it stays reachable)."),
        )
        .attr(
            Attribute::string("open_in")
                .default(Value::string("slim-window"))
                .force_new()
                .validate(open_in_validator())
                .describe("Where the app opens: `slim-window` or `tab`."),
        )
        .attr(
            Attribute::string("tooltip")
                .optional()
                .force_new()
                .validate(max_len(2048, "tooltip is too long (max 2048 characters)"))
                .describe("Markdown shown when hovering over the app (at most 2048 characters)."),
        )
        // Late-2022 (v0.6.x) arguments, removed upstream in v2.0.0; Coder still reads `name`
        // as the display name when `display_name` is empty.
        .attr(
            Attribute::string("name")
                .optional()
                .force_new()
                .conflicts_with(&["display_name"])
                .deprecated("`name` is deprecated in favor of `display_name`.")
                .describe("The name shown in the dashboard."),
        )
        .attr(
            Attribute::bool("relative_path")
                .optional()
                .force_new()
                .conflicts_with(&["subdomain"])
                .deprecated(
                    "`relative_path` is deprecated in favor of `subdomain`: \
                     relative_path = true is subdomain = false.",
                )
                .describe("Serve the app on a path rather than a subdomain."),
        )
        .block(healthcheck_block())
    }

    fn create(&self, _meta: &CoderMeta, planned: Value, diags: &mut Diagnostics) -> Value {
        for warning in hidden_warnings(&planned) {
            diags.push(warning);
        }
        planned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::testing::{errors, tf, warnings, Tf};

    const NAME: &str = "coder_app";

    fn app(t: &Tf, extra: &[(&str, Value)]) -> Value {
        let mut pairs = vec![
            (
                "agent_id",
                Value::string("5f5b9e4e-0000-4000-8000-000000000000"),
            ),
            ("slug", Value::string("code-server")),
        ];
        pairs.extend_from_slice(extra);
        t.config(NAME, &pairs)
    }

    fn validation_errors(extra: &[(&str, Value)]) -> Vec<String> {
        let t = tf(&[]);
        errors(&t.validate(NAME, &app(&t, extra)))
    }

    fn details(diags: &Diagnostics) -> Vec<String> {
        diags.iter().map(|d| d.detail.clone()).collect()
    }

    #[test]
    fn minimal_app_plans_defaults() {
        let t = tf(&[]);
        let (plan, state, diags) = t.create(NAME, &app(&t, &[]));
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(plan.get_attr("share"), Some(&Value::string("owner")));
        assert_eq!(plan.get_attr("external"), Some(&Value::bool(false)));
        assert_eq!(plan.get_attr("hidden"), Some(&Value::bool(false)));
        assert_eq!(
            plan.get_attr("open_in"),
            Some(&Value::string("slim-window"))
        );
        assert_eq!(plan.get_attr("subdomain"), Some(&Value::Null));
        assert!(crate::provider::testing::is_uuid(state.get_attr("id")));
    }

    #[test]
    fn slug_must_be_a_hostname() {
        for good in ["a", "code-server", "a1-b2-c3", "123"] {
            assert!(
                validation_errors(&[("slug", Value::string(good))]).is_empty(),
                "{good}"
            );
        }
        for bad in ["", "-a", "a-", "a--b", "Code", "a_b", "a.b"] {
            assert_eq!(
                validation_errors(&[("slug", Value::string(bad))]),
                vec![format!(
                    r#"invalid "coder_app" slug, must be a valid hostname ("^[a-z0-9](-?[a-z0-9])*$", cannot contain two consecutive hyphens or start/end with a hyphen): "{bad}""#
                )],
                "{bad}"
            );
        }
    }

    #[test]
    fn length_limits_count_bytes() {
        assert!(validation_errors(&[("display_name", Value::string("x".repeat(64)))]).is_empty());
        assert_eq!(
            validation_errors(&[("display_name", Value::string("x".repeat(65)))]),
            vec!["display name is too long (max 64 characters)"]
        );
        // 33 two-byte characters are 66 bytes.
        assert_eq!(
            validation_errors(&[("group", Value::string("é".repeat(33)))]),
            vec!["group name is too long (max 64 characters)"]
        );
        assert!(validation_errors(&[("tooltip", Value::string("x".repeat(2048)))]).is_empty());
        assert_eq!(
            validation_errors(&[("tooltip", Value::string("x".repeat(2049)))]),
            vec!["tooltip is too long (max 2048 characters)"]
        );
    }

    #[test]
    fn share_and_open_in_have_custom_messages() {
        assert_eq!(
            validation_errors(&[("share", Value::string("everyone"))]),
            vec![
                r#"invalid app share "everyone", must be one of "owner", "authenticated", "public""#
            ]
        );
        assert_eq!(
            validation_errors(&[("open_in", Value::string("window"))]),
            vec![
                r#"invalid "coder_app" open_in value, must be one of "tab", "slim-window": "window""#
            ]
        );
        assert!(validation_errors(&[
            ("share", Value::string("public")),
            ("open_in", Value::string("tab"))
        ])
        .is_empty());
    }

    #[test]
    fn icon_is_url_validated() {
        assert_eq!(
            validation_errors(&[("icon", Value::string("/icon%.svg"))]),
            vec![r#"parse "/icon%.svg": invalid URL escape "%.s""#]
        );
        assert!(validation_errors(&[("icon", Value::string("/icon/code.svg"))]).is_empty());
    }

    #[test]
    fn command_conflicts_with_url_and_subdomain() {
        let t = tf(&[]);
        let config = app(
            &t,
            &[
                ("command", Value::string("htop")),
                ("url", Value::string("http://localhost")),
                ("subdomain", Value::bool(false)),
            ],
        );
        let diags = t.validate(NAME, &config);
        assert_eq!(
            details(&diags),
            vec![
                r#""command": conflicts with url"#,
                r#""command": conflicts with subdomain"#,
                r#""url": conflicts with command"#,
            ]
        );
        assert!(errors(&diags)
            .iter()
            .all(|s| s == "Conflicting configuration arguments"));
    }

    #[test]
    fn external_conflicts_even_with_an_explicit_default_share() {
        let t = tf(&[]);
        let config = app(
            &t,
            &[
                ("external", Value::bool(true)),
                ("url", Value::string("vscode://open")),
                ("share", Value::string("owner")),
            ],
        );
        assert_eq!(
            details(&t.validate(NAME, &config)),
            vec![r#""external": conflicts with share"#]
        );
        let fine = app(
            &t,
            &[
                ("external", Value::bool(true)),
                ("url", Value::string("vscode://open")),
            ],
        );
        t.create(NAME, &fine);
    }

    #[test]
    fn healthcheck_conflicts_with_command() {
        let t = tf(&[]);
        let check = t.element(
            NAME,
            &["healthcheck"],
            &[
                ("url", Value::string("http://localhost:13337/healthz")),
                ("interval", Value::number_i64(5)),
                ("threshold", Value::number_i64(6)),
            ],
        );
        let config = app(
            &t,
            &[
                ("command", Value::string("htop")),
                ("healthcheck", Value::set(vec![check.clone()])),
            ],
        );
        assert_eq!(
            details(&t.validate(NAME, &config)),
            vec![r#""healthcheck": conflicts with command"#]
        );
        let fine = app(
            &t,
            &[
                ("url", Value::string("http://localhost:13337")),
                ("subdomain", Value::bool(true)),
                ("healthcheck", Value::set(vec![check])),
            ],
        );
        t.create(NAME, &fine);
    }

    #[test]
    fn hidden_app_warns_at_create_about_visible_only_settings() {
        let t = tf(&[]);
        let config = app(
            &t,
            &[
                ("hidden", Value::bool(true)),
                ("display_name", Value::string("Code")),
                ("icon", Value::string("/icon/code.svg")),
                ("order", Value::number_i64(2)),
            ],
        );
        let (_, _, diags) = t.create(NAME, &config);
        assert!(!diags.has_errors());
        assert_eq!(
            warnings(&diags),
            vec![
                "`display_name` set when app is hidden",
                "`icon` set when app is hidden",
                "`order` set when app is hidden",
            ]
        );
        let quiet = app(
            &t,
            &[
                ("hidden", Value::bool(true)),
                ("display_name", Value::string("")),
                ("order", Value::number_i64(0)),
            ],
        );
        assert!(warnings(&t.create(NAME, &quiet).2).is_empty());
    }

    #[test]
    fn late_2022_name_and_relative_path_warn() {
        let t = tf(&[]);
        let config = app(
            &t,
            &[
                ("name", Value::string("Code Server")),
                ("relative_path", Value::bool(true)),
            ],
        );
        let (_, state, diags) = t.create(NAME, &config);
        assert_eq!(
            warnings(&diags),
            vec!["Argument is deprecated", "Argument is deprecated"]
        );
        assert!(details(&diags)[0].contains("display_name"));
        assert!(details(&diags)[1].contains("subdomain"));
        assert_eq!(state.get_attr("name"), Some(&Value::string("Code Server")));
    }

    #[test]
    fn late_2022_aliases_conflict_with_their_replacements() {
        let t = tf(&[]);
        let config = app(
            &t,
            &[
                ("name", Value::string("a")),
                ("display_name", Value::string("b")),
                ("relative_path", Value::bool(true)),
                ("subdomain", Value::bool(true)),
            ],
        );
        let diags = t.validate(NAME, &config);
        let conflicts: Vec<_> = diags
            .iter()
            .filter(|d| d.summary == "Conflicting configuration arguments")
            .map(|d| d.detail.clone())
            .collect();
        assert_eq!(
            conflicts,
            vec![
                r#""name": conflicts with display_name"#,
                r#""relative_path": conflicts with subdomain"#,
            ]
        );
    }
}
