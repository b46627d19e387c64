//! The provider's other types through real Terraform, on every version from
//! `terraform_versions` at once: resources `coder_metadata`, `coder_script`, `coder_env`,
//! `coder_agent_instance`, `coder_devcontainer`, `coder_ai_task`, `coder_external_agent`, and
//! data sources `coder_workspace_owner`, `coder_parameter`, `coder_provisioner`,
//! `coder_external_auth`, `coder_workspace_tags`, `coder_workspace_preset`, `coder_task`,
//! `coder_secret` and the late-2022 `coder_git_auth`. (`provider_coder_types.rs` covers the
//! provider block, `coder_agent`, `coder_app` and `data.coder_workspace`.)
//!
//! Success paths run with the variables Coder's control plane sets for a build, read the values
//! back from `terraform output`/`show -json`, check which attributes Terraform treats as
//! sensitive, and require an empty plan after apply. Errors are asserted with upstream's exact
//! text. Terraform reports the diagnostics of every block that fails on its own, so each group
//! of errors (caught by `validate`, at plan time, or only at apply) is one configuration with one
//! failing block per error, and one Terraform command checks them all.

use std::collections::BTreeSet;

use integration_tests::provider::{
    diagnostics, each_terraform, parameter_variable, previous_parameter_variable, resource_in,
    Diag, REQUIRED_PROVIDERS, WORKSPACE_BUILD_ENV,
};
use integration_tests::{Terraform, TfDir, TfOutput};
use serde_json::{json, Value};

/// A diagnostic a configuration must produce, at `address` (empty when Terraform names none).
struct Expected {
    severity: &'static str,
    address: &'static str,
    summary: &'static str,
    detail: &'static str,
}

const fn error(address: &'static str, summary: &'static str) -> Expected {
    error_with_detail(address, summary, "")
}

const fn error_with_detail(
    address: &'static str,
    summary: &'static str,
    detail: &'static str,
) -> Expected {
    Expected {
        severity: "error",
        address,
        summary,
        detail,
    }
}

const fn warning(address: &'static str, summary: &'static str, detail: &'static str) -> Expected {
    Expected {
        severity: "warning",
        address,
        summary,
        detail,
    }
}

/// Every expected diagnostic is there, word for word, and every error is an expected one (so
/// no block fails for a reason other than the one it was written for).
#[track_caller]
fn assert_diagnostics(out: &TfOutput, expected: &[Expected]) {
    let diags = diagnostics(out);
    let listing = || {
        diags
            .iter()
            .map(|d| {
                format!(
                    "  {} {} {:?} {:?}",
                    d.severity, d.address, d.summary, d.detail
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let missing: Vec<String> = expected
        .iter()
        .filter(|e| {
            !diags.iter().any(|d| {
                d.severity == e.severity
                    && d.address == e.address
                    && d.summary == e.summary
                    && d.detail == e.detail
            })
        })
        .map(|e| {
            format!(
                "  {} {} {:?} {:?}",
                e.severity, e.address, e.summary, e.detail
            )
        })
        .collect();
    let unexpected: Vec<&Diag> = diags
        .iter()
        .filter(|d| d.is_error())
        .filter(|d| {
            !expected
                .iter()
                .any(|e| e.address == d.address && e.summary == d.summary)
        })
        .collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "{} `terraform {}`\nmissing:\n{}\nunexpected errors: {unexpected:#?}\nall diagnostics:\n{}",
        out.terraform,
        out.args.join(" "),
        missing.join("\n"),
        listing()
    );
}

fn config(body: &str) -> String {
    format!("{REQUIRED_PROVIDERS}{body}")
}

/// A working directory with `body` and the variables of a start build.
fn build_dir(tf: &Terraform, body: &str) -> TfDir {
    let mut dir = TfDir::new(tf, &config(body));
    for (key, value) in WORKSPACE_BUILD_ENV {
        dir.set_env(key, value);
    }
    dir
}

/// `apply` (must succeed, no errors) and then a plan that proposes nothing.
fn apply_and_replan(dir: &TfDir) -> Vec<Diag> {
    dir.init().assert_success();
    let apply = dir
        .run(&[
            "apply",
            "-auto-approve",
            "-input=false",
            "-json",
            "-no-color",
        ])
        .assert_success();
    dir.assert_no_changes();
    diagnostics(&apply)
}

fn is_uuid(v: &Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

// ---------------------------------------------------------------------------------------------
// Errors: one configuration per phase, one failing block per error
// ---------------------------------------------------------------------------------------------

/// Caught by the schema's validators: `terraform validate` reports them without reading anything.
const VALIDATION_ERRORS: &str = r#"
resource "coder_metadata" "bad_icon" {
  resource_id = "container"
  icon        = "/icon%.svg"
}

resource "coder_script" "seven_fields" {
  agent_id     = "agent"
  display_name = "seven fields"
  script       = "true"
  cron         = "0 0 0 0 0 0 0"
}

resource "coder_script" "day_zero" {
  agent_id     = "agent"
  display_name = "day zero"
  script       = "true"
  cron         = "0 0 0 0 *"
}

resource "coder_script" "unix_cron" {
  agent_id     = "agent"
  display_name = "unix cron"
  script       = "true"
  cron         = "*/5 * * * *"
}

resource "coder_script" "zero_timeout" {
  agent_id     = "agent"
  display_name = "zero timeout"
  script       = "true"
  run_on_start = true
  timeout      = 0
}

resource "coder_env" "bad_name" {
  agent_id = "agent"
  name     = "1PATH"
}

resource "coder_env" "bad_strategy" {
  agent_id       = "agent"
  name           = "PATH"
  merge_strategy = "merge"
}

resource "coder_devcontainer" "empty_folder" {
  agent_id         = "agent"
  workspace_folder = ""
}

resource "coder_ai_task" "bad_app_id" {
  app_id = "claude"
}

resource "coder_ai_task" "bad_sidebar_app" {
  sidebar_app {
    id = "claude"
  }
}

resource "coder_ai_task" "both" {
  app_id = "5b0b6d4e-8f1a-4c2b-9d3e-7a6f5e4d3c2b"
  sidebar_app {
    id = "5b0b6d4e-8f1a-4c2b-9d3e-7a6f5e4d3c2b"
  }
}

data "coder_parameter" "bad_type" {
  name = "bad_type"
  type = "text"
}

data "coder_parameter" "bad_form_type" {
  name      = "bad_form_type"
  form_type = "combobox"
}

data "coder_parameter" "bad_icon" {
  name = "bad_icon"
  icon = "https://exa mple.com/x.svg"
}

data "coder_parameter" "bad_option_icon" {
  name = "bad_option_icon"
  option {
    name  = "A"
    value = "a"
    icon  = ":a"
  }
}

data "coder_parameter" "regex_and_min" {
  name = "regex_and_min"
  type = "number"
  validation {
    min       = 1
    monotonic = "increasing"
    regex     = "^[0-9]+$"
    error     = "digits"
  }
}

data "coder_workspace_preset" "empty_name" {
  name = ""
}

data "coder_workspace_preset" "long_texts" {
  name        = "long texts"
  description = format("%129s", "d")
  icon        = format("/icon/%251s", "i")
}

data "coder_workspace_preset" "bad_icon" {
  name = "bad icon"
  icon = "/icon%.svg"
}

data "coder_workspace_preset" "bad_prebuilds" {
  name = "bad prebuilds"
  prebuilds {
    instances = -1
    expiration_policy {
      ttl = 60
    }
  }
}

data "coder_workspace_preset" "bad_timezone" {
  name = "bad timezone"
  prebuilds {
    instances = 1
    scheduling {
      timezone = "Mars/Olympus"
      schedule {
        cron      = "* 8-18 * * 1-5"
        instances = 2
      }
    }
  }
}

data "coder_workspace_preset" "timezone_path" {
  name = "timezone path"
  prebuilds {
    instances = 1
    scheduling {
      timezone = "../etc/passwd"
      schedule {
        cron      = "* 8-18 * * 1-5"
        instances = 2
      }
    }
  }
}

data "coder_workspace_preset" "bad_crons" {
  name = "bad crons"
  prebuilds {
    instances = 1
    scheduling {
      timezone = "UTC"
      schedule {
        cron      = "* 25-26 * * *"
        instances = 1
      }
      schedule {
        cron      = "0 8 * * *"
        instances = 1
      }
      schedule {
        cron      = "* 8 * *"
        instances = 1
      }
    }
  }
}

data "coder_workspace_preset" "no_schedule" {
  name = "no schedule"
  prebuilds {
    instances = 1
    scheduling {
      timezone = "UTC"
    }
  }
}

data "coder_secret" "bad_env" {
  env          = "MY-TOKEN"
  help_message = ""
}

data "coder_secret" "bad_file" {
  file         = "aws/credentials"
  help_message = ""
}

data "coder_git_auth" "legacy" {
  id = "github"
}
"#;

const VALIDATION_EXPECTED: &[Expected] = &[
    error(
        "coder_metadata.bad_icon",
        r#"parse "/icon%.svg": invalid URL escape "%.s""#,
    ),
    error(
        "coder_script.seven_fields",
        "0 0 0 0 0 0 0 is not a valid cron expression: expected 5 to 6 fields, found 7: [0 0 0 0 0 0 0]",
    ),
    error(
        "coder_script.day_zero",
        "0 0 0 0 * is not a valid cron expression: beginning of range (0) below minimum (1): 0",
    ),
    warning(
        "coder_script.unix_cron",
        "The cron expression '*/5 * * * *' appears to be in Unix 5-field format. Coder uses \
         6-field format (seconds minutes hours day month day-of-week). Consider prefixing with \
         '0 ' to run at the start of each minute: '0 */5 * * * *'",
        "",
    ),
    error(
        "coder_script.zero_timeout",
        "expected timeout to be at least (1), got 0",
    ),
    error(
        "coder_env.bad_name",
        "invalid value for name (must be a valid environment variable name)",
    ),
    error(
        "coder_env.bad_strategy",
        r#"expected merge_strategy to be one of ["replace" "append" "prepend" "error"], got merge"#,
    ),
    error(
        "coder_devcontainer.empty_folder",
        r#"expected "workspace_folder" to not be an empty string, got "#,
    ),
    error(
        "coder_ai_task.bad_app_id",
        r#"expected "app_id" to be a valid UUID, got claude"#,
    ),
    error(
        "coder_ai_task.bad_sidebar_app",
        r#"expected "sidebar_app.0.id" to be a valid UUID, got claude"#,
    ),
    warning(
        "coder_ai_task.bad_sidebar_app",
        "Argument is deprecated",
        "This field has been deprecated in favor of the `app_id` field.",
    ),
    error_with_detail(
        "coder_ai_task.both",
        "Conflicting configuration arguments",
        r#""app_id": conflicts with sidebar_app"#,
    ),
    error_with_detail(
        "coder_ai_task.both",
        "Conflicting configuration arguments",
        r#""sidebar_app": conflicts with app_id"#,
    ),
    error(
        "data.coder_parameter.bad_type",
        r#"expected type to be one of ["string" "number" "bool" "list(string)"], got text"#,
    ),
    error(
        "data.coder_parameter.bad_form_type",
        r#"expected form_type to be one of ["radio" "slider" "input" "dropdown" "checkbox" "switch" "multi-select" "tag-select" "textarea" "error"], got combobox"#,
    ),
    error(
        "data.coder_parameter.bad_icon",
        r#"parse "https://exa mple.com/x.svg": invalid character " " in host name"#,
    ),
    error(
        "data.coder_parameter.bad_option_icon",
        r#"parse ":a": missing protocol scheme"#,
    ),
    error_with_detail(
        "data.coder_parameter.regex_and_min",
        "Conflicting configuration arguments",
        r#""validation.0.regex": conflicts with validation.0.min"#,
    ),
    error_with_detail(
        "data.coder_parameter.regex_and_min",
        "Conflicting configuration arguments",
        r#""validation.0.regex": conflicts with validation.0.monotonic"#,
    ),
    error(
        "data.coder_workspace_preset.empty_name",
        r#"expected "name" to not be an empty string, got "#,
    ),
    error(
        "data.coder_workspace_preset.long_texts",
        "expected length of description to be in the range (0 - 128), got                                                                                                                                 d",
    ),
    error(
        "data.coder_workspace_preset.long_texts",
        "expected length of icon to be in the range (0 - 256), got /icon/                                                                                                                                                                                                                                                          i",
    ),
    error(
        "data.coder_workspace_preset.bad_icon",
        r#"parse "/icon%.svg": invalid URL escape "%.s""#,
    ),
    error(
        "data.coder_workspace_preset.bad_prebuilds",
        "expected prebuilds.0.instances to be at least (0), got -1",
    ),
    error(
        "data.coder_workspace_preset.bad_prebuilds",
        r#""prebuilds.0.expiration_policy.0.ttl" must be 0 or between 3600 and 31536000, got 60"#,
    ),
    error(
        "data.coder_workspace_preset.bad_timezone",
        r#"failed to load timezone "Mars/Olympus": unknown time zone Mars/Olympus"#,
    ),
    error(
        "data.coder_workspace_preset.timezone_path",
        r#"failed to load timezone "../etc/passwd": time: invalid location name"#,
    ),
    error(
        "data.coder_workspace_preset.bad_crons",
        "failed to parse cron spec: end of range (26) above maximum (23): 25-26",
    ),
    error(
        "data.coder_workspace_preset.bad_crons",
        "cron spec failed validation: minute field should be *",
    ),
    error(
        "data.coder_workspace_preset.bad_crons",
        "cron spec failed validation: cron specification should consist of 5 fields",
    ),
    // `schedule` has MinItems 1; Terraform enforces it itself, in its own words.
    error_with_detail(
        "",
        "Insufficient schedule blocks",
        r#"At least 1 "schedule" blocks are required."#,
    ),
    error(
        "data.coder_secret.bad_env",
        r#"`env` must be a POSIX-compliant identifier matching "^[a-zA-Z_][a-zA-Z0-9_]*$"; got "MY-TOKEN""#,
    ),
    error(
        "data.coder_secret.bad_file",
        r#"`file` must start with `/` or `~/`; got "aws/credentials""#,
    ),
    warning(
        "data.coder_git_auth.legacy",
        "Deprecated Resource",
        "Use the `coder_external_auth` data source instead.",
    ),
];

#[test]
fn validate_reports_upstream_texts() {
    each_terraform(|tf| {
        let dir = TfDir::new(tf, &config(VALIDATION_ERRORS));
        dir.init().assert_success();
        let out = dir
            .run(&["validate", "-json", "-no-color"])
            .assert_failure();
        assert_diagnostics(&out, VALIDATION_EXPECTED);
    });
}

/// Valid configurations that fail when planned: plan-time checks of resources, and data
/// sources whose read fails, several of them because of what the control plane passed.
const PLAN_ERRORS: &str = r#"
resource "coder_metadata" "duplicate_keys" {
  resource_id = "container"
  item {
    key   = "image"
    value = "ubuntu"
  }
  item {
    key   = "image"
    value = "debian"
  }
}

resource "coder_script" "no_trigger" {
  agent_id     = "agent"
  display_name = "never runs"
  script       = "true"
}

resource "coder_script" "blocks_login_without_start" {
  agent_id           = "agent"
  display_name       = "stop only"
  script             = "true"
  run_on_stop        = true
  start_blocks_login = true
}

# CODER_WORKSPACE_OWNER_GROUPS is not JSON.
data "coder_workspace_owner" "bad_groups" {}

# CODER_TASK_ID is not a UUID.
data "coder_task" "bad_id" {}

data "coder_external_auth" "empty_id" {
  id = ""
}

data "coder_git_auth" "empty_id" {
  id = ""
}

data "coder_secret" "neither" {
  help_message = ""
}

data "coder_secret" "both" {
  env          = "GH_TOKEN"
  file         = "~/.config/gh/hosts.yml"
  help_message = ""
}

# A start build without these secrets.
data "coder_secret" "missing_env" {
  env          = "GH_TOKEN"
  help_message = "Store a GitHub token as GH_TOKEN under Account > Secrets."
}

data "coder_secret" "missing_file" {
  file         = "~/.netrc"
  help_message = ""
}

data "coder_workspace_preset" "overlapping" {
  name = "overlapping"
  prebuilds {
    instances = 1
    scheduling {
      timezone = "UTC"
      schedule {
        cron      = "* 8-18 * * 1-5"
        instances = 3
      }
      schedule {
        cron      = "* 18-19 * * 5"
        instances = 1
      }
    }
  }
}

data "coder_workspace_preset" "day_names" {
  name = "day names"
  prebuilds {
    instances = 1
    scheduling {
      timezone = "UTC"
      schedule {
        cron      = "* 8 * * MON"
        instances = 1
      }
      schedule {
        cron      = "* 9 * * TUE"
        instances = 1
      }
    }
  }
}

data "coder_parameter" "immutable_ephemeral" {
  name      = "immutable_ephemeral"
  default   = "x"
  ephemeral = true
}

data "coder_parameter" "ephemeral_without_default" {
  name      = "ephemeral_without_default"
  mutable   = true
  ephemeral = true
}

data "coder_parameter" "slider_string" {
  name      = "slider_string"
  form_type = "slider"
}

data "coder_parameter" "dropdown_without_options" {
  name      = "dropdown_without_options"
  form_type = "dropdown"
}

data "coder_parameter" "input_with_options" {
  name      = "input_with_options"
  form_type = "input"
  option {
    name  = "A"
    value = "a"
  }
}

data "coder_parameter" "error_form_type" {
  name      = "error_form_type"
  type      = "bool"
  form_type = "error"
}

data "coder_parameter" "duplicate_option_names" {
  name = "duplicate_option_names"
  option {
    name  = "Same"
    value = "1"
  }
  option {
    name  = "Same"
    value = "2"
  }
}

data "coder_parameter" "duplicate_option_values" {
  name = "duplicate_option_values"
  option {
    name  = "One"
    value = "1"
  }
  option {
    name  = "Uno"
    value = "1"
  }
}

data "coder_parameter" "option_not_a_number" {
  name = "option_not_a_number"
  type = "number"
  option {
    name  = "One"
    value = "one"
  }
}

data "coder_parameter" "default_not_an_option" {
  name    = "default_not_an_option"
  default = "c"
  option {
    name  = "A"
    value = "a"
  }
  option {
    name  = "B"
    value = "b"
  }
}

# The user cleared the field: an empty input still counts as input.
data "coder_parameter" "empty_input" {
  name = "empty_input"
  option {
    name  = "A"
    value = "a"
  }
}

data "coder_parameter" "input_not_an_option" {
  name = "input_not_an_option"
  option {
    name  = "Red"
    value = "red"
  }
  option {
    name  = "Blue"
    value = "blue"
  }
}

data "coder_parameter" "multi_select_not_json" {
  name      = "multi_select_not_json"
  type      = "list(string)"
  form_type = "multi-select"
  default   = "a"
  option {
    name  = "A"
    value = "a"
  }
}

data "coder_parameter" "multi_select_unknown_items" {
  name      = "multi_select_unknown_items"
  type      = "list(string)"
  form_type = "multi-select"
  default   = jsonencode(["a", "z", "y"])
  option {
    name  = "A"
    value = "a"
  }
  option {
    name  = "B"
    value = "b"
  }
}

data "coder_parameter" "below_min" {
  name    = "below_min"
  type    = "number"
  default = 1
  validation {
    min = 2
    max = 5
  }
}

data "coder_parameter" "above_max_custom_error" {
  name    = "above_max_custom_error"
  type    = "number"
  default = 9
  validation {
    min   = 1
    max   = 5
    error = "{value} is not between {min} and {max}"
  }
}

data "coder_parameter" "regex_mismatch" {
  name    = "regex_mismatch"
  default = "abc"
  validation {
    regex = "^[0-9]+$"
    error = "Digits only."
  }
}

data "coder_parameter" "regex_without_error" {
  name    = "regex_without_error"
  default = "123"
  validation {
    regex = "^[0-9]+$"
  }
}

data "coder_parameter" "regex_does_not_compile" {
  name    = "regex_does_not_compile"
  default = "x"
  validation {
    regex = "(x"
    error = "x"
  }
}

data "coder_parameter" "min_on_string" {
  name    = "min_on_string"
  default = "x"
  validation {
    min = 1
  }
}

# The previous build had 10.
data "coder_parameter" "not_increasing" {
  name    = "not_increasing"
  type    = "number"
  mutable = true
  default = 1
  validation {
    monotonic = "increasing"
  }
}

data "coder_parameter" "not_decreasing" {
  name    = "not_decreasing"
  type    = "number"
  mutable = true
  default = 1
  validation {
    monotonic = "decreasing"
  }
}

data "coder_parameter" "bad_monotonic" {
  name    = "bad_monotonic"
  type    = "number"
  default = 1
  validation {
    monotonic = "up"
  }
}

data "coder_parameter" "fraction_with_validation" {
  name    = "fraction_with_validation"
  type    = "number"
  default = "1.5"
  validation {
    min = 1
  }
}

data "coder_parameter" "bool_validation" {
  name    = "bool_validation"
  type    = "bool"
  default = "1"
  validation {}
}

data "coder_parameter" "max_on_bool" {
  name    = "max_on_bool"
  type    = "bool"
  default = true
  validation {
    max = 1
  }
}

data "coder_parameter" "monotonic_on_string" {
  name    = "monotonic_on_string"
  default = "x"
  validation {
    monotonic = "increasing"
  }
}

data "coder_parameter" "regex_on_number" {
  name    = "regex_on_number"
  type    = "number"
  default = 1
  validation {
    regex = "^1$"
    error = "One."
  }
}

data "coder_parameter" "above_max" {
  name    = "above_max"
  type    = "number"
  default = 6
  validation {
    min = 1
    max = 5
  }
}

data "coder_parameter" "not_a_number_custom_error" {
  name    = "not_a_number_custom_error"
  type    = "number"
  default = "many"
  validation {
    min   = 1
    max   = 3
    error = "Pick {min} to {max}, not {value}."
  }
}

data "coder_parameter" "list_validation" {
  name    = "list_validation"
  type    = "list(string)"
  default = "x"
  validation {}
}

data "coder_parameter" "not_a_number" {
  name    = "not_a_number"
  type    = "number"
  default = "ten"
}

data "coder_parameter" "input_not_a_bool" {
  name    = "input_not_a_bool"
  type    = "bool"
  default = false
}

data "coder_parameter" "not_a_list" {
  name    = "not_a_list"
  type    = "list(string)"
  default = "a,b"
}
"#;

const PLAN_EXPECTED: &[Expected] = &[
    error(
        "coder_metadata.duplicate_keys",
        r#"duplicate resource metadata key "image""#,
    ),
    error(
        "coder_script.no_trigger",
        r#"at least one of "run_on_start", "run_on_stop", or "cron" must be set"#,
    ),
    error(
        "coder_script.blocks_login_without_start",
        r#""start_blocks_login" can only be set if "run_on_start" is "true""#,
    ),
    error(
        "data.coder_workspace_owner.bad_groups",
        "invalid user groups: invalid character 'd' looking for beginning of value",
    ),
    error("data.coder_task.bad_id", "invalid UUID length: 16"),
    error("data.coder_external_auth.empty_id", "id is required"),
    error("data.coder_git_auth.empty_id", "id is required"),
    error(
        "data.coder_secret.neither",
        "exactly one of `env` or `file` must be set",
    ),
    error(
        "data.coder_secret.both",
        "exactly one of `env` or `file` must be set",
    ),
    error_with_detail(
        "data.coder_secret.missing_env",
        r#"Missing required secret: environment variable "GH_TOKEN""#,
        "Required: environment variable \"GH_TOKEN\"\n\nHelp message: Store a GitHub token as \
         GH_TOKEN under Account > Secrets.\n\nTo resolve: ensure a secret exposes the \
         environment variable \"GH_TOKEN\".\n",
    ),
    error_with_detail(
        "data.coder_secret.missing_file",
        r#"Missing required secret: file "~/.netrc""#,
        "Required: file \"~/.netrc\"\n\nTo resolve: ensure a secret exposes the file \
         \"~/.netrc\".\n",
    ),
    error(
        "data.coder_workspace_preset.overlapping",
        "schedules overlap with each other: schedules overlap: * 8-18 * * 1-5 and * 18-19 * * 5",
    ),
    error(
        "data.coder_workspace_preset.day_names",
        r#"schedules overlap with each other: invalid schedule: invalid day range: invalid value: strconv.Atoi: parsing "MON": invalid syntax"#,
    ),
    error(
        "data.coder_parameter.immutable_ephemeral",
        "parameter can't be immutable and ephemeral",
    ),
    error(
        "data.coder_parameter.ephemeral_without_default",
        "ephemeral parameter requires the default property",
    ),
    error_with_detail(
        "data.coder_parameter.slider_string",
        "Invalid form_type for parameter",
        r#""form_type" attribute="slider" is not supported for "type"="string", choose one of [input textarea]"#,
    ),
    error_with_detail(
        "data.coder_parameter.dropdown_without_options",
        "Invalid form_type for parameter",
        r#""form_type" attribute="dropdown" is not supported for "type"="string" when options do not exist, choose one of [input textarea]"#,
    ),
    error_with_detail(
        "data.coder_parameter.input_with_options",
        "Invalid form_type for parameter",
        r#""form_type" attribute="input" is not supported for "type"="string" when options exist, choose one of [radio dropdown]"#,
    ),
    error_with_detail(
        "data.coder_parameter.error_form_type",
        "Invalid form_type for parameter",
        r#""form_type" attribute="error" is not supported for "type"="bool", choose one of [checkbox switch]"#,
    ),
    error_with_detail(
        "data.coder_parameter.duplicate_option_names",
        "Option names must be unique.",
        r#"multiple options found with the same name "Same""#,
    ),
    error_with_detail(
        "data.coder_parameter.duplicate_option_values",
        "Option values must be unique.",
        r#"multiple options found with the same value "1""#,
    ),
    error_with_detail(
        "data.coder_parameter.option_not_a_number",
        r#"Option "One" with value="one" is not of type "number""#,
        r#""one" is not a number"#,
    ),
    error_with_detail(
        "data.coder_parameter.default_not_an_option",
        "Default value must be a valid option",
        r#"the value "c" must be defined as one of options"#,
    ),
    error_with_detail(
        "data.coder_parameter.empty_input",
        "Value must be a valid option. The value is empty, did you forget to set it with a \
         default or from user input?",
        r#"the value "" must be defined as one of options"#,
    ),
    error_with_detail(
        "data.coder_parameter.input_not_an_option",
        "Value must be a valid option",
        r#"the value "purple" must be defined as one of options"#,
    ),
    error_with_detail(
        "data.coder_parameter.multi_select_not_json",
        "When using list(string) type, value must be a json encoded list of strings",
        r#"value "a" is not a valid list of strings"#,
    ),
    error_with_detail(
        "data.coder_parameter.multi_select_unknown_items",
        "Default values must be a valid option",
        r#"Default value "[\"a\",\"z\",\"y\"]" is not a valid option, values "z, y" are missing from the options"#,
    ),
    error_with_detail(
        "data.coder_parameter.below_min",
        "Invalid parameter default value according to 'validation' block",
        "value 1 is less than the minimum 2",
    ),
    error_with_detail(
        "data.coder_parameter.above_max_custom_error",
        "Invalid parameter default value according to 'validation' block",
        "9 is not between 1 and 5",
    ),
    error_with_detail(
        "data.coder_parameter.regex_mismatch",
        "Invalid parameter default value according to 'validation' block",
        r#"Digits only. (value "abc" does not match "^[0-9]+$")"#,
    ),
    error_with_detail(
        "data.coder_parameter.regex_without_error",
        "Invalid parameter default value according to 'validation' block",
        "an error must be specified with a regex validation",
    ),
    error_with_detail(
        "data.coder_parameter.regex_does_not_compile",
        "Invalid parameter default value according to 'validation' block",
        "compile regex <nil>: error parsing regexp: missing closing ): `(x`",
    ),
    error_with_detail(
        "data.coder_parameter.min_on_string",
        "Invalid parameter default value according to 'validation' block",
        "a min cannot be specified for a string type",
    ),
    error_with_detail(
        "data.coder_parameter.not_increasing",
        "Invalid parameter value according to 'validation' block",
        "parameter value '5' must be equal or greater than previous value: 10",
    ),
    error_with_detail(
        "data.coder_parameter.not_decreasing",
        "Invalid parameter value according to 'validation' block",
        "parameter value '12' must be equal or lower than previous value: 10",
    ),
    error_with_detail(
        "data.coder_parameter.bad_monotonic",
        "Invalid parameter default value according to 'validation' block",
        r#"number monotonicity can be either "increasing" or "decreasing""#,
    ),
    error_with_detail(
        "data.coder_parameter.fraction_with_validation",
        "Invalid parameter default value according to 'validation' block",
        r#"value "1.5" is not a number"#,
    ),
    error_with_detail(
        "data.coder_parameter.bool_validation",
        "Invalid parameter default value according to 'validation' block",
        r#"boolean value can be either "true" or "false""#,
    ),
    error_with_detail(
        "data.coder_parameter.max_on_bool",
        "Invalid parameter default value according to 'validation' block",
        "a max cannot be specified for a bool type",
    ),
    error_with_detail(
        "data.coder_parameter.monotonic_on_string",
        "Invalid parameter default value according to 'validation' block",
        "monotonic validation can only be specified for number types, not string types",
    ),
    error_with_detail(
        "data.coder_parameter.regex_on_number",
        "Invalid parameter default value according to 'validation' block",
        "a regex cannot be specified for a number type",
    ),
    error_with_detail(
        "data.coder_parameter.above_max",
        "Invalid parameter default value according to 'validation' block",
        "value 6 is more than the maximum 5",
    ),
    error_with_detail(
        "data.coder_parameter.not_a_number_custom_error",
        "Invalid parameter default value according to 'validation' block",
        "Pick 1 to 3, not many.",
    ),
    error_with_detail(
        "data.coder_parameter.list_validation",
        "Invalid parameter default value according to 'validation' block",
        r#"value "x" is not valid list of strings"#,
    ),
    error_with_detail(
        "data.coder_parameter.not_a_number",
        r#"Parameter value is not of type "number""#,
        r#""ten" is not a number"#,
    ),
    error_with_detail(
        "data.coder_parameter.input_not_a_bool",
        r#"Parameter value is not of type "bool""#,
        r#""yes" is not a bool"#,
    ),
    error_with_detail(
        "data.coder_parameter.not_a_list",
        r#"Parameter value is not of type "list(string)""#,
        r#"value "a,b" is not a valid list of strings"#,
    ),
    warning(
        "data.coder_git_auth.empty_id",
        "Deprecated Resource",
        "Use the `coder_external_auth` data source instead.",
    ),
];

#[test]
fn plan_reports_upstream_texts() {
    each_terraform(|tf| {
        let mut dir = build_dir(tf, PLAN_ERRORS);
        dir.set_env("CODER_WORKSPACE_OWNER_GROUPS", "devs")
            .set_env("CODER_TASK_ID", "not-a-uuid-value")
            .set_env(&parameter_variable("empty_input"), "")
            .set_env(&parameter_variable("input_not_an_option"), "purple")
            .set_env(&parameter_variable("not_increasing"), "5")
            .set_env(&previous_parameter_variable("not_increasing"), "10")
            .set_env(&parameter_variable("not_decreasing"), "12")
            .set_env(&previous_parameter_variable("not_decreasing"), "10")
            .set_env(&parameter_variable("input_not_a_bool"), "yes");
        dir.init().assert_success();
        let out = dir
            .run(&["plan", "-json", "-no-color", "-input=false"])
            .assert_failure();
        assert_diagnostics(&out, PLAN_EXPECTED);
    });
}

/// Only known once the values they depend on are: upstream checks these at create.
const APPLY_ERRORS: &str = r#"
resource "terraform_data" "flags" {
  input = false
}

resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"
}

# Neither app_id nor sidebar_app.
resource "coder_ai_task" "no_app" {}

# Every trigger is false, but only known after terraform_data.flags is created.
resource "coder_script" "late_flags" {
  agent_id     = coder_agent.dev.id
  display_name = "late flags"
  script       = "true"
  run_on_start = terraform_data.flags.output
  run_on_stop  = terraform_data.flags.output
}
"#;

#[test]
fn apply_reports_upstream_texts() {
    each_terraform(|tf| {
        let dir = build_dir(tf, APPLY_ERRORS);
        dir.init().assert_success();
        dir.plan().assert_success();
        let out = dir
            .run(&[
                "apply",
                "-auto-approve",
                "-input=false",
                "-json",
                "-no-color",
            ])
            .assert_failure();
        assert_diagnostics(
            &out,
            &[
                error("coder_ai_task.no_app", "'app_id' must be set"),
                error(
                    "coder_script.late_flags",
                    r#"at least one of "run_on_start", "run_on_stop", or "cron" must be set"#,
                ),
            ],
        );
        // Nothing of the failed resources reached the state.
        let state = dir.run(&["state", "list"]).assert_success();
        let left: BTreeSet<&str> = state.stdout.lines().collect();
        assert_eq!(
            left,
            BTreeSet::from(["coder_agent.dev", "terraform_data.flags"]),
            "{tf}"
        );
    });
}

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

const RESOURCES: &str = r#"
data "coder_workspace" "me" {}

resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"
}

resource "terraform_data" "container" {
  count = data.coder_workspace.me.start_count
  input = "coder-${data.coder_workspace.me.id}"
}

resource "coder_metadata" "container" {
  count       = data.coder_workspace.me.start_count
  resource_id = terraform_data.container[0].id
  icon        = "/icon/docker.svg"
  daily_cost  = 42
  hide        = false
  item {
    key   = "image"
    value = "ubuntu:24.04"
  }
  item {
    key       = "password"
    value     = "hunter2"
    sensitive = true
  }
  item {
    key = "gpu"
  }
  item {
    key   = "explicit null"
    value = null
  }
}

resource "coder_script" "dotfiles" {
  agent_id           = coder_agent.dev.id
  display_name       = "Dotfiles"
  icon               = "/icon/dotfiles.svg"
  script             = "coder dotfiles -y https://github.com/example/dotfiles"
  run_on_start       = true
  start_blocks_login = true
  timeout            = 300
  log_path           = "dotfiles.log"
}

resource "coder_script" "nightly" {
  agent_id     = coder_agent.dev.id
  display_name = "Nightly"
  script       = "git -C ~/project fetch --all"
  cron         = "0 30 2 * * *"
}

resource "coder_script" "on_stop" {
  agent_id     = coder_agent.dev.id
  display_name = "Save state"
  script       = "tar czf ~/state.tgz ~/.local/state"
  run_on_stop  = true
}

resource "coder_env" "path" {
  agent_id       = coder_agent.dev.id
  name           = "PATH"
  value          = "/home/coder/bin:$PATH"
  merge_strategy = "prepend"
}

resource "coder_env" "no_value" {
  agent_id = coder_agent.dev.id
  name     = "_UNSET"
}

resource "coder_agent_instance" "vm" {
  agent_id    = coder_agent.dev.id
  instance_id = "i-0abc123def4567890"
}

resource "coder_devcontainer" "project" {
  agent_id         = coder_agent.dev.id
  workspace_folder = "/home/coder/project"
  config_path      = ".devcontainer/devcontainer.json"
}

resource "coder_external_agent" "laptop" {
  agent_id = coder_agent.dev.id
}
"#;

#[test]
fn resources_apply_and_replan_empty() {
    each_terraform(|tf| {
        let dir = build_dir(tf, RESOURCES);
        dir.init().assert_success();

        // Items without a value are settled at plan time already.
        let plan = dir.plan_json();
        let planned_items = plan["resource_changes"]
            .as_array()
            .and_then(|all| {
                all.iter()
                    .find(|r| r["address"] == "coder_metadata.container[0]")
            })
            .map(|r| r["change"]["after"]["item"].clone())
            .unwrap_or_default();
        assert_eq!(planned_items[2]["value"], "", "{tf}: {planned_items:#}");
        assert_eq!(planned_items[2]["is_null"], true, "{tf}: {planned_items:#}");
        assert_eq!(
            planned_items[0]["is_null"], false,
            "{tf}: {planned_items:#}"
        );

        let diags = apply_and_replan(&dir);
        assert!(diags.is_empty(), "{tf}: {diags:#?}");
        let show = dir.show_json();
        let values = |address: &str| resource_in(&show, address)["values"].clone();

        let metadata = values("coder_metadata.container[0]");
        let container = values("terraform_data.container[0]");
        assert_eq!(metadata["resource_id"], container["id"], "{tf}");
        assert_eq!(metadata["daily_cost"], 42, "{tf}");
        assert_eq!(metadata["hide"], false, "{tf}");
        assert_eq!(metadata["icon"], "/icon/docker.svg", "{tf}");
        assert_eq!(
            metadata["item"],
            json!([
                {"key": "image", "value": "ubuntu:24.04", "sensitive": false, "is_null": false},
                {"key": "password", "value": "hunter2", "sensitive": true, "is_null": false},
                {"key": "gpu", "value": "", "sensitive": false, "is_null": true},
                {"key": "explicit null", "value": "", "sensitive": false, "is_null": true},
            ]),
            "{tf}"
        );

        let agent_id = values("coder_agent.dev")["id"].clone();
        let dotfiles = values("coder_script.dotfiles");
        assert_eq!(dotfiles["agent_id"], agent_id, "{tf}");
        assert_eq!(dotfiles["run_on_start"], true, "{tf}");
        assert_eq!(dotfiles["run_on_stop"], false, "{tf}");
        assert_eq!(dotfiles["start_blocks_login"], true, "{tf}");
        assert_eq!(dotfiles["timeout"], 300, "{tf}");
        assert_eq!(dotfiles["log_path"], "dotfiles.log", "{tf}");
        assert_eq!(dotfiles["cron"], Value::Null, "{tf}");
        let nightly = values("coder_script.nightly");
        assert_eq!(nightly["cron"], "0 30 2 * * *", "{tf}");
        assert_eq!(nightly["run_on_start"], false, "{tf}");
        assert_eq!(nightly["timeout"], 0, "{tf}");
        assert_eq!(values("coder_script.on_stop")["run_on_stop"], true, "{tf}");

        let path = values("coder_env.path");
        assert_eq!(path["value"], "/home/coder/bin:$PATH", "{tf}");
        assert_eq!(path["merge_strategy"], "prepend", "{tf}");
        let no_value = values("coder_env.no_value");
        assert_eq!(no_value["value"], Value::Null, "{tf}");
        assert_eq!(no_value["merge_strategy"], "replace", "{tf}");

        let instance = values("coder_agent_instance.vm");
        assert_eq!(instance["instance_id"], "i-0abc123def4567890", "{tf}");
        assert_eq!(instance["agent_id"], agent_id, "{tf}");

        let devcontainer = values("coder_devcontainer.project");
        assert_eq!(
            devcontainer["workspace_folder"], "/home/coder/project",
            "{tf}"
        );
        assert_eq!(
            devcontainer["config_path"], ".devcontainer/devcontainer.json",
            "{tf}"
        );
        assert!(
            is_uuid(&devcontainer["subagent_id"]),
            "{tf}: {devcontainer:#}"
        );
        assert_ne!(devcontainer["subagent_id"], devcontainer["id"], "{tf}");

        assert_eq!(
            values("coder_external_agent.laptop")["agent_id"],
            agent_id,
            "{tf}"
        );

        // Every resource gets its own random id.
        let ids: BTreeSet<String> = [
            "coder_metadata.container[0]",
            "coder_script.dotfiles",
            "coder_script.nightly",
            "coder_script.on_stop",
            "coder_env.path",
            "coder_env.no_value",
            "coder_agent_instance.vm",
            "coder_devcontainer.project",
            "coder_external_agent.laptop",
        ]
        .iter()
        .map(|address| {
            let id = values(address)["id"].clone();
            assert!(is_uuid(&id), "{tf}: {address} id {id}");
            id.as_str().unwrap_or_default().to_string()
        })
        .collect();
        assert_eq!(ids.len(), 9, "{tf}: {ids:?}");

        // Stopping the workspace removes the container and its metadata only.
        dir.with_env(&[("CODER_WORKSPACE_TRANSITION", "stop")])
            .apply()
            .assert_success();
        let stopped = dir.run(&["state", "list"]).assert_success().stdout;
        assert!(
            !stopped.contains("coder_metadata.container"),
            "{tf}: {stopped}"
        );
        assert!(
            stopped.contains("coder_devcontainer.project"),
            "{tf}: {stopped}"
        );
        dir.with_env(&[("CODER_WORKSPACE_TRANSITION", "stop")])
            .plan_detailed_exitcode()
            .assert_code(0);
    });
}

const AI_TASK: &str = r#"
resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"
}

resource "coder_app" "chat" {
  agent_id     = coder_agent.dev.id
  slug         = "chat"
  display_name = "Chat"
  url          = "http://localhost:3284"
}

resource "coder_ai_task" "task" {
  app_id = coder_app.chat.id
}

resource "coder_ai_task" "sidebar" {
  sidebar_app {
    id = coder_app.chat.id
  }
}

data "coder_task" "me" {}
"#;

#[test]
fn ai_task_and_task_read_the_task_variables() {
    each_terraform(|tf| {
        // A build of a Coder Task; the id as the control plane may spell it.
        let task_id = "7A1C3E5B-9D2F-4B6A-8C0E-1F3D5B7A9C2E";
        let mut dir = build_dir(tf, AI_TASK);
        dir.set_env("CODER_TASK_ID", task_id)
            .set_env("CODER_TASK_PROMPT", "Make the flaky login test pass.");
        let diags = apply_and_replan(&dir);
        assert!(
            diags
                .iter()
                .any(|d| d.summary == "Argument is deprecated"
                    && d.address == "coder_ai_task.sidebar"),
            "{tf}: {diags:#?}"
        );
        let show = dir.show_json();
        let app_id = resource_in(&show, "coder_app.chat")["values"]["id"].clone();
        for address in ["coder_ai_task.task", "coder_ai_task.sidebar"] {
            let task = &resource_in(&show, address)["values"];
            assert_eq!(task["id"], task_id.to_lowercase(), "{tf}: {address}");
            assert_eq!(task["enabled"], true, "{tf}: {address}");
            assert_eq!(
                task["prompt"], "Make the flaky login test pass.",
                "{tf}: {address}"
            );
            assert_eq!(task["app_id"], app_id, "{tf}: {address}");
        }
        // The data source keeps the id as given.
        assert_eq!(
            resource_in(&show, "data.coder_task.me")["values"],
            json!({"id": task_id, "enabled": true, "prompt": "Make the flaky login test pass."}),
            "{tf}"
        );

        // A plain workspace build: the control plane sends the nil UUID and no prompt.
        let mut dir = build_dir(tf, AI_TASK);
        dir.set_env("CODER_TASK_ID", "00000000-0000-0000-0000-000000000000");
        apply_and_replan(&dir);
        let show = dir.show_json();
        let task = &resource_in(&show, "coder_ai_task.task")["values"];
        assert_eq!(task["enabled"], false, "{tf}");
        assert_eq!(task["prompt"], Value::Null, "{tf}");
        assert!(is_uuid(&task["id"]), "{tf}: {task:#}");
        assert_ne!(task["id"], "00000000-0000-0000-0000-000000000000", "{tf}");
        let data = &resource_in(&show, "data.coder_task.me")["values"];
        assert_eq!(data["enabled"], false, "{tf}");
        assert_eq!(data["prompt"], "", "{tf}");
        assert!(is_uuid(&data["id"]), "{tf}: {data:#}");
    });
}

// ---------------------------------------------------------------------------------------------
// Data sources
// ---------------------------------------------------------------------------------------------

const OWNER: &str = r#"
data "coder_workspace_owner" "me" {}

output "owner" {
  value     = data.coder_workspace_owner.me
  sensitive = true
}
"#;

#[test]
fn workspace_owner_reads_the_control_plane_values() {
    each_terraform(|tf| {
        let dir = build_dir(tf, OWNER);
        apply_and_replan(&dir);
        let show = dir.show_json();
        let owner = resource_in(&show, "data.coder_workspace_owner.me");
        assert_eq!(
            owner["values"],
            json!({
                "id": "6f1e4b8a-9c2d-4a7f-b3e5-0d8c2a6f4e19",
                "name": "alice",
                "full_name": "Alice Liddell",
                "email": "alice@example.com",
                "groups": ["Everyone", "data-science"],
                "rbac_roles": [
                    {"name": "owner", "org_id": ""},
                    {"name": "organization-member", "org_id": "0b7f3c2e-5a9d-4e1b-8c6f-3d2a1e0b9c87"},
                ],
                "login_type": "oidc",
                "ssh_public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0kzGz2yHxk7cTq1bqK0J0bC0d3r alice@coder",
                "ssh_private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----\n",
                "session_token": "Xk2pQ9vL7s-R4mN8bT1cW6yZ3hJ5fD0gA",
                "oidc_access_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl",
            }),
            "{tf}"
        );
        let sensitive = &owner["sensitive_values"];
        for secret in ["ssh_private_key", "session_token", "oidc_access_token"] {
            assert_eq!(sensitive[secret], true, "{tf}: {secret} in {sensitive:#}");
        }
        for public in ["ssh_public_key", "name", "email", "full_name", "id"] {
            assert!(
                sensitive.get(public).is_none(),
                "{tf}: {public} in {sensitive:#}"
            );
        }
        assert_eq!(dir.output_json()["owner"]["sensitive"], true, "{tf}");

        // The groups and roles variables are JSON whenever they are set, even when empty.
        let plan = dir
            .with_env(&[("CODER_WORKSPACE_OWNER_GROUPS", "")])
            .run(&["plan", "-json", "-no-color", "-input=false"])
            .assert_failure();
        assert_diagnostics(
            &plan,
            &[error(
                "data.coder_workspace_owner.me",
                "invalid user groups: EOF",
            )],
        );
        let plan = dir
            .with_env(&[("CODER_WORKSPACE_OWNER_RBAC_ROLES", "owner")])
            .run(&["plan", "-json", "-no-color", "-input=false"])
            .assert_failure();
        assert_diagnostics(
            &plan,
            &[error(
                "data.coder_workspace_owner.me",
                "invalid user rbac roles: invalid character 'o' looking for beginning of value",
            )],
        );

        // Without a control plane (a local `terraform apply`), the defaults.
        let dir = TfDir::new(tf, &config(OWNER));
        dir.init().assert_success();
        dir.apply().assert_success();
        let owner = &dir.output_json()["owner"]["value"];
        assert!(is_uuid(&owner["id"]), "{tf}: {owner:#}");
        assert_eq!(owner["name"], "default", "{tf}");
        assert_eq!(owner["full_name"], "default", "{tf}");
        assert_eq!(owner["email"], "default@example.com", "{tf}");
        assert_eq!(owner["groups"], json!([]), "{tf}");
        assert_eq!(owner["rbac_roles"], json!([]), "{tf}");
        assert_eq!(owner["login_type"], Value::Null, "{tf}");
        assert_eq!(owner["ssh_public_key"], "", "{tf}");
        assert_eq!(owner["session_token"], "", "{tf}");
    });
}

/// Names of the parameters of [`PARAMETERS`] the user answered, with their answers.
const PARAMETER_INPUTS: &[(&str, &str)] = &[
    ("region", "us-east"),
    ("disk_size", "50"),
    ("use_gpu", "false"),
    ("ides", r#"["code-server","jupyter"]"#),
    ("notes", ""),
    ("repo", "https://gitlab.example.com/team/project.git"),
    ("1024 options", "1000"),
];

const PARAMETERS: &str = r#"
data "coder_parameter" "region" {
  name         = "region"
  display_name = "Region"
  description  = "Where the workspace runs."
  icon         = "/emojis/1f30e.png"
  default      = "eu-west"
  order        = 1
  option {
    name        = "Europe"
    description = "Frankfurt"
    value       = "eu-west"
    icon        = "/emojis/1f1ea-1f1fa.png"
  }
  option {
    name  = "US"
    value = "us-east"
  }
}

# The previous build had 20; growing is allowed.
data "coder_parameter" "disk_size" {
  name      = "disk_size"
  type      = "number"
  form_type = "slider"
  default   = 20
  mutable   = true
  validation {
    min       = 10
    max       = 200
    monotonic = "increasing"
  }
}

# `min = 0` is a bound like any other.
data "coder_parameter" "cpus" {
  name    = "cpus"
  type    = "number"
  default = 2
  validation {
    min = 0
  }
}

data "coder_parameter" "use_gpu" {
  name    = "use_gpu"
  type    = "bool"
  default = true
  mutable = true
}

data "coder_parameter" "dotfiles" {
  name = "dotfiles"
  type = "bool"
}

data "coder_parameter" "ides" {
  name      = "ides"
  type      = "list(string)"
  form_type = "multi-select"
  default   = jsonencode(["code-server"])
  mutable   = true
  option {
    name  = "VS Code"
    value = "code-server"
  }
  option {
    name  = "JupyterLab"
    value = "jupyter"
  }
}

data "coder_parameter" "tags" {
  name    = "tags"
  type    = "list(string)"
  default = jsonencode([])
}

# The user cleared the field.
data "coder_parameter" "notes" {
  name      = "notes"
  form_type = "textarea"
  default   = "none"
  mutable   = true
}

data "coder_parameter" "repo" {
  name    = "repo"
  default = "https://github.com/coder/coder"
  mutable = true
  validation {
    regex = "^https://"
    error = "Use an https:// URL."
  }
}

data "coder_parameter" "reset_home" {
  name      = "reset_home"
  type      = "bool"
  form_type = "switch"
  default   = false
  mutable   = true
  ephemeral = true
}

data "coder_parameter" "many" {
  name = "1024 options"
  dynamic "option" {
    for_each = range(1024)
    content {
      name  = "Option ${option.value}"
      value = tostring(option.value)
    }
  }
}

output "parameters" {
  value = {
    for p in [
      data.coder_parameter.region, data.coder_parameter.disk_size, data.coder_parameter.cpus,
      data.coder_parameter.use_gpu, data.coder_parameter.dotfiles, data.coder_parameter.ides,
      data.coder_parameter.tags, data.coder_parameter.notes, data.coder_parameter.repo,
      data.coder_parameter.reset_home, data.coder_parameter.many,
    ] : p.name => {
      value     = p.value
      form_type = p.form_type
      optional  = p.optional
    }
  }
}

output "validation" {
  value = {
    disk_size = data.coder_parameter.disk_size.validation[0]
    cpus      = data.coder_parameter.cpus.validation[0]
  }
}

output "option_count" {
  value = length(data.coder_parameter.many.option)
}
"#;

#[test]
fn parameters_take_user_input_defaults_and_previous_values() {
    each_terraform(|tf| {
        let mut dir = build_dir(tf, PARAMETERS);
        for (name, value) in PARAMETER_INPUTS {
            dir.set_env(&parameter_variable(name), value);
        }
        dir.set_env(&previous_parameter_variable("disk_size"), "20");
        apply_and_replan(&dir);
        let out = dir.output_json();
        let row = |value: &str, form_type: &str, optional: bool| json!({"value": value, "form_type": form_type, "optional": optional});
        assert_eq!(
            out["parameters"]["value"],
            json!({
                "region": row("us-east", "radio", true),
                "disk_size": row("50", "slider", true),
                "cpus": row("2", "input", true),
                "use_gpu": row("false", "checkbox", true),
                "dotfiles": row("", "checkbox", false),
                "ides": row(r#"["code-server","jupyter"]"#, "multi-select", true),
                "tags": row("[]", "tag-select", true),
                "notes": row("", "textarea", true),
                "repo": row("https://gitlab.example.com/team/project.git", "input", true),
                "reset_home": row("false", "switch", true),
                "1024 options": row("1000", "radio", false),
            }),
            "{tf}"
        );
        assert_eq!(
            out["validation"]["value"],
            json!({
                "disk_size": {"min": 10, "min_disabled": false, "max": 200, "max_disabled": false,
                              "monotonic": "increasing", "regex": null, "error": null},
                "cpus": {"min": 0, "min_disabled": false, "max": null, "max_disabled": true,
                         "monotonic": null, "regex": null, "error": null},
            }),
            "{tf}"
        );
        // Ids are random on every read, so they are read from the state, not from outputs.
        let show = dir.show_json();
        let region = &resource_in(&show, "data.coder_parameter.region")["values"];
        assert_eq!(region["display_name"], "Region", "{tf}");
        assert_eq!(region["default"], "eu-west", "{tf}");
        assert_eq!(region["styling"], "{}", "{tf}");
        assert_eq!(region["mutable"], false, "{tf}");
        assert_eq!(region["ephemeral"], false, "{tf}");
        assert_eq!(region["order"], 1, "{tf}");
        assert_eq!(region["option"][0]["description"], "Frankfurt", "{tf}");
        assert!(is_uuid(&region["id"]), "{tf}: {region:#}");
        assert_eq!(out["option_count"]["value"], 1024, "{tf}");

        // Without input, the defaults.
        let dir = build_dir(tf, PARAMETERS);
        apply_and_replan(&dir);
        let values = &dir.output_json()["parameters"]["value"];
        assert_eq!(values["region"]["value"], "eu-west", "{tf}");
        assert_eq!(values["disk_size"]["value"], "20", "{tf}");
        assert_eq!(values["ides"]["value"], r#"["code-server"]"#, "{tf}");
        assert_eq!(values["notes"]["value"], "none", "{tf}");
        assert_eq!(
            values["repo"]["value"], "https://github.com/coder/coder",
            "{tf}"
        );
        assert_eq!(values["1024 options"]["value"], "", "{tf}");
    });
}

const SMALL_DATA_SOURCES: &str = r#"
data "coder_provisioner" "me" {}

data "coder_external_auth" "github" {
  id = "github"
}

data "coder_external_auth" "gitlab" {
  id       = "gitlab-self-hosted"
  optional = true
}

data "coder_external_auth" "not_signed_in" {
  id       = "jira"
  optional = false
}

data "coder_git_auth" "github" {
  id = "github"
}

data "coder_workspace_tags" "placement" {
  tags = {
    cluster = "eu-1"
    os      = data.coder_provisioner.me.os
  }
}

data "coder_secret" "gh_token" {
  env          = "GH_TOKEN"
  help_message = "Store a GitHub token as GH_TOKEN."
}

data "coder_secret" "netrc" {
  file         = "~/.netrc"
  help_message = ""
}

data "coder_workspace_preset" "everyday" {
  name        = "Everyday"
  description = "A small workspace in Europe."
  icon        = "/emojis/1f4bb.png"
  default     = true
  parameters = {
    region = "eu-west"
    size   = "small"
  }
  prebuilds {
    instances = 2
    expiration_policy {
      ttl = 86400
    }
    scheduling {
      timezone = "Europe/Berlin"
      schedule {
        cron      = "* 8-18 * * 1-5"
        instances = 5
      }
      schedule {
        cron      = "* 0-7 * * 1-5"
        instances = 0
      }
    }
  }
}

data "coder_workspace_preset" "plain" {
  name = "Plain"
}

output "preset" {
  value = data.coder_workspace_preset.everyday
}

output "plain_preset" {
  value = data.coder_workspace_preset.plain
}

output "external_auth" {
  value = {
    for a in [
      data.coder_external_auth.github, data.coder_external_auth.gitlab,
      data.coder_external_auth.not_signed_in,
    ] : a.id => a
  }
  sensitive = true
}

output "git_auth" {
  value     = data.coder_git_auth.github
  sensitive = true
}

output "secrets" {
  value     = [data.coder_secret.gh_token, data.coder_secret.netrc]
  sensitive = true
}
"#;

/// `std::env::consts` names as Go's `runtime.GOOS`/`GOARCH` (32-bit ARM as `armv7`).
fn go_platform() -> (&'static str, &'static str) {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "armv7",
        other => other,
    };
    (std::env::consts::OS, arch)
}

#[test]
fn small_data_sources_read_the_control_plane_values() {
    // hex("~/.netrc")
    let netrc_variable = "CODER_SECRET_FILE_7e2f2e6e65747263";
    each_terraform(|tf| {
        let mut dir = build_dir(tf, SMALL_DATA_SOURCES);
        dir.set_env("CODER_EXTERNAL_AUTH_ACCESS_TOKEN_github", "gho_abc123")
            .set_env(
                "CODER_EXTERNAL_AUTH_ACCESS_TOKEN_gitlab-self-hosted",
                "glpat-xyz789",
            )
            .set_env("CODER_GIT_AUTH_ACCESS_TOKEN_github", "gho_legacy")
            .set_env("CODER_SECRET_ENV_GH_TOKEN", "ghp_secret")
            .set_env(netrc_variable, "machine example.com login alice");
        let diags = apply_and_replan(&dir);
        assert!(
            diags.iter().any(|d| d.summary == "Deprecated Resource"
                && d.address == "data.coder_git_auth.github"
                && d.detail == "Use the `coder_external_auth` data source instead."),
            "{tf}: {diags:#?}"
        );
        let out = dir.output_json();
        let show = dir.show_json();

        let (os, arch) = go_platform();
        let provisioner = &resource_in(&show, "data.coder_provisioner.me")["values"];
        assert_eq!(provisioner["os"], os, "{tf}");
        assert_eq!(provisioner["arch"], arch, "{tf}");
        assert!(is_uuid(&provisioner["id"]), "{tf}: {provisioner:#}");

        let tags = &resource_in(&show, "data.coder_workspace_tags.placement")["values"];
        assert_eq!(tags["tags"], json!({"cluster": "eu-1", "os": os}), "{tf}");
        assert!(is_uuid(&tags["id"]), "{tf}: {tags:#}");

        assert_eq!(
            out["preset"]["value"],
            json!({
                "id": "Everyday",
                "name": "Everyday",
                "description": "A small workspace in Europe.",
                "icon": "/emojis/1f4bb.png",
                "default": true,
                "parameters": {"region": "eu-west", "size": "small"},
                "prebuilds": [{
                    "instances": 2,
                    "expiration_policy": [{"ttl": 86400}],
                    "scheduling": [{
                        "timezone": "Europe/Berlin",
                        "schedule": [
                            {"cron": "* 8-18 * * 1-5", "instances": 5},
                            {"cron": "* 0-7 * * 1-5", "instances": 0},
                        ],
                    }],
                }],
            }),
            "{tf}"
        );
        let plain = &out["plain_preset"]["value"];
        assert_eq!(plain["id"], "Plain", "{tf}");
        assert_eq!(plain["default"], false, "{tf}");
        assert_eq!(plain["prebuilds"], json!([]), "{tf}");

        assert_eq!(
            out["external_auth"]["value"],
            json!({
                "github": {"id": "github", "access_token": "gho_abc123", "optional": null},
                "gitlab-self-hosted": {"id": "gitlab-self-hosted", "access_token": "glpat-xyz789", "optional": true},
                "jira": {"id": "jira", "access_token": "", "optional": false},
            }),
            "{tf}"
        );
        assert_eq!(
            out["git_auth"]["value"],
            json!({"id": "github", "access_token": "gho_legacy"}),
            "{tf}"
        );
        assert_eq!(
            out["secrets"]["value"],
            json!([
                {"id": "env:GH_TOKEN", "env": "GH_TOKEN", "file": null,
                 "help_message": "Store a GitHub token as GH_TOKEN.", "value": "ghp_secret"},
                {"id": "file:~/.netrc", "env": null, "file": "~/.netrc",
                 "help_message": "", "value": "machine example.com login alice"},
            ]),
            "{tf}"
        );
        for (address, attribute) in [
            ("data.coder_external_auth.github", "access_token"),
            ("data.coder_external_auth.gitlab", "access_token"),
            ("data.coder_git_auth.github", "access_token"),
            ("data.coder_secret.gh_token", "value"),
            ("data.coder_secret.netrc", "value"),
        ] {
            let sensitive = &resource_in(&show, address)["sensitive_values"];
            assert_eq!(
                sensitive[attribute], true,
                "{tf}: {address}.{attribute} in {sensitive:#}"
            );
        }
        let plan = dir.plan().assert_success();
        assert!(
            !plan.stdout.contains("gho_abc123") && !plan.stdout.contains("ghp_secret"),
            "{tf}: a secret shows in the plan\n{plan}"
        );

        // A stop build does not need the secrets.
        dir.with_env(&[
            ("CODER_WORKSPACE_TRANSITION", "stop"),
            ("CODER_SECRET_ENV_GH_TOKEN", ""),
            (netrc_variable, ""),
        ])
        .apply()
        .assert_success();
        let secrets = &dir.output_json()["secrets"]["value"];
        assert_eq!(secrets[0]["value"], "", "{tf}");
        assert_eq!(secrets[1]["value"], "", "{tf}");
    });
}
