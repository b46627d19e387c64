//! `coder_agent`: the agent that runs inside a workspace's compute and connects it to Coder. The
//! provider only records the agent's settings and hands out two computed values the compute
//! resource needs: `token` (the agent's credential) and `init_script` (the bootstrap script
//! Coder's provisioner passes in `CODER_AGENT_SCRIPT_<os>_<arch>`).

use std::collections::HashSet;

use crate::cty::{AttributePath, Value};
use crate::env::Env;
use crate::provider::CoderMeta;
use crate::schema::validators::{go_quote, int_at_least, int_between, one_of};
use crate::schema::{
    Attribute, Block, Diagnostic, Diagnostics, NestedBlock, Resource, Schema, Validator,
};

pub struct Agent;

/// Upstream looks up the running agent's token of a claimed prebuild under
/// `CODER_RUNNING_WORKSPACE_AGENT_TOKEN_<hex sha256(agent id)>`, but always passes an empty agent
/// id, so the name is fixed: this is sha256("").
pub const PREBUILD_TOKEN_ENV: &str =
    "CODER_RUNNING_WORKSPACE_AGENT_TOKEN_e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The token: a claimed prebuild's running agent keeps its token, otherwise a fresh UUID.
fn token(env: &Env, current: Option<&str>) -> String {
    if let Some(t) = env.non_empty(PREBUILD_TOKEN_ENV) {
        return t.to_string();
    }
    match current {
        Some(t) => t.to_string(),
        None => uuid::Uuid::new_v4().to_string(),
    }
}

/// The agent's bootstrap script: Coder's template for this platform with `${ACCESS_URL}` (the
/// provider URL resolved against `/`) and `${AUTH_TYPE}` filled in; empty without a template.
pub fn render_init_script(meta: &CoderMeta, os: &str, arch: &str, auth: &str) -> String {
    let Some(template) = meta
        .env
        .non_empty(&format!("CODER_AGENT_SCRIPT_{os}_{arch}"))
    else {
        return String::new();
    };
    let access_url = meta.url.resolve_root().to_string();
    template
        .replace("${ACCESS_URL}", &access_url)
        .replace("${AUTH_TYPE}", auth)
}

/// Upstream's warn-only check on `dir` (v2.17.0): anything but the home directory breaks Coder
/// Desktop's file sync. It never fails validation.
fn dir_warnings() -> Validator {
    Validator::new(|value: &Value, path: &AttributePath| match value.as_str() {
        Some("" | "$HOME" | "~") | None => Vec::new(),
        Some(_) => vec![
            Diagnostic::warning("\"dir\" is deprecated and will be removed in a future release.")
                .at(path.clone()),
            Diagnostic::warning(
                "Setting \"dir\" to a value other than $HOME will break Coder Desktop file sync.",
            )
            .at(path.clone()),
        ],
    })
}

/// A monitored volume's path must be absolute (Go's `filepath.IsAbs` on Unix).
fn volume_path() -> Validator {
    Validator::new(|value: &Value, path: &AttributePath| {
        let message = match value.as_str() {
            Some("") => "volume path must not be empty",
            Some(p) if !p.starts_with('/') => "volume path must be an absolute path",
            _ => return Vec::new(),
        };
        vec![Diagnostic::error(message).at(path.clone())]
    })
}

fn metadata_block() -> NestedBlock {
    NestedBlock::list(
        "metadata",
        Block::new()
            .describe("A value the agent runs a script to obtain and shows in the dashboard.")
            .attr(
                Attribute::string("key")
                    .required()
                    .force_new()
                    .describe("Identifies the item; unique within the agent."),
            )
            .attr(
                Attribute::string("display_name")
                    .optional()
                    .force_new()
                    .describe("Shown in the dashboard."),
            )
            .attr(
                Attribute::string("script")
                    .required()
                    .force_new()
                    .describe("Script whose output is the value."),
            )
            .attr(
                Attribute::number("timeout")
                    .optional()
                    .force_new()
                    .describe("Seconds the script may run before it is stopped."),
            )
            .attr(
                Attribute::number("interval")
                    .required()
                    .force_new()
                    .describe("Seconds between runs of the script."),
            )
            .attr(
                Attribute::number("order")
                    .optional()
                    .force_new()
                    .describe("Position among the agent's metadata items (ascending)."),
            ),
    )
    .force_new()
}

/// Deviation from upstream, deliberate: upstream declares `display_apps` Optional+Computed and
/// writes a default element into state when the configuration has none. Strict Terraform
/// rejects a provider adding a block the configuration did not write, so an omitted
/// `display_apps` stays empty here; Coder's converter applies the same defaults when it is
/// absent. Inside a written block every attribute has upstream's default.
fn display_apps_block() -> NestedBlock {
    let app = |name: &str, default: bool, what: &str| {
        Attribute::bool(name)
            .default(Value::bool(default))
            .force_new()
            .describe(what)
    };
    NestedBlock::set(
        "display_apps",
        Block::new()
            .describe("Which built-in apps the dashboard shows for the agent.")
            .attr(app("vscode", true, "Show VS Code Desktop."))
            .attr(app(
                "vscode_insiders",
                false,
                "Show VS Code Insiders (not shown together with VS Code Desktop).",
            ))
            .attr(app("web_terminal", true, "Show the web terminal."))
            .attr(app(
                "port_forwarding_helper",
                true,
                "Show the port-forwarding helper.",
            ))
            .attr(app("ssh_helper", true, "Show the SSH helper.")),
    )
    .max(1)
    .force_new()
}

fn resources_monitoring_block() -> NestedBlock {
    let threshold = || {
        Attribute::number("threshold")
            .required()
            .force_new()
            .validate(int_between(0, 100))
            .describe("Usage, in percent, above which Coder alerts.")
    };
    let enabled = || {
        Attribute::bool("enabled")
            .required()
            .force_new()
            .describe("Whether to monitor.")
    };
    NestedBlock::set(
        "resources_monitoring",
        Block::new()
            .describe("Alerts when the workspace runs low on memory or disk.")
            .block(
                NestedBlock::set(
                    "memory",
                    Block::new()
                        .describe("Memory monitoring.")
                        .attr(enabled())
                        .attr(threshold()),
                )
                .max(1)
                .force_new(),
            )
            .block(
                NestedBlock::set(
                    "volume",
                    Block::new()
                        .describe("Disk monitoring of one volume.")
                        .attr(
                            Attribute::string("path")
                                .required()
                                .force_new()
                                .validate(volume_path())
                                .describe("Absolute path of the volume's mount point."),
                        )
                        .attr(enabled())
                        .attr(threshold()),
                )
                .force_new(),
            ),
    )
    .max(1)
    .force_new()
}

fn object_elements(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::elements).unwrap_or(&[])
}

/// `duplicate agent metadata key "<key>"` for each repeated, known key.
fn check_metadata(planned: &Value, diags: &mut Diagnostics) {
    let mut seen = HashSet::new();
    for item in object_elements(planned.get_attr("metadata")) {
        if let Some(key) = item.get_attr("key").and_then(Value::as_str) {
            if !seen.insert(key) {
                diags.error(format!("duplicate agent metadata key {}", go_quote(key)));
            }
        }
    }
}

/// Upstream's resources_monitoring CustomizeDiff. Its "developer error: resources_monitoring
/// cannot be empty" case (the set changed to empty) only fires on removal of the block, which
/// is a legitimate change, so it is not reproduced.
fn check_resources_monitoring(planned: &Value, diags: &mut Diagnostics) {
    for monitoring in object_elements(planned.get_attr("resources_monitoring")) {
        let (Some(memory), Some(volume)) =
            (monitoring.get_attr("memory"), monitoring.get_attr("volume"))
        else {
            continue;
        };
        if !memory.is_known() || !volume.is_known() {
            continue;
        }
        if object_elements(Some(memory)).is_empty() && object_elements(Some(volume)).is_empty() {
            diags.error("resources_monitoring must define at least one monitor");
        }
        let mut seen = HashSet::new();
        for v in object_elements(Some(volume)) {
            if let Some(path) = v.get_attr("path").and_then(Value::as_str) {
                if !seen.insert(path) {
                    diags.error(format!("duplicate volume path {}", go_quote(path)));
                }
            }
        }
    }
}

fn set(state: &mut Value, name: &str, value: Value) {
    if let Value::Object(attrs) = state {
        attrs.insert(name.to_string(), value);
    }
}

fn str_attr<'a>(state: &'a Value, name: &str) -> &'a str {
    state
        .get_attr(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Fills the computed `token` and `init_script` of a created or refreshed agent.
fn compute(meta: &CoderMeta, state: &mut Value, current_token: Option<&str>) {
    let token = token(&meta.env, current_token);
    let script = render_init_script(
        meta,
        str_attr(state, "os"),
        str_attr(state, "arch"),
        str_attr(state, "auth"),
    );
    set(state, "token", Value::string(token));
    set(state, "init_script", Value::string(script));
}

impl Resource<CoderMeta> for Agent {
    fn name(&self) -> &'static str {
        "coder_agent"
    }

    fn schema(&self) -> Schema {
        Schema::new("Use this resource to associate an agent.")
            .version(1)
            .attr(
                Attribute::string("arch")
                    .required()
                    .force_new()
                    .validate(one_of(&["amd64", "armv7", "arm64"]))
                    .describe("The architecture the agent runs on: `amd64`, `armv7` or `arm64`."),
            )
            .attr(
                Attribute::string("os")
                    .required()
                    .force_new()
                    .validate(one_of(&["linux", "darwin", "windows"]))
                    .describe(
                        "The operating system the agent runs on: `linux`, `darwin` or `windows`.",
                    ),
            )
            .attr(
                Attribute::string("auth")
                    .default(Value::string("token"))
                    .force_new()
                    .validate(one_of(&[
                        "token",
                        "google-instance-identity",
                        "aws-instance-identity",
                        "azure-instance-identity",
                    ]))
                    .describe(
                        "How the agent authenticates: `token`, or the instance identity of \
                         `google-instance-identity`, `aws-instance-identity` or \
                         `azure-instance-identity`.",
                    ),
            )
            .attr(
                Attribute::string("api_key_scope")
                    .default(Value::string("all"))
                    .force_new()
                    .validate(one_of(&["all", "no_user_data"]))
                    .describe(
                        "Scope of the API key the workspace gets: `all`, or `no_user_data`, \
                         which blocks the external-auth, git SSH key and git-auth routes.",
                    ),
            )
            .attr(
                Attribute::string("dir")
                    .optional()
                    .force_new()
                    .deprecated("dir has been deprecated and will be removed in a future release.")
                    .validate(dir_warnings())
                    .describe("The starting directory of SSH sessions and the web terminal."),
            )
            .attr(
                Attribute::map_of_string("env")
                    .optional()
                    .force_new()
                    .describe("Environment variables the agent sets for processes it starts."),
            )
            .attr(
                Attribute::string("startup_script")
                    .optional()
                    .force_new()
                    .describe(
                        "A script run when the agent starts; the same as a `coder_script` with \
                         `run_on_start`.",
                    ),
            )
            .attr(
                Attribute::string("shutdown_script")
                    .optional()
                    .force_new()
                    .describe(
                        "A script run when the agent stops; the same as a `coder_script` with \
                         `run_on_stop`.",
                    ),
            )
            .attr(
                Attribute::string("startup_script_behavior")
                    .default(Value::string("non-blocking"))
                    .force_new()
                    .validate(one_of(&["blocking", "non-blocking"]))
                    .describe(
                        "Whether logins wait for the startup script: `blocking` or \
                         `non-blocking`. Planned as `blocking` when the deprecated \
                         `login_before_ready = false` is set.",
                    ),
            )
            .attr(
                Attribute::number("connection_timeout")
                    .default(Value::number_i64(120))
                    .force_new()
                    .validate(int_at_least(0))
                    .describe(
                        "Seconds the dashboard waits for the agent to connect before showing a \
                         troubleshooting hint; 0 never times out.",
                    ),
            )
            .attr(
                Attribute::string("troubleshooting_url")
                    .optional()
                    .force_new()
                    .describe("A URL shown when the agent does not connect."),
            )
            .attr(
                Attribute::string("motd_file")
                    .optional()
                    .force_new()
                    .describe("A file shown as message of the day on SSH login."),
            )
            .attr(
                Attribute::number("order")
                    .optional()
                    .force_new()
                    .describe("Position of the agent in the dashboard (ascending)."),
            )
            .attr(
                Attribute::string("token")
                    .computed()
                    .sensitive()
                    .force_new()
                    .describe(
                        "The token the agent authenticates with when `auth` is `token`; pass it \
                         to the agent as `CODER_AGENT_TOKEN`.",
                    ),
            )
            .attr(Attribute::string("init_script").computed().describe(
                "The script that downloads and starts the agent on the workspace's compute.",
            ))
            // Late-2022 (v0.6.x) arguments, removed upstream in v2.0.0. They are accepted so
            // old templates still plan, warn, and change nothing but state; not force-new, so
            // state written by either provider generation updates in place.
            .attr(
                Attribute::bool("login_before_ready")
                    .default(Value::bool(true))
                    .conflicts_with(&["startup_script_behavior"])
                    .deprecated(
                        "Configure startup_script_behavior instead: login_before_ready = false \
                         is startup_script_behavior = \"blocking\". This attribute was removed \
                         in version 2 of the provider.",
                    )
                    .describe("Whether logins may happen before the startup script finishes."),
            )
            .attr(
                Attribute::number("startup_script_timeout")
                    .default(Value::number_i64(300))
                    .validate(int_at_least(1))
                    .deprecated(
                        "This attribute has no effect; set timeout on a coder_script resource \
                         instead. It was removed in version 2 of the provider.",
                    )
                    .describe("No effect."),
            )
            .attr(
                Attribute::number("shutdown_script_timeout")
                    .default(Value::number_i64(300))
                    .validate(int_at_least(1))
                    .deprecated(
                        "This attribute has no effect; set timeout on a coder_script resource \
                         instead. It was removed in version 2 of the provider.",
                    )
                    .describe("No effect."),
            )
            .block(metadata_block())
            .block(display_apps_block())
            .block(resources_monitoring_block())
    }

    /// `login_before_ready = false` (late 2022) means what `startup_script_behavior =
    /// "blocking"` means today; planning it so keeps old templates' behaviour in Coder, which
    /// reads `startup_script_behavior` first.
    fn refine_plan(&self, config: &Value, planned: &mut Value) {
        let login_before_ready = config
            .get_attr("login_before_ready")
            .and_then(Value::as_bool);
        let behavior_unset = config
            .get_attr("startup_script_behavior")
            .is_none_or(Value::is_null);
        if login_before_ready == Some(false) && behavior_unset {
            set(
                planned,
                "startup_script_behavior",
                Value::string("blocking"),
            );
        }
    }

    fn check_plan(&self, planned: &Value, diags: &mut Diagnostics) {
        check_metadata(planned, diags);
        check_resources_monitoring(planned, diags);
    }

    fn create(&self, meta: &CoderMeta, planned: Value, _diags: &mut Diagnostics) -> Value {
        let mut state = planned;
        compute(meta, &mut state, None);
        state
    }

    /// Deviation from upstream, deliberate: upstream draws a new random token on every refresh
    /// (computed-only, so no diff on the agent itself), which makes every re-plan of a
    /// resource that references the token non-empty. Here the stored token is kept; a claimed
    /// prebuild's token from the environment still wins. `init_script` is recomputed from the
    /// environment like upstream does, which is stable while the environment is.
    fn read(&self, meta: &CoderMeta, state: Value, _diags: &mut Diagnostics) -> Value {
        let mut state = state;
        let current = state
            .get_attr("token")
            .and_then(Value::as_str)
            .map(str::to_string);
        compute(meta, &mut state, current.as_deref());
        state
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;
    use crate::provider::testing::{errors, is_uuid, tf, tf_with_url, warnings, Tf};
    use crate::schema::ProviderServer;

    const NAME: &str = "coder_agent";

    fn linux(tf: &Tf, extra: &[(&str, Value)]) -> Value {
        let mut pairs = vec![
            ("os", Value::string("linux")),
            ("arch", Value::string("amd64")),
        ];
        pairs.extend_from_slice(extra);
        tf.config(NAME, &pairs)
    }

    fn validation_errors(extra: &[(&str, Value)]) -> Vec<String> {
        let t = tf(&[]);
        errors(&t.validate(NAME, &linux(&t, extra)))
    }

    #[test]
    fn prebuild_env_name_is_sha256_of_the_empty_agent_id() {
        let digest = Sha256::digest(b"");
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            PREBUILD_TOKEN_ENV,
            format!("CODER_RUNNING_WORKSPACE_AGENT_TOKEN_{hex}")
        );
    }

    #[test]
    fn minimal_agent_plans_defaults_and_applies() {
        let t = tf(&[]);
        let (plan, state, diags) = t.create(NAME, &linux(&t, &[]));
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(plan.get_attr("auth"), Some(&Value::string("token")));
        assert_eq!(plan.get_attr("api_key_scope"), Some(&Value::string("all")));
        assert_eq!(
            plan.get_attr("startup_script_behavior"),
            Some(&Value::string("non-blocking"))
        );
        assert_eq!(
            plan.get_attr("connection_timeout"),
            Some(&Value::number_i64(120))
        );
        assert_eq!(plan.get_attr("token"), Some(&Value::Unknown));
        assert_eq!(plan.get_attr("init_script"), Some(&Value::Unknown));
        assert_eq!(plan.get_attr("id"), Some(&Value::Unknown));
        assert!(is_uuid(state.get_attr("id")));
        assert!(is_uuid(state.get_attr("token")));
        assert_ne!(state.get_attr("id"), state.get_attr("token"));
        assert_eq!(state.get_attr("init_script"), Some(&Value::string("")));
        // Omitted display_apps stays empty (see display_apps_block).
        assert_eq!(state.get_attr("display_apps"), Some(&Value::Set(vec![])));
    }

    #[test]
    fn token_is_sensitive_and_computed() {
        let t = tf(&[]);
        let schema = &t.fw.schemas().resources[NAME];
        let token = schema.block.attribute("token");
        assert!(token.is_some_and(|a| a.sensitive && a.computed && !a.optional));
    }

    #[test]
    fn prebuild_claim_reuses_the_running_agent_token() {
        let t = tf(&[(PREBUILD_TOKEN_ENV, "running-agent-token")]);
        let (_, state, _) = t.create(NAME, &linux(&t, &[]));
        assert_eq!(
            state.get_attr("token"),
            Some(&Value::string("running-agent-token"))
        );
    }

    #[test]
    fn refresh_keeps_the_token_but_a_prebuild_token_wins() {
        let t = tf(&[]);
        let (_, state, _) = t.create(NAME, &linux(&t, &[]));
        let refreshed = t.refresh(NAME, &state);
        assert_eq!(
            refreshed.new_state.get_attr("token"),
            state.get_attr("token")
        );

        let claimed = tf(&[(PREBUILD_TOKEN_ENV, "claimed")]);
        let refreshed = claimed.refresh(NAME, &state);
        assert_eq!(
            refreshed.new_state.get_attr("token"),
            Some(&Value::string("claimed"))
        );
    }

    #[test]
    fn init_script_fills_access_url_and_auth_type() {
        let t = tf_with_url(
            Some("https://coder.example.com:8443/some/path?x=1"),
            &[(
                "CODER_AGENT_SCRIPT_linux_amd64",
                "curl ${ACCESS_URL}bin/agent && AUTH=${AUTH_TYPE} ${ACCESS_URL}",
            )],
        );
        let config = linux(&t, &[("auth", Value::string("aws-instance-identity"))]);
        let (_, state, _) = t.create(NAME, &config);
        assert_eq!(
            state.get_attr("init_script"),
            Some(&Value::string(
                "curl https://coder.example.com:8443/bin/agent && AUTH=aws-instance-identity \
                 https://coder.example.com:8443/"
            ))
        );
    }

    #[test]
    fn init_script_uses_the_platform_of_the_agent() {
        let t = tf(&[
            ("CODER_AGENT_SCRIPT_linux_amd64", "linux"),
            ("CODER_AGENT_SCRIPT_windows_arm64", "windows ${ACCESS_URL}"),
        ]);
        let config = t.config(
            NAME,
            &[
                ("os", Value::string("windows")),
                ("arch", Value::string("arm64")),
            ],
        );
        let (_, state, _) = t.create(NAME, &config);
        assert_eq!(
            state.get_attr("init_script"),
            Some(&Value::string("windows https://mydeployment.coder.com/"))
        );
    }

    #[test]
    fn init_script_follows_the_environment_on_refresh() {
        let t = tf(&[]);
        let (_, state, _) = t.create(NAME, &linux(&t, &[]));
        let later = tf(&[("CODER_AGENT_SCRIPT_linux_amd64", "new ${AUTH_TYPE}")]);
        let refreshed = later.refresh(NAME, &state);
        assert_eq!(
            refreshed.new_state.get_attr("init_script"),
            Some(&Value::string("new token"))
        );
    }

    #[test]
    fn enums_use_the_sdk_message() {
        assert_eq!(
            validation_errors(&[("arch", Value::string("x86"))]),
            vec![r#"expected arch to be one of ["amd64" "armv7" "arm64"], got x86"#]
        );
        assert_eq!(
            validation_errors(&[("os", Value::string("plan9"))]),
            vec![r#"expected os to be one of ["linux" "darwin" "windows"], got plan9"#]
        );
        assert_eq!(
            validation_errors(&[("auth", Value::string("basic"))]),
            vec![
                r#"expected auth to be one of ["token" "google-instance-identity" "aws-instance-identity" "azure-instance-identity"], got basic"#
            ]
        );
        assert_eq!(
            validation_errors(&[("api_key_scope", Value::string("none"))]),
            vec![r#"expected api_key_scope to be one of ["all" "no_user_data"], got none"#]
        );
        assert_eq!(
            validation_errors(&[("startup_script_behavior", Value::string("wait"))]),
            vec![
                r#"expected startup_script_behavior to be one of ["blocking" "non-blocking"], got wait"#
            ]
        );
    }

    #[test]
    fn connection_timeout_must_not_be_negative() {
        assert_eq!(
            validation_errors(&[("connection_timeout", Value::number_i64(-1))]),
            vec!["expected connection_timeout to be at least (0), got -1"]
        );
        assert!(validation_errors(&[("connection_timeout", Value::number_i64(0))]).is_empty());
    }

    #[test]
    fn dir_outside_home_warns_twice_and_is_deprecated() {
        let t = tf(&[]);
        let diags = t.validate(NAME, &linux(&t, &[("dir", Value::string("/workspace"))]));
        assert!(!diags.has_errors());
        assert_eq!(
            warnings(&diags),
            vec![
                "Argument is deprecated",
                "\"dir\" is deprecated and will be removed in a future release.",
                "Setting \"dir\" to a value other than $HOME will break Coder Desktop file sync.",
            ]
        );
        for home in ["$HOME", "~", ""] {
            let diags = t.validate(NAME, &linux(&t, &[("dir", Value::string(home))]));
            assert_eq!(warnings(&diags), vec!["Argument is deprecated"], "{home}");
        }
    }

    #[test]
    fn duplicate_metadata_keys_fail_the_plan() {
        let t = tf(&[]);
        let item = |key: &str| {
            t.element(
                NAME,
                &["metadata"],
                &[
                    ("key", Value::string(key)),
                    ("script", Value::string("echo")),
                    ("interval", Value::number_i64(1)),
                ],
            )
        };
        let config = linux(
            &t,
            &[(
                "metadata",
                Value::List(vec![item("a"), item("b"), item("a")]),
            )],
        );
        let plan = t.plan(NAME, &config);
        assert_eq!(
            errors(&plan.diagnostics),
            vec![r#"duplicate agent metadata key "a""#]
        );
        let ok = linux(&t, &[("metadata", Value::List(vec![item("a"), item("b")]))]);
        t.create(NAME, &ok);
    }

    #[test]
    fn display_apps_block_gets_defaults() {
        let t = tf(&[]);
        let apps = t.element(NAME, &["display_apps"], &[("vscode", Value::bool(false))]);
        let config = linux(&t, &[("display_apps", Value::set(vec![apps]))]);
        let (_, state, _) = t.create(NAME, &config);
        let element = object_elements(state.get_attr("display_apps"))
            .first()
            .cloned();
        let get = |k: &str| element.as_ref().and_then(|e| e.get_attr(k)).cloned();
        assert_eq!(get("vscode"), Some(Value::bool(false)));
        assert_eq!(get("vscode_insiders"), Some(Value::bool(false)));
        assert_eq!(get("web_terminal"), Some(Value::bool(true)));
        assert_eq!(get("port_forwarding_helper"), Some(Value::bool(true)));
        assert_eq!(get("ssh_helper"), Some(Value::bool(true)));
    }

    fn monitoring(t: &Tf, memory: Vec<Value>, volumes: Vec<Value>) -> Value {
        Value::set(vec![t.element(
            NAME,
            &["resources_monitoring"],
            &[
                ("memory", Value::set(memory)),
                ("volume", Value::set(volumes)),
            ],
        )])
    }

    fn volume(t: &Tf, path: &str, threshold: i64) -> Value {
        t.element(
            NAME,
            &["resources_monitoring", "volume"],
            &[
                ("path", Value::string(path)),
                ("enabled", Value::bool(true)),
                ("threshold", Value::number_i64(threshold)),
            ],
        )
    }

    #[test]
    fn resources_monitoring_validators() {
        let t = tf(&[]);
        let memory = t.element(
            NAME,
            &["resources_monitoring", "memory"],
            &[
                ("enabled", Value::bool(true)),
                ("threshold", Value::number_i64(101)),
            ],
        );
        let config = linux(
            &t,
            &[(
                "resources_monitoring",
                monitoring(
                    &t,
                    vec![memory],
                    vec![
                        volume(&t, "", 10),
                        volume(&t, "data", 10),
                        volume(&t, "/ok", -1),
                    ],
                ),
            )],
        );
        assert_eq!(
            errors(&t.validate(NAME, &config)),
            vec![
                "expected resources_monitoring.0.memory.0.threshold to be in the range (0 - 100), got 101",
                "volume path must not be empty",
                "volume path must be an absolute path",
                "expected resources_monitoring.0.volume.2.threshold to be in the range (0 - 100), got -1",
            ]
        );
    }

    #[test]
    fn resources_monitoring_plan_checks() {
        let t = tf(&[]);
        let empty = linux(
            &t,
            &[("resources_monitoring", monitoring(&t, vec![], vec![]))],
        );
        assert_eq!(
            errors(&t.plan(NAME, &empty).diagnostics),
            vec!["resources_monitoring must define at least one monitor"]
        );
        let twice = linux(
            &t,
            &[(
                "resources_monitoring",
                monitoring(
                    &t,
                    vec![],
                    vec![volume(&t, "/home", 10), volume(&t, "/home", 20)],
                ),
            )],
        );
        assert_eq!(
            errors(&t.plan(NAME, &twice).diagnostics),
            vec![r#"duplicate volume path "/home""#]
        );
        let fine = linux(
            &t,
            &[(
                "resources_monitoring",
                monitoring(
                    &t,
                    vec![],
                    vec![volume(&t, "/home", 10), volume(&t, "/var", 20)],
                ),
            )],
        );
        t.create(NAME, &fine);
    }

    #[test]
    fn late_2022_arguments_warn_and_apply() {
        let t = tf(&[]);
        let config = linux(
            &t,
            &[
                ("login_before_ready", Value::bool(false)),
                ("startup_script_timeout", Value::number_i64(180)),
                ("shutdown_script_timeout", Value::number_i64(60)),
            ],
        );
        let (plan, _, diags) = t.create(NAME, &config);
        let deprecations: Vec<_> = diags
            .iter()
            .filter(|d| d.summary == "Argument is deprecated")
            .map(|d| d.detail.clone())
            .collect();
        assert_eq!(deprecations.len(), 3, "{diags:?}");
        assert!(deprecations[0].contains("startup_script_behavior"));
        assert!(deprecations[1].contains("coder_script"));
        assert_eq!(
            plan.get_attr("startup_script_behavior"),
            Some(&Value::string("blocking"))
        );
    }

    #[test]
    fn login_before_ready_conflicts_with_startup_script_behavior() {
        let errors = validation_errors(&[
            ("login_before_ready", Value::bool(true)),
            ("startup_script_behavior", Value::string("blocking")),
        ]);
        assert_eq!(errors, vec!["Conflicting configuration arguments"]);
    }

    #[test]
    fn script_timeouts_must_be_positive() {
        assert_eq!(
            validation_errors(&[("startup_script_timeout", Value::number_i64(0))]),
            vec!["expected startup_script_timeout to be at least (1), got 0"]
        );
    }

    #[test]
    fn changing_an_argument_replaces_the_agent() {
        let t = tf(&[]);
        let (_, state, _) = t.create(NAME, &linux(&t, &[]));
        let changed = linux(&t, &[("dir", Value::string("~"))]);
        let plan = t.replan(NAME, &state, &changed);
        assert_eq!(
            plan.requires_replace,
            vec![AttributePath::root().attr("dir")]
        );
    }
}
