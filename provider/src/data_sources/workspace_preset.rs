//! `data "coder_workspace_preset"`: a named set of parameter values users can pick when they
//! create a workspace, optionally kept warm as prebuilt workspaces on a schedule.

mod cron;
mod overlap;

use crate::cty::{AttributePath, Value};
use crate::go;
use crate::provider::CoderMeta;
use crate::schema::validators::{
    go_quote, int_at_least, string_check, string_len_between, string_not_empty,
};
use crate::schema::{
    Attribute, Block, DataSource, Diagnostic, Diagnostics, NestedBlock, Schema, Validator,
};

pub struct WorkspacePreset;

const NAME: &str = "coder_workspace_preset";

/// Prebuilds expire after at least an hour and at most a year; 0 turns expiry off.
const TTL_MIN: i64 = 3600;
const TTL_MAX: i64 = 31_536_000;

fn ttl_validator() -> Validator {
    Validator::new(|value: &Value, path: &AttributePath| {
        let n = value.as_i64();
        if matches!(n, Some(0) | Some(TTL_MIN..=TTL_MAX)) {
            return Vec::new();
        }
        let shown = n.map_or_else(|| format!("{value:?}"), |n| n.to_string());
        vec![Diagnostic::error(format!(
            "{} must be 0 or between {TTL_MIN} and {TTL_MAX}, got {shown}",
            go_quote(&path.flat_key())
        ))
        .at(path.clone())]
    })
}

/// Upstream loads `scheduling.timezone` with Go's `time.LoadLocation` and wraps its error.
fn check_timezone(name: &str) -> Result<(), String> {
    go::time::load_location(name)
        .map_err(|e| format!("failed to load timezone {}: {e}", go_quote(name)))
}

impl DataSource<CoderMeta> for WorkspacePreset {
    fn name(&self) -> &'static str {
        NAME
    }

    fn schema(&self) -> Schema {
        let schedule = Block::new()
            .attr(
                Attribute::string("cron")
                    .required()
                    .validate(string_check(cron::check_prebuild_cron))
                    .describe(
                        "When this schedule applies, as `* HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK`: \
                         the minute must be `*` so the schedule covers whole hours.",
                    ),
            )
            .attr(
                Attribute::number("instances")
                    .required()
                    .describe("How many prebuilt workspaces to keep while this schedule applies."),
            );
        let scheduling = Block::new()
            .attr(
                Attribute::string("timezone")
                    .required()
                    .validate(string_check(check_timezone))
                    .describe(
                        "IANA time zone the schedules are read in, such as `UTC` or \
                         `Europe/Berlin`.",
                    ),
            )
            .block(
                NestedBlock::list(
                    "schedule",
                    schedule.describe("Schedules that change the number of prebuilt workspaces."),
                )
                .min(1),
            );
        let expiration_policy = Block::new().attr(
            Attribute::number("ttl")
                .required()
                .force_new()
                .validate(ttl_validator())
                .describe(
                    "Seconds after which an unclaimed prebuilt workspace is replaced: 0 (never) \
                     or 3600 to 31536000.",
                ),
        );
        let prebuilds = Block::new()
            .attr(
                Attribute::number("instances")
                    .required()
                    .force_new()
                    .validate(int_at_least(0))
                    .describe("How many prebuilt workspaces to keep ready for this preset."),
            )
            .block(
                NestedBlock::set(
                    "expiration_policy",
                    expiration_policy.describe("When unclaimed prebuilt workspaces expire."),
                )
                .max(1),
            )
            .block(
                NestedBlock::list(
                    "scheduling",
                    scheduling.describe("Vary the number of prebuilt workspaces over time."),
                )
                .max(1),
            );

        Schema::new(
            "A named set of parameter values offered when a workspace is created; parameters \
             the preset leaves out stay editable. A preset may also keep prebuilt workspaces \
             ready.",
        )
        .version(1)
        .attr(
            Attribute::string("id")
                .computed()
                .describe("Identifies the preset; currently its name. Prefer `name`."),
        )
        .attr(
            Attribute::string("name")
                .required()
                .validate(string_not_empty())
                .describe("The preset's name."),
        )
        .attr(
            Attribute::string("description")
                .optional()
                .validate(string_len_between(0, 128))
                .describe("What the preset is for (at most 128 bytes)."),
        )
        .attr(
            Attribute::string("icon")
                .optional()
                .force_new()
                .validate(go::url::validator())
                .validate(string_len_between(0, 256))
                .describe("URL or path of an icon shown with the preset (at most 256 bytes)."),
        )
        .attr(
            Attribute::bool("default")
                .default(Value::bool(false))
                .describe("Select this preset by default; Coder allows one default per template."),
        )
        .attr(
            // Upstream declares its values non-empty, but SDKv2 never checks map elements, so
            // neither do we.
            Attribute::map_of_string("parameters").optional().describe(
                "Parameter values the preset sets, by parameter name. Names that the \
                     template does not (or no longer) define are allowed.",
            ),
        )
        .block(
            NestedBlock::set(
                "prebuilds",
                prebuilds.describe("Keep prebuilt workspaces of this preset ready to be claimed."),
            )
            .max(1),
        )
    }

    fn read(&self, _meta: &CoderMeta, config: Value, diags: &mut Diagnostics) -> Value {
        let mut state = config.as_object().cloned().unwrap_or_default();
        let crons = schedule_crons(&config);
        if let Err(e) = overlap::check_schedules(&crons) {
            diags.push(Diagnostic::error(format!(
                "schedules overlap with each other: {e}"
            )));
            return Value::Object(state);
        }
        let name = state.get("name").cloned().unwrap_or(Value::Null);
        state.insert("id".to_string(), name);
        Value::Object(state)
    }
}

/// The cron specs of `prebuilds[0].scheduling[0].schedule[*]`, in order.
fn schedule_crons(config: &Value) -> Vec<String> {
    let first = |v: Option<&Value>| v.and_then(Value::elements).and_then(|e| e.first()).cloned();
    let scheduling = first(config.get_attr("prebuilds"))
        .and_then(|prebuild| first(prebuild.get_attr("scheduling")));
    scheduling
        .as_ref()
        .and_then(|s| s.get_attr("schedule"))
        .and_then(Value::elements)
        .unwrap_or_default()
        .iter()
        .filter_map(|schedule| schedule.get_attr("cron").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::testing::{read, read_error, validate, validate_errors};

    fn prebuilds(instances: i64, extra: Vec<(&'static str, Value)>) -> Value {
        let mut attrs = vec![("instances", Value::number_i64(instances))];
        attrs.extend(extra);
        Value::Set(vec![Value::object(attrs)])
    }

    fn scheduling(timezone: &str, crons: &[&str]) -> Value {
        let schedules = crons
            .iter()
            .map(|c| {
                Value::object([
                    ("cron", Value::string(*c)),
                    ("instances", Value::number_i64(1)),
                ])
            })
            .collect();
        Value::List(vec![Value::object([
            ("timezone", Value::string(timezone)),
            ("schedule", Value::List(schedules)),
        ])])
    }

    fn preset_with_schedule(timezone: &str, crons: &[&str]) -> Vec<(&'static str, Value)> {
        vec![
            ("name", Value::string("dev")),
            (
                "prebuilds",
                prebuilds(1, vec![("scheduling", scheduling(timezone, crons))]),
            ),
        ]
    }

    #[test]
    fn id_is_the_name_and_default_is_false() {
        let params = Value::map([("region", Value::string("us"))]);
        let state = read(
            NAME,
            &[
                ("name", Value::string("Small")),
                ("parameters", params.clone()),
            ],
            &[],
        );
        assert_eq!(state.get_attr("id"), Some(&Value::string("Small")));
        assert_eq!(state.get_attr("default"), Some(&Value::bool(false)));
        assert_eq!(state.get_attr("parameters"), Some(&params));
    }

    #[test]
    fn name_must_not_be_empty() {
        let errors = validate_errors(NAME, &[("name", Value::string(""))]);
        assert_eq!(
            errors[0].summary,
            "expected \"name\" to not be an empty string, got "
        );
    }

    #[test]
    fn description_and_icon_lengths() {
        let errors = validate_errors(
            NAME,
            &[
                ("name", Value::string("p")),
                ("description", Value::string("x".repeat(129))),
            ],
        );
        assert!(errors[0]
            .summary
            .starts_with("expected length of description to be in the range (0 - 128), got"));
        let errors = validate_errors(
            NAME,
            &[
                ("name", Value::string("p")),
                ("icon", Value::string(format!("/icon/{}", "a".repeat(256)))),
            ],
        );
        assert!(errors[0]
            .summary
            .starts_with("expected length of icon to be in the range (0 - 256), got"));
    }

    #[test]
    fn negative_instances_are_rejected() {
        let errors = validate_errors(
            NAME,
            &[
                ("name", Value::string("p")),
                ("prebuilds", prebuilds(-1, vec![])),
            ],
        );
        assert_eq!(
            errors[0].summary,
            "expected prebuilds.0.instances to be at least (0), got -1"
        );
    }

    #[test]
    fn ttl_is_zero_or_an_hour_to_a_year() {
        let policy = |ttl: i64| {
            vec![(
                "expiration_policy",
                Value::Set(vec![Value::object([("ttl", Value::number_i64(ttl))])]),
            )]
        };
        for ok in [0, 3600, 86_400, 31_536_000] {
            let diags = validate(
                NAME,
                &[
                    ("name", Value::string("p")),
                    ("prebuilds", prebuilds(1, policy(ok))),
                ],
            );
            assert!(!diags.has_errors(), "ttl {ok}: {diags:?}");
        }
        for bad in [1, 3599, 31_536_001] {
            let errors = validate_errors(
                NAME,
                &[
                    ("name", Value::string("p")),
                    ("prebuilds", prebuilds(1, policy(bad))),
                ],
            );
            assert_eq!(
                errors[0].summary,
                format!(
                    "\"prebuilds.0.expiration_policy.0.ttl\" must be 0 or between 3600 and \
                     31536000, got {bad}"
                )
            );
        }
    }

    #[test]
    fn any_iana_timezone_loads() {
        for tz in [
            "UTC",
            "",
            "Local",
            "America/New_York",
            "Europe/Berlin",
            "Asia/Kolkata",
            "US/Pacific",
            "Etc/GMT+5",
        ] {
            let diags = validate(NAME, &preset_with_schedule(tz, &["* 8-18 * * 1-5"]));
            assert!(!diags.has_errors(), "{tz}: {diags:?}");
        }
    }

    #[test]
    fn unknown_timezone() {
        let errors = validate_errors(NAME, &preset_with_schedule("Mars/Olympus", &["* * * * *"]));
        assert_eq!(
            errors[0].summary,
            "failed to load timezone \"Mars/Olympus\": unknown time zone Mars/Olympus"
        );
        assert_eq!(
            errors[0].path,
            Some(
                AttributePath::root()
                    .attr("prebuilds")
                    .index(0)
                    .attr("scheduling")
                    .index(0)
                    .attr("timezone")
            )
        );
        let errors = validate_errors(NAME, &preset_with_schedule("../etc/passwd", &["* * * * *"]));
        assert_eq!(
            errors[0].summary,
            "failed to load timezone \"../etc/passwd\": time: invalid location name"
        );
    }

    #[test]
    fn cron_errors_surface_at_validation() {
        let errors = validate_errors(NAME, &preset_with_schedule("UTC", &["* 25-26 * * *"]));
        assert_eq!(
            errors[0].summary,
            "failed to parse cron spec: end of range (26) above maximum (23): 25-26"
        );
        let errors = validate_errors(NAME, &preset_with_schedule("UTC", &["0 8 * * *"]));
        assert_eq!(
            errors[0].summary,
            "cron spec failed validation: minute field should be *"
        );
        let errors = validate_errors(NAME, &preset_with_schedule("UTC", &["* 8 * *"]));
        assert_eq!(
            errors[0].summary,
            "cron spec failed validation: cron specification should consist of 5 fields"
        );
    }

    #[test]
    fn disjoint_schedules_read_fine() {
        let state = read(
            NAME,
            &preset_with_schedule("UTC", &["* 8-12 * * 1-5", "* 13-18 * * 1-5"]),
            &[],
        );
        assert_eq!(state.get_attr("id"), Some(&Value::string("dev")));
    }

    #[test]
    fn overlapping_schedules_fail_the_read() {
        let d = read_error(
            NAME,
            &preset_with_schedule("UTC", &["* 8-18 * * 1-5", "* 18-19 * * 5"]),
            &[],
        );
        assert_eq!(
            d.summary,
            "schedules overlap with each other: schedules overlap: * 8-18 * * 1-5 and \
             * 18-19 * * 5"
        );
    }

    #[test]
    fn schedules_the_overlap_checker_cannot_read() {
        // Valid for cron, but the overlap checker only knows numbers, ranges and lists.
        let d = read_error(
            NAME,
            &preset_with_schedule("UTC", &["* 8 * * MON", "* 9 * * TUE"]),
            &[],
        );
        assert_eq!(
            d.summary,
            "schedules overlap with each other: invalid schedule: invalid day range: invalid \
             value: strconv.Atoi: parsing \"MON\": invalid syntax"
        );
    }
}
