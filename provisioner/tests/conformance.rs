//! Conformance with upstream's `ConvertState`: every fixture of
//! `shared/conformance/coder-fixtures` (real `terraform show -json` output, `terraform graph`
//! DOT and upstream's golden conversions) is converted at the plan and the state step and
//! compared with the golden.
//!
//! The fixtures' README describes the goldens: Go `encoding/json` of upstream's `State`
//! (snake_case protobuf names, zero values omitted, enums as integers, the agent auth oneof
//! as `"Auth": {"Token": ...}`). [`golden`] renders our result in that shape, then both
//! sides get the same normalisation before a JSON comparison. Each normalisation step
//! below names the gap it covers.
//!
//! Fixtures are found at `$CODER_FIXTURES_DIR`, else `../shared/conformance/coder-fixtures`
//! relative to the repository root. A missing directory fails the test.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use coder_provisioner::convert::{convert_state, TfModule, TfPlan, TfState};
use serde_json::Value;

/// Fixture steps that are expected to differ from their golden, with the reason. The test
/// fails if an entry starts passing, so the table cannot go stale.
const KNOWN_DIFFERENCES: &[(&str, Step, &str)] = &[];

/// Goldens that were not available; the step is compared with the other step's golden.
const GOLDEN_FALLBACKS: &[(&str, Step, &str)] = &[(
    "resource-metadata-duplicate",
    Step::Plan,
    // Both steps fail in the metadata pass, before anything plan-specific happens;
    // upstream's resources_test expects the same message from the plan.
    "no plan golden upstream; the conversion fails with the same error as the state step",
)];

/// Plan JSONs recorded before the provider had `coder_agent.api_key_scope`, paired with
/// newer goldens that show the provider's default `"all"` (README, "Caveats"). Upstream
/// copies the attribute as is, so from these inputs no converter can produce it.
const PLAN_JSON_WITHOUT_API_KEY_SCOPE: &[&str] = &[
    "multiple-agents",
    "multiple-agents-multiple-scripts",
    "resource-metadata",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Plan,
    State,
}

impl Step {
    fn name(self) -> &'static str {
        match self {
            Step::Plan => "plan",
            Step::State => "state",
        }
    }

    fn other(self) -> Step {
        match self {
            Step::Plan => Step::State,
            Step::State => Step::Plan,
        }
    }

    fn input(self, fixture: &str) -> String {
        match self {
            Step::Plan => format!("{fixture}.tfplan.json"),
            Step::State => format!("{fixture}.tfstate.json"),
        }
    }

    fn graph(self, fixture: &str) -> String {
        match self {
            Step::Plan => format!("{fixture}.tfplan.dot"),
            Step::State => format!("{fixture}.tfstate.dot"),
        }
    }

    fn golden(self) -> String {
        format!("converted_state.{}.golden", self.name())
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn fixtures_dir() -> PathBuf {
    match std::env::var_os("CODER_FIXTURES_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/coder-fixtures")
        }
    }
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The modules upstream's golden test converts (fixtures README, "How upstream's golden
/// test uses them"): the whole prior state, not only its data sources.
fn modules(step: Step, json: &str) -> Result<Vec<TfModule>, String> {
    match step {
        Step::Plan => {
            let plan: TfPlan = serde_json::from_str(json).map_err(|e| format!("plan JSON: {e}"))?;
            let mut modules = Vec::new();
            if let Some(root) = plan.planned_values.and_then(|v| v.root_module) {
                modules.push(root);
            }
            if let Some(prior) = plan
                .prior_state
                .and_then(|s| s.values)
                .and_then(|v| v.root_module)
            {
                modules.push(prior);
            }
            Ok(modules)
        }
        Step::State => {
            let state: TfState =
                serde_json::from_str(json).map_err(|e| format!("state JSON: {e}"))?;
            Ok(state.modules_for_conversion())
        }
    }
}

/// Runs one step of one fixture; `Err` carries a readable explanation.
fn run_step(root: &Path, fixture: &str, step: Step) -> Result<(), String> {
    let dir = root.join(fixture);
    let input = read(&dir.join(step.input(fixture)))?;
    // Both graphs of a fixture differ at most by a trailing newline (README), so a missing
    // one is replaced by the other.
    let graph = read(&dir.join(step.graph(fixture)))
        .or_else(|_| read(&dir.join(step.other().graph(fixture))))
        .map_err(|_| {
            format!(
                "neither {} nor {} exists",
                step.graph(fixture),
                step.other().graph(fixture)
            )
        })?;
    let golden_step = if GOLDEN_FALLBACKS
        .iter()
        .any(|(f, s, _)| *f == fixture && *s == step)
    {
        step.other()
    } else {
        step
    };
    let golden_text = read(&dir.join(golden_step.golden()))?;
    let mut expected: Value =
        serde_json::from_str(&golden_text).map_err(|e| format!("golden JSON: {e}"))?;

    let mut actual = match convert_state(&modules(step, &input)?, &graph) {
        Ok(state) => golden::state(&state),
        // A failed conversion's golden is the error message as a JSON string.
        Err(err) => Value::String(err.to_string()),
    };

    normalise(&mut expected, fixture, step, Side::Golden);
    normalise(&mut actual, fixture, step, Side::Ours);
    match first_difference(&expected, &actual, "$") {
        None => Ok(()),
        Some(diff) => Err(diff),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Golden,
    Ours,
}

/// Brings both sides into a comparable form. The steps come from the fixtures' README;
/// all but the sorting apply to the golden side only and each names its gap.
fn normalise(value: &mut Value, fixture: &str, step: Step, side: Side) {
    let Value::Object(top) = value else {
        return; // An error string.
    };
    if side == Side::Golden {
        // Older goldens lack these keys; their values are the zero values.
        for (key, zero) in [
            ("AITasks", Value::Array(Vec::new())),
            ("HasAITasks", Value::Bool(false)),
            ("HasExternalAgents", Value::Bool(false)),
        ] {
            top.entry(key).or_insert(zero);
        }
        // Newer goldens carry DLP policies, a field our protocol version does not have.
        // Only the empty list is dropped; a non-empty one would be a real difference.
        if top.get("DLPPolicies") == Some(&Value::Array(Vec::new())) {
            top.remove("DLPPolicies");
        }
    }

    // Upstream's tests sort where its converter iterates Go maps.
    sort_by_keys(top.get_mut("Resources"), &["name", "type"]);
    sort_by_keys(top.get_mut("ExternalAuthProviders"), &["id"]);
    for resource in array_mut(top.get_mut("Resources")) {
        sort_by_keys(resource.get_mut("agents"), &["name"]);
        for agent in array_mut(resource.get_mut("agents")) {
            sort_by_keys(agent.get_mut("apps"), &["slug"]);
            sort_by_keys(agent.get_mut("extra_envs"), &["name"]);
            sort_by_keys(agent.get_mut("scripts"), &["display_name"]);
            for app in array_mut(agent.get_mut("apps")) {
                // Golden app ids are placeholders written by upstream's test, not values
                // from the input (README, "App ids in goldens").
                if let Value::Object(app) = app {
                    app.remove("id");
                }
            }
            if side == Side::Golden {
                normalise_golden_agent(agent, fixture, step);
            }
        }
    }
}

fn normalise_golden_agent(agent: &mut Value, fixture: &str, step: Step) {
    let Value::Object(agent) = agent else {
        return;
    };
    // coder_env.merge_strategy appears in newer goldens; the protocol version we implement
    // (upstream proto 1ea07d23) has no Env field for it.
    for env in array_mut(agent.get_mut("extra_envs")) {
        if let Value::Object(env) = env {
            env.remove("merge_strategy");
        }
    }
    if step == Step::Plan
        && PLAN_JSON_WITHOUT_API_KEY_SCOPE.contains(&fixture)
        && agent.get("api_key_scope") == Some(&Value::String("all".into()))
    {
        agent.remove("api_key_scope");
    }
}

fn array_mut(value: Option<&mut Value>) -> impl Iterator<Item = &mut Value> {
    match value {
        Some(Value::Array(items)) => items.iter_mut(),
        _ => [].iter_mut(),
    }
}

/// Sorts an array of objects by the string values of `keys` (missing = empty).
fn sort_by_keys(value: Option<&mut Value>, keys: &[&str]) {
    if let Some(Value::Array(items)) = value {
        items.sort_by_cached_key(|item| {
            keys.iter()
                .map(|k| {
                    item.get(*k)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                })
                .collect::<Vec<_>>()
        });
    }
}

/// The path of the first difference, with both values; `None` when equal.
fn first_difference(golden: &Value, ours: &Value, path: &str) -> Option<String> {
    match (golden, ours) {
        (Value::Object(g), Value::Object(o)) => {
            let keys: BTreeSet<&String> = g.keys().chain(o.keys()).collect();
            keys.into_iter().find_map(|k| {
                let child = format!("{path}.{k}");
                match (g.get(k), o.get(k)) {
                    (Some(gv), Some(ov)) => first_difference(gv, ov, &child),
                    (gv, ov) => Some(describe(&child, gv, ov)),
                }
            })
        }
        (Value::Array(g), Value::Array(o)) => g
            .iter()
            .zip(o)
            .enumerate()
            .find_map(|(i, (gv, ov))| first_difference(gv, ov, &format!("{path}[{i}]")))
            .or_else(|| {
                (g.len() != o.len()).then(|| {
                    let i = g.len().min(o.len());
                    describe(&format!("{path}[{i}]"), g.get(i), o.get(i))
                })
            }),
        _ => (golden != ours).then(|| describe(path, Some(golden), Some(ours))),
    }
}

fn describe(path: &str, golden: Option<&Value>, ours: Option<&Value>) -> String {
    let show = |v: Option<&Value>| match v {
        None => "(absent)".to_string(),
        Some(v) => {
            let text = v.to_string();
            if text.chars().count() > 400 {
                format!("{}…", text.chars().take(400).collect::<String>())
            } else {
                text
            }
        }
    };
    format!(
        "first difference at {path}\n    golden: {}\n    ours:   {}",
        show(golden),
        show(ours)
    )
}

#[test]
fn converted_state_matches_upstream_goldens() {
    let dir = fixtures_dir();
    assert!(
        dir.is_dir(),
        "fixture directory {} not found; set CODER_FIXTURES_DIR to the coder-fixtures directory",
        dir.display()
    );
    let mut fixtures: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    fixtures.sort();
    assert!(!fixtures.is_empty(), "no fixtures in {}", dir.display());

    let mut problems = Vec::new();
    let mut passed = 0;
    let mut known = 0;
    for fixture in &fixtures {
        for step in [Step::Plan, Step::State] {
            let expected_failure = KNOWN_DIFFERENCES
                .iter()
                .find(|(f, s, _)| f == fixture && *s == step);
            match (run_step(&dir, fixture, step), expected_failure) {
                (Ok(()), None) => passed += 1,
                (Err(_), Some(_)) => known += 1,
                (Ok(()), Some((_, _, reason))) => problems.push(format!(
                    "{fixture} ({step}) now matches its golden: remove it from KNOWN_DIFFERENCES (was: {reason})"
                )),
                (Err(diff), None) => problems.push(format!("{fixture} ({step}): {diff}")),
            }
        }
    }
    for (fixture, step, _) in KNOWN_DIFFERENCES.iter().chain(GOLDEN_FALLBACKS) {
        if !fixtures.iter().any(|f| f == fixture) {
            problems.push(format!("{fixture} ({step}) is listed but not a fixture"));
        }
    }
    eprintln!(
        "{} fixtures: {passed} steps match, {known} known differences, {} problems",
        fixtures.len(),
        problems.len()
    );
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n\n"));
}

#[test]
fn differences_are_located() {
    let golden = serde_json::json!({"a": [1, {"b": "x"}], "c": true});
    let ours = serde_json::json!({"a": [1, {"b": "y"}]});
    assert_eq!(
        first_difference(&golden, &ours, "$").unwrap(),
        "first difference at $.a[1].b\n    golden: \"x\"\n    ours:   \"y\""
    );
    let ours = serde_json::json!({"a": [1, {"b": "x"}]});
    assert_eq!(
        first_difference(&golden, &ours, "$").unwrap(),
        "first difference at $.c\n    golden: true\n    ours:   (absent)"
    );
    let ours = serde_json::json!({"a": [1], "c": true});
    assert!(first_difference(&golden, &ours, "$")
        .unwrap()
        .starts_with("first difference at $.a[1]"));
    assert_eq!(first_difference(&golden, &golden, "$"), None);
}

/// Our result in the shape of Go's `encoding/json` output of upstream's structs.
mod golden {
    use coder_proto::provisioner::agent::{self, Auth};
    use coder_proto::provisioner::{
        resource, AiTask, App, DisplayApps, Env, ExternalAuthProviderResource, Preset, Resource,
        ResourcesMonitoring, RichParameter, Script,
    };
    use coder_provisioner::convert::ConvertedState;
    use serde_json::{json, Map, Value};

    /// Builds an object the way Go's `omitempty` does: zero values are left out.
    #[derive(Default)]
    struct Obj(Map<String, Value>);

    impl Obj {
        fn str(mut self, key: &str, v: &str) -> Self {
            if !v.is_empty() {
                self.0.insert(key.into(), json!(v));
            }
            self
        }
        fn bool(mut self, key: &str, v: bool) -> Self {
            if v {
                self.0.insert(key.into(), json!(true));
            }
            self
        }
        fn int(mut self, key: &str, v: i64) -> Self {
            if v != 0 {
                self.0.insert(key.into(), json!(v));
            }
            self
        }
        /// A pointer field: present whenever set, even when zero.
        fn opt(mut self, key: &str, v: Option<Value>) -> Self {
            if let Some(v) = v {
                self.0.insert(key.into(), v);
            }
            self
        }
        fn list(mut self, key: &str, items: Vec<Value>) -> Self {
            if !items.is_empty() {
                self.0.insert(key.into(), Value::Array(items));
            }
            self
        }
        /// A field without `omitempty`.
        fn always(mut self, key: &str, v: Value) -> Self {
            self.0.insert(key.into(), v);
            self
        }
        fn done(self) -> Value {
            Value::Object(self.0)
        }
    }

    pub(super) fn state(s: &ConvertedState) -> Value {
        // The top-level struct has no JSON tags: Go field names, nothing omitted.
        json!({
            "Resources": s.resources.iter().map(resource).collect::<Vec<_>>(),
            "Parameters": s.parameters.iter().map(parameter).collect::<Vec<_>>(),
            "Presets": s.presets.iter().map(preset).collect::<Vec<_>>(),
            "ExternalAuthProviders": s.external_auth_providers.iter().map(external_auth).collect::<Vec<_>>(),
            "AITasks": s.ai_tasks.iter().map(ai_task).collect::<Vec<_>>(),
            "HasAITasks": s.has_ai_tasks,
            "HasExternalAgents": s.has_external_agents,
        })
    }

    fn resource(r: &Resource) -> Value {
        Obj::default()
            .str("name", &r.name)
            .str("type", &r.r#type)
            .list("agents", r.agents.iter().map(agent).collect())
            .list(
                "metadata",
                r.metadata.iter().map(resource_metadata).collect(),
            )
            .bool("hide", r.hide)
            .str("icon", &r.icon)
            .str("instance_type", &r.instance_type)
            .int("daily_cost", r.daily_cost.into())
            .str("module_path", &r.module_path)
            .done()
    }

    fn resource_metadata(m: &resource::Metadata) -> Value {
        Obj::default()
            .str("key", &m.key)
            .str("value", &m.value)
            .bool("sensitive", m.sensitive)
            .bool("is_null", m.is_null)
            .done()
    }

    fn agent(a: &coder_proto::provisioner::Agent) -> Value {
        let mut env: Vec<(&String, &String)> = a.env.iter().collect();
        env.sort();
        let env: Map<String, Value> = env
            .into_iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        // The oneof field has no JSON tag and no omitempty; its wrapper's field neither.
        let auth = match &a.auth {
            Some(Auth::Token(t)) => json!({ "Token": t }),
            Some(Auth::InstanceId(i)) => json!({ "InstanceId": i }),
            None => Value::Null,
        };
        Obj::default()
            .str("id", &a.id)
            .str("name", &a.name)
            .opt("env", (!env.is_empty()).then_some(Value::Object(env)))
            .str("operating_system", &a.operating_system)
            .str("architecture", &a.architecture)
            .str("directory", &a.directory)
            .list("apps", a.apps.iter().map(app).collect())
            .always("Auth", auth)
            .int(
                "connection_timeout_seconds",
                a.connection_timeout_seconds.into(),
            )
            .str("troubleshooting_url", &a.troubleshooting_url)
            .str("motd_file", &a.motd_file)
            .list("metadata", a.metadata.iter().map(agent_metadata).collect())
            .opt("display_apps", a.display_apps.as_ref().map(display_apps))
            .list("scripts", a.scripts.iter().map(script).collect())
            .list("extra_envs", a.extra_envs.iter().map(env_var).collect())
            .int("order", a.order)
            .opt(
                "resources_monitoring",
                a.resources_monitoring.as_ref().map(monitoring),
            )
            .list(
                "devcontainers",
                a.devcontainers
                    .iter()
                    .map(|d| {
                        Obj::default()
                            .str("workspace_folder", &d.workspace_folder)
                            .str("config_path", &d.config_path)
                            .str("name", &d.name)
                            .done()
                    })
                    .collect(),
            )
            .str("api_key_scope", &a.api_key_scope)
            .done()
    }

    fn agent_metadata(m: &agent::Metadata) -> Value {
        Obj::default()
            .str("key", &m.key)
            .str("display_name", &m.display_name)
            .str("script", &m.script)
            .int("interval", m.interval)
            .int("timeout", m.timeout)
            .int("order", m.order)
            .done()
    }

    fn display_apps(d: &DisplayApps) -> Value {
        Obj::default()
            .bool("vscode", d.vscode)
            .bool("vscode_insiders", d.vscode_insiders)
            .bool("web_terminal", d.web_terminal)
            .bool("ssh_helper", d.ssh_helper)
            .bool("port_forwarding_helper", d.port_forwarding_helper)
            .done()
    }

    fn monitoring(m: &ResourcesMonitoring) -> Value {
        Obj::default()
            .opt(
                "memory",
                m.memory.as_ref().map(|mem| {
                    Obj::default()
                        .bool("enabled", mem.enabled)
                        .int("threshold", mem.threshold.into())
                        .done()
                }),
            )
            .list(
                "volumes",
                m.volumes
                    .iter()
                    .map(|v| {
                        Obj::default()
                            .str("path", &v.path)
                            .bool("enabled", v.enabled)
                            .int("threshold", v.threshold.into())
                            .done()
                    })
                    .collect(),
            )
            .done()
    }

    fn script(s: &Script) -> Value {
        Obj::default()
            .str("display_name", &s.display_name)
            .str("icon", &s.icon)
            .str("script", &s.script)
            .str("cron", &s.cron)
            .bool("start_blocks_login", s.start_blocks_login)
            .bool("run_on_start", s.run_on_start)
            .bool("run_on_stop", s.run_on_stop)
            .int("timeout_seconds", s.timeout_seconds.into())
            .str("log_path", &s.log_path)
            .done()
    }

    fn env_var(e: &Env) -> Value {
        Obj::default()
            .str("name", &e.name)
            .str("value", &e.value)
            .done()
    }

    fn app(a: &App) -> Value {
        Obj::default()
            .str("slug", &a.slug)
            .str("display_name", &a.display_name)
            .str("command", &a.command)
            .str("url", &a.url)
            .str("icon", &a.icon)
            .bool("subdomain", a.subdomain)
            .opt(
                "healthcheck",
                a.healthcheck.as_ref().map(|h| {
                    Obj::default()
                        .str("url", &h.url)
                        .int("interval", h.interval.into())
                        .int("threshold", h.threshold.into())
                        .done()
                }),
            )
            .int("sharing_level", a.sharing_level.into())
            .bool("external", a.external)
            .int("order", a.order)
            .bool("hidden", a.hidden)
            .int("open_in", a.open_in.into())
            .str("group", &a.group)
            .str("id", &a.id)
            .str("tooltip", &a.tooltip)
            .done()
    }

    fn parameter(p: &RichParameter) -> Value {
        Obj::default()
            .str("name", &p.name)
            .str("description", &p.description)
            .str("type", &p.r#type)
            .bool("mutable", p.mutable)
            .str("default_value", &p.default_value)
            .str("icon", &p.icon)
            .list(
                "options",
                p.options
                    .iter()
                    .map(|o| {
                        Obj::default()
                            .str("name", &o.name)
                            .str("description", &o.description)
                            .str("value", &o.value)
                            .str("icon", &o.icon)
                            .done()
                    })
                    .collect(),
            )
            .str("validation_regex", &p.validation_regex)
            .str("validation_error", &p.validation_error)
            .opt("validation_min", p.validation_min.map(|v| json!(v)))
            .opt("validation_max", p.validation_max.map(|v| json!(v)))
            .str("validation_monotonic", &p.validation_monotonic)
            .bool("required", p.required)
            .str("display_name", &p.display_name)
            .int("order", p.order.into())
            .bool("ephemeral", p.ephemeral)
            .int("form_type", p.form_type.into())
            .done()
    }

    fn preset(p: &Preset) -> Value {
        let prebuild = p.prebuild.as_ref().map(|b| {
            Obj::default()
                .int("instances", b.instances.into())
                .opt(
                    "expiration_policy",
                    b.expiration_policy
                        .as_ref()
                        .map(|e| Obj::default().int("ttl", e.ttl.into()).done()),
                )
                .opt(
                    "scheduling",
                    b.scheduling.as_ref().map(|s| {
                        Obj::default()
                            .str("timezone", &s.timezone)
                            .list(
                                "schedule",
                                s.schedule
                                    .iter()
                                    .map(|c| {
                                        Obj::default()
                                            .str("cron", &c.cron)
                                            .int("instances", c.instances.into())
                                            .done()
                                    })
                                    .collect(),
                            )
                            .done()
                    }),
                )
                .done()
        });
        Obj::default()
            .str("name", &p.name)
            .list(
                "parameters",
                p.parameters
                    .iter()
                    .map(|pp| {
                        Obj::default()
                            .str("name", &pp.name)
                            .str("value", &pp.value)
                            .done()
                    })
                    .collect(),
            )
            .opt("prebuild", prebuild)
            .bool("default", p.default)
            .str("description", &p.description)
            .str("icon", &p.icon)
            .done()
    }

    fn external_auth(e: &ExternalAuthProviderResource) -> Value {
        Obj::default()
            .str("id", &e.id)
            .bool("optional", e.optional)
            .done()
    }

    fn ai_task(t: &AiTask) -> Value {
        Obj::default()
            .str("id", &t.id)
            .opt(
                "sidebar_app",
                t.sidebar_app
                    .as_ref()
                    .map(|s| Obj::default().str("id", &s.id).done()),
            )
            .str("app_id", &t.app_id)
            .done()
    }
}
