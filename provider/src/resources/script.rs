//! `coder_script`: a script the agent runs at start, at stop and/or on a cron schedule. Several
//! scripts on one agent run in parallel. Nothing is called; Coder reads it from state.

use crate::cty::Value;
use crate::go::cron::Parser;
use crate::provider::CoderMeta;
use crate::schema::validators::int_at_least;
use crate::schema::{Attribute, Diagnostic, Diagnostics, Resource, Schema, Validator};

pub struct Script;

const NEEDS_A_TRIGGER: &str =
    r#"at least one of "run_on_start", "run_on_stop", or "cron" must be set"#;
const LOGIN_BLOCK_NEEDS_START: &str =
    r#""start_blocks_login" can only be set if "run_on_start" is "true""#;

/// The cron check upstream attaches to `cron`: an error when robfig (seconds dialect) rejects
/// the expression, and a warning when it has five fields that read as classic Unix cron, since
/// Coder would then take the first field as seconds.
fn cron_validator() -> Validator {
    Validator::new(|value, path| {
        let Some(expr) = value.as_str() else {
            return Vec::new();
        };
        let mut diags = Vec::new();
        if expr.split_whitespace().count() == 5 && Parser::unix().parse(expr).is_ok() {
            diags.push(
                Diagnostic::warning(format!(
                    "The cron expression '{expr}' appears to be in Unix 5-field format. Coder \
                     uses 6-field format (seconds minutes hours day month day-of-week). Consider \
                     prefixing with '0 ' to run at the start of each minute: '0 {expr}'"
                ))
                .at(path.clone()),
            );
        }
        if let Err(e) = Parser::with_seconds().parse(expr) {
            diags.push(
                Diagnostic::error(format!("{expr} is not a valid cron expression: {e}"))
                    .at(path.clone()),
            );
        }
        diags
    })
}

/// The trigger rules upstream checks at create, in its order (only the first failure is
/// reported). `None` for a fact not known yet: a rule is only broken when the facts it needs
/// are known.
fn trigger_error(object: &Value) -> Option<&'static str> {
    let flag = |name: &str| match object.get_attr(name) {
        None | Some(Value::Null) => Some(false),
        Some(v) => v.as_bool(),
    };
    let has_cron = match object.get_attr("cron") {
        None | Some(Value::Null) => Some(false),
        Some(v) => v.as_str().map(|s| !s.is_empty()),
    };
    let run_on_start = flag("run_on_start");
    if run_on_start == Some(false) && flag("run_on_stop") == Some(false) && has_cron == Some(false)
    {
        return Some(NEEDS_A_TRIGGER);
    }
    if run_on_start == Some(false) && flag("start_blocks_login") == Some(true) {
        return Some(LOGIN_BLOCK_NEEDS_START);
    }
    None
}

impl Resource<CoderMeta> for Script {
    fn name(&self) -> &'static str {
        "coder_script"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "Runs a script on an agent: when it starts, when it stops, or on a cron schedule. \
             Scripts of the same agent run in parallel.",
        )
        .version(1)
        .attr(
            Attribute::string("agent_id")
                .required()
                .force_new()
                .describe("The `id` of the `coder_agent` that runs the script."),
        )
        .attr(
            Attribute::string("display_name")
                .required()
                .force_new()
                .describe("Name shown for the script's logs in the dashboard."),
        )
        .attr(
            Attribute::string("log_path")
                .optional()
                .force_new()
                .describe("File the script's output is written to; a relative path is taken under the temporary directory."),
        )
        .attr(
            Attribute::string("icon")
                .optional()
                .force_new()
                .describe(
                    "URL of an icon shown for the script in the dashboard. Coder's built-in \
                     icons are served under `/icon/`, e.g. \
                     `\"${data.coder_workspace.me.access_url}/icon/<path>\"`.",
                ),
        )
        .attr(
            Attribute::string("script")
                .required()
                .force_new()
                .describe("The script itself."),
        )
        .attr(
            Attribute::string("cron")
                .optional()
                .force_new()
                .validate(cron_validator())
                .describe(
                    "Schedule to run the script on, as a 6-field cron expression with seconds \
                     first: `seconds minutes hours day-of-month month day-of-week` (unlike \
                     Unix cron's 5 fields). For example `\"0 0 22 * * *\"` runs it daily at \
                     22:00, `\"0 */5 * * * *\"` every five minutes.",
                ),
        )
        .attr(
            Attribute::bool("start_blocks_login")
                .default(Value::bool(false))
                .force_new()
                .describe(
                    "Make users wait for this start script to finish before logging in, so \
                     they do not land in a half-prepared workspace. Users can still choose to \
                     log in earlier.",
                ),
        )
        .attr(
            Attribute::bool("run_on_start")
                .default(Value::bool(false))
                .force_new()
                .describe(
                    "Run the script when the agent starts. It should exit when done; the agent \
                     is ready after that.",
                ),
        )
        .attr(
            Attribute::bool("run_on_stop")
                .default(Value::bool(false))
                .force_new()
                .describe(
                    "Run the script when the agent stops. It should exit when done; the \
                     workspace stops after that.",
                ),
        )
        .attr(
            Attribute::number("timeout")
                .default(Value::number_i64(0))
                .force_new()
                .validate(int_at_least(1))
                .describe(
                    "Seconds the script may run before it is killed and the agent's lifecycle \
                     is marked as timed out. 0 (the default) means no limit.",
                ),
        )
    }

    /// Upstream only finds out at create that a script has nothing to trigger it; with a known
    /// configuration the same message comes at plan time already, before anything is applied.
    fn check_plan(&self, planned: &Value, diags: &mut Diagnostics) {
        if let Some(message) = trigger_error(planned) {
            diags.push(Diagnostic::error(message));
        }
    }

    fn create(&self, _meta: &CoderMeta, planned: Value, diags: &mut Diagnostics) -> Value {
        if let Some(message) = trigger_error(&planned) {
            diags.push(Diagnostic::error(message));
            return Value::Null;
        }
        planned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::testing::{errors, is_uuid, tf, warnings, Tf};

    const NAME: &str = "coder_script";

    fn config(t: &Tf, extra: &[(&str, Value)]) -> Value {
        let mut attrs = vec![
            ("agent_id", Value::string("agent")),
            ("display_name", Value::string("Hey")),
            ("script", Value::string("Wow")),
        ];
        attrs.extend(extra.iter().cloned());
        t.config(NAME, &attrs)
    }

    fn cron(t: &Tf, expr: &str) -> Diagnostics {
        t.validate(NAME, &config(t, &[("cron", Value::string(expr))]))
    }

    /// Plans and applies without stopping at plan errors, as if the plan had been accepted;
    /// returns the new state and the apply diagnostics.
    fn apply_anyway(t: &Tf, config: &Value) -> (Value, Diagnostics) {
        let plan = t.plan(NAME, config);
        let applied = t.apply(NAME, &plan.planned_state, config);
        (applied.new_state, applied.diagnostics)
    }

    #[test]
    fn a_start_script_plans_its_defaults() {
        let t = tf(&[]);
        let (planned, state, _) = t.create(
            NAME,
            &config(
                &t,
                &[
                    ("run_on_start", Value::bool(true)),
                    ("start_blocks_login", Value::bool(true)),
                ],
            ),
        );
        assert_eq!(planned.get_attr("run_on_stop"), Some(&Value::bool(false)));
        assert_eq!(planned.get_attr("timeout"), Some(&Value::number_i64(0)));
        assert_eq!(state.get_attr("cron"), Some(&Value::Null));
        assert!(is_uuid(state.get_attr("id")));
    }

    #[test]
    fn a_six_field_cron_alone_is_a_trigger() {
        let t = tf(&[]);
        let (_, state, diags) = t.create(
            NAME,
            &config(&t, &[("cron", Value::string("0 0 22 * * *"))]),
        );
        assert!(diags.is_empty());
        assert_eq!(state.get_attr("cron"), Some(&Value::string("0 0 22 * * *")));
        assert!(cron(&t, "30 0 9 * * 1-5").is_empty());
        assert!(cron(&t, "@every 1h").is_empty());
    }

    #[test]
    fn a_unix_five_field_cron_warns_but_is_valid() {
        let t = tf(&[]);
        let diags = cron(&t, "*/5 * * * *");
        assert!(errors(&diags).is_empty());
        assert_eq!(
            warnings(&diags),
            vec![
                "The cron expression '*/5 * * * *' appears to be in Unix 5-field format. Coder \
                  uses 6-field format (seconds minutes hours day month day-of-week). Consider \
                  prefixing with '0 ' to run at the start of each minute: '0 */5 * * * *'"
                    .to_string()
            ]
        );
        assert_eq!(warnings(&cron(&t, "* * * * *")).len(), 1);
    }

    #[test]
    fn an_invalid_cron_is_rejected_with_the_parser_error() {
        let t = tf(&[]);
        assert_eq!(
            errors(&cron(&t, "0 0 0 0 0 0 0")),
            vec![
                "0 0 0 0 0 0 0 is not a valid cron expression: expected 5 to 6 fields, found 7: \
                  [0 0 0 0 0 0 0]"
                    .to_string()
            ]
        );
        assert_eq!(
            errors(&cron(&t, "invalid")),
            vec!["invalid is not a valid cron expression: expected 5 to 6 fields, found 1: [invalid]"
                .to_string()]
        );
        assert_eq!(
            errors(&cron(&t, "")),
            vec![" is not a valid cron expression: empty spec string".to_string()]
        );
    }

    #[test]
    fn five_fields_invalid_in_both_dialects_error_without_warning() {
        // Day of month 0 is out of range in both dialects, so there is nothing to warn about.
        let t = tf(&[]);
        let diags = cron(&t, "0 0 0 0 *");
        assert!(warnings(&diags).is_empty());
        assert_eq!(
            errors(&diags),
            vec![
                "0 0 0 0 * is not a valid cron expression: beginning of range (0) below minimum \
                  (1): 0"
                    .to_string()
            ]
        );
    }

    #[test]
    fn no_trigger_fails_the_plan() {
        let t = tf(&[]);
        assert_eq!(
            errors(&t.plan(NAME, &config(&t, &[])).diagnostics),
            vec![
                r#"at least one of "run_on_start", "run_on_stop", or "cron" must be set"#
                    .to_string()
            ]
        );
    }

    #[test]
    fn no_trigger_also_fails_the_apply() {
        let t = tf(&[]);
        let (state, diags) = apply_anyway(&t, &config(&t, &[("run_on_stop", Value::bool(false))]));
        assert_eq!(errors(&diags), vec![NEEDS_A_TRIGGER.to_string()]);
        assert_eq!(state, Value::Null);
    }

    #[test]
    fn start_blocks_login_needs_run_on_start() {
        let t = tf(&[]);
        let c = config(
            &t,
            &[
                ("run_on_stop", Value::bool(true)),
                ("start_blocks_login", Value::bool(true)),
            ],
        );
        assert_eq!(
            errors(&t.plan(NAME, &c).diagnostics),
            vec![r#""start_blocks_login" can only be set if "run_on_start" is "true""#.to_string()]
        );
        let (_, diags) = apply_anyway(&t, &c);
        assert_eq!(errors(&diags), vec![LOGIN_BLOCK_NEEDS_START.to_string()]);
    }

    #[test]
    fn unknown_triggers_defer_the_check() {
        let t = tf(&[]);
        assert!(t
            .plan(NAME, &config(&t, &[("run_on_start", Value::Unknown)]))
            .diagnostics
            .is_empty());
        assert!(t
            .plan(NAME, &config(&t, &[("cron", Value::Unknown)]))
            .diagnostics
            .is_empty());
    }

    #[test]
    fn an_explicit_zero_timeout_is_rejected() {
        let t = tf(&[]);
        let diags = t.validate(
            NAME,
            &config(
                &t,
                &[
                    ("run_on_start", Value::bool(true)),
                    ("timeout", Value::number_i64(0)),
                ],
            ),
        );
        assert_eq!(
            errors(&diags),
            vec!["expected timeout to be at least (1), got 0".to_string()]
        );
        let ok = config(
            &t,
            &[
                ("run_on_start", Value::bool(true)),
                ("timeout", Value::number_i64(10)),
            ],
        );
        assert!(t.validate(NAME, &ok).is_empty());
    }
}
