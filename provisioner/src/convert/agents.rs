//! `coder_agent` resources → [`Agent`]s, grouped under the resource each one runs on.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use coder_proto::provisioner::agent::{self, Auth};
use coder_proto::provisioner::{
    Agent, DisplayApps, MemoryResourceMonitor, ResourcesMonitoring, Script, VolumeResourceMonitor,
};
use regex::Regex;
use rustc_hash::FxHashMap;

use super::address::label_of;
use super::graph::{Direction, ResourceGraph};
use super::json::{AttrError, Attrs};
use super::{ConvertError, Index, TfResource};

/// Agent names: letters, digits and single hyphens between them, any case. Upstream
/// dropped underscores in 2025-02 (hence the dedicated error message).
pub(crate) const AGENT_NAME_PATTERN: &str = "(?i)^[a-z0-9](-?[a-z0-9])*$";

static AGENT_NAME: LazyLock<Regex> = LazyLock::new(|| {
    // A constant pattern, compiled (and so checked) by the unit tests below.
    Regex::new(AGENT_NAME_PATTERN).expect("AGENT_NAME_PATTERN is a valid regex")
});

/// Agents keyed by the graph label of the resource they attach to.
pub(crate) type AgentsByLabel = BTreeMap<String, Vec<Agent>>;

/// The attributes of `coder_agent` the converter reads, including legacy ones of older
/// provider versions.
#[derive(Debug, Default)]
struct AgentAttributes {
    auth: String,
    os: String,
    arch: String,
    dir: String,
    id: String,
    token: String,
    env: HashMap<String, String>,
    startup_script: String,
    startup_script_behavior: String,
    /// Provider < 0.6.10: `Some(false)` means the startup script blocks login.
    login_before_ready: Option<bool>,
    shutdown_script: String,
    connection_timeout: i32,
    troubleshooting_url: String,
    motd_file: String,
    metadata: Vec<agent::Metadata>,
    /// The first `display_apps` block, if any.
    display_apps: Option<DisplayApps>,
    order: i64,
    resources_monitoring: ResourcesMonitoring,
    api_key_scope: String,
}

impl AgentAttributes {
    fn decode(a: Attrs<'_>) -> Result<Self, AttrError> {
        let metadata = a.decode_blocks("metadata", |m| {
            Ok(agent::Metadata {
                key: m.string("key")?,
                display_name: m.string("display_name")?,
                script: m.string("script")?,
                interval: m.i64("interval")?,
                timeout: m.i64("timeout")?,
                order: m.i64("order")?,
            })
        })?;

        let display_apps = a
            .decode_blocks("display_apps", |d| {
                Ok(DisplayApps {
                    vscode: d.bool("vscode")?,
                    vscode_insiders: d.bool("vscode_insiders")?,
                    web_terminal: d.bool("web_terminal")?,
                    ssh_helper: d.bool("ssh_helper")?,
                    port_forwarding_helper: d.bool("port_forwarding_helper")?,
                })
            })?
            .into_iter()
            .next();

        // Always present, with an empty volume list; the last memory block wins and volumes
        // keep block order.
        let mut monitoring = ResourcesMonitoring::default();
        let blocks = a.decode_blocks("resources_monitoring", |block| {
            let memory = block.decode_blocks("memory", |m| {
                Ok(MemoryResourceMonitor {
                    enabled: m.bool("enabled")?,
                    threshold: m.i32("threshold")?,
                })
            })?;
            let volumes = block.decode_blocks("volume", |v| {
                Ok(VolumeResourceMonitor {
                    path: v.string("path")?,
                    enabled: v.bool("enabled")?,
                    threshold: v.i32("threshold")?,
                })
            })?;
            Ok((memory, volumes))
        })?;
        for (memory, volumes) in blocks {
            if let Some(last) = memory.into_iter().last() {
                monitoring.memory = Some(last);
            }
            monitoring.volumes.extend(volumes);
        }

        Ok(AgentAttributes {
            auth: a.string("auth")?,
            os: a.string("os")?,
            arch: a.string("arch")?,
            dir: a.string("dir")?,
            id: a.string("id")?,
            token: a.string("token")?,
            env: a.string_map("env")?,
            startup_script: a.string("startup_script")?,
            startup_script_behavior: a.string("startup_script_behavior")?,
            // Presence matters, not just the value: the old attribute defaulted to true.
            login_before_ready: if a.contains("login_before_ready") {
                Some(a.bool("login_before_ready")?)
            } else {
                None
            },
            shutdown_script: a.string("shutdown_script")?,
            connection_timeout: a.i32("connection_timeout")?,
            troubleshooting_url: a.string("troubleshooting_url")?,
            motd_file: a.string("motd_file")?,
            metadata,
            display_apps,
            order: a.i64("order")?,
            resources_monitoring: monitoring,
            api_key_scope: a.string("api_key_scope")?,
        })
    }
}

/// All apps shown when a template does not configure `display_apps`, except VS Code
/// Insiders.
fn default_display_apps() -> DisplayApps {
    DisplayApps {
        vscode: true,
        vscode_insiders: false,
        web_terminal: true,
        ssh_helper: true,
        port_forwarding_helper: true,
    }
}

fn check_name(name: &str, seen: &mut HashSet<String>) -> Result<(), ConvertError> {
    if name.is_empty() {
        return Err(ConvertError::EmptyAgentName);
    }
    if !AGENT_NAME.is_match(name) {
        if name.contains('_') {
            return Err(ConvertError::AgentNameUnderscores { name: name.into() });
        }
        return Err(ConvertError::InvalidAgentName { name: name.into() });
    }
    // Case-insensitively unique: names appear in hostnames and app URLs.
    if !seen.insert(name.to_lowercase()) {
        return Err(ConvertError::DuplicateAgentName { name: name.into() });
    }
    Ok(())
}

fn build_agent(resource: &TfResource, attrs: AgentAttributes) -> Agent {
    let behavior = if !attrs.startup_script_behavior.is_empty() {
        attrs.startup_script_behavior.as_str()
    } else if attrs.login_before_ready == Some(false) {
        "blocking"
    } else {
        "non-blocking"
    };

    // The legacy inline scripts become Script entries, as if written as coder_script.
    let mut scripts = Vec::new();
    if !attrs.startup_script.is_empty() {
        scripts.push(Script {
            display_name: "Startup Script".into(),
            icon: "/emojis/25b6-fe0f.png".into(),
            script: attrs.startup_script.clone(),
            start_blocks_login: behavior == "blocking",
            run_on_start: true,
            log_path: "coder-startup-script.log".into(),
            ..Script::default()
        });
    }
    if !attrs.shutdown_script.is_empty() {
        scripts.push(Script {
            display_name: "Shutdown Script".into(),
            icon: "/emojis/25c0.png".into(),
            script: attrs.shutdown_script.clone(),
            run_on_stop: true,
            log_path: "coder-shutdown-script.log".into(),
            ..Script::default()
        });
    }

    // Anything but token auth is an instance identity; the id is filled in later from
    // coder_agent_instance or the hosting VM.
    let auth = if attrs.auth == "token" {
        Auth::Token(attrs.token)
    } else {
        Auth::InstanceId(String::new())
    };

    Agent {
        id: attrs.id,
        name: resource.name.clone(),
        env: attrs.env,
        operating_system: attrs.os,
        architecture: attrs.arch,
        directory: attrs.dir,
        auth: Some(auth),
        connection_timeout_seconds: attrs.connection_timeout,
        troubleshooting_url: attrs.troubleshooting_url,
        motd_file: attrs.motd_file,
        metadata: attrs.metadata,
        display_apps: Some(attrs.display_apps.unwrap_or_else(default_display_apps)),
        scripts,
        order: attrs.order,
        resources_monitoring: Some(attrs.resources_monitoring),
        api_key_scope: attrs.api_key_scope,
        ..Agent::default()
    }
}

/// Converts every `coder_agent` and attaches it to the nearest managed, non-Coder
/// resource that depends on it (an agent nothing depends on is dropped).
pub(crate) fn convert_agents(
    index: &Index<'_>,
    graph: &ResourceGraph,
) -> Result<AgentsByLabel, ConvertError> {
    let mut seen_names = HashSet::new();
    let mut by_label = AgentsByLabel::new();
    for resource in index.of_type("coder_agent") {
        let attrs = AgentAttributes::decode(Attrs::new(&resource.values))
            .map_err(ConvertError::decode("agent"))?;
        check_name(&resource.name, &mut seen_names)?;
        let agent = build_agent(resource, attrs);

        let label = label_of(&resource.address);
        let node = graph
            .node_by_label(label)
            .ok_or_else(|| ConvertError::AgentNotInGraph {
                label: label.to_string(),
            })?;
        if let Some(host) = graph.nearest(node, Direction::Dependents, |l| index.can_host(l)) {
            by_label.entry(host).or_default().push(agent);
        }
    }
    Ok(by_label)
}

/// Every agent of an [`AgentsByLabel`] in its order (by label, then position), indexed to
/// find the agents a `coder_app`, `coder_env`, ... belongs to without comparing it with
/// every agent.
///
/// A resource naming a known `agent_id` belongs to the agents with that id. At plan time
/// both ids are usually unknown (empty); then the graph decides: the resource belongs to
/// the agents without an id that it has a direct edge to. The match is on raw node IDs
/// ending in `] <type>.<name> (expand)"`, as upstream does, so only root-module resources
/// match this way.
pub(crate) struct Owners<'a> {
    agents: Vec<&'a mut Agent>,
    by_id: FxHashMap<String, Vec<usize>>,
    /// Agents without an id (plan time), with the end of their graph node's raw ID.
    without_id: Vec<(usize, String)>,
}

impl<'a> Owners<'a> {
    pub(crate) fn new(agents: &'a mut AgentsByLabel) -> Self {
        let agents: Vec<&'a mut Agent> = agents.values_mut().flatten().collect();
        let mut by_id: FxHashMap<String, Vec<usize>> = FxHashMap::default();
        let mut without_id = Vec::new();
        for (i, agent) in agents.iter().enumerate() {
            if agent.id.is_empty() {
                without_id.push((i, agent_node_suffix(agent)));
            } else {
                by_id.entry(agent.id.clone()).or_default().push(i);
            }
        }
        Owners {
            agents,
            by_id,
            without_id,
        }
    }

    /// Runs `attach` on every agent that `resource`, naming `agent_id`, belongs to.
    pub(crate) fn for_each(
        &mut self,
        graph: &ResourceGraph,
        agent_id: &str,
        resource: &TfResource,
        mut attach: impl FnMut(&mut Agent),
    ) {
        let Owners {
            agents,
            by_id,
            without_id,
        } = self;
        if agent_id.is_empty() {
            // An unknown (empty) id matches the agents without an id that the resource
            // depends on directly.
            if without_id.is_empty() {
                return;
            }
            let targets = graph.dependency_ids(&resource_node_suffix(resource));
            for (i, suffix) in without_id.iter() {
                if targets.iter().any(|t| t.ends_with(suffix.as_str())) {
                    if let Some(agent) = agents.get_mut(*i) {
                        attach(agent);
                    }
                }
            }
        } else {
            // A known id matches agents with that id only.
            for &i in by_id.get(agent_id).map_or(&[][..], Vec::as_slice) {
                if let Some(agent) = agents.get_mut(i) {
                    attach(agent);
                }
            }
        }
    }
}

/// The end of the raw graph node ID of a root-module resource (`] <type>.<name> (expand)"`).
fn resource_node_suffix(resource: &TfResource) -> String {
    format!("] {}.{} (expand)\"", resource.r#type, resource.name)
}

fn agent_node_suffix(agent: &Agent) -> String {
    format!("] coder_agent.{} (expand)\"", agent.name)
}

/// Whether a Coder resource that names `agent_id` belongs to `agent`, one agent at a time:
/// what [`Owners`] answers for all agents at once.
#[cfg(test)]
pub(crate) fn depends_on_agent(
    graph: &ResourceGraph,
    agent: &Agent,
    agent_id: &str,
    resource: &TfResource,
) -> bool {
    if agent.id.is_empty() && agent_id.is_empty() {
        return graph
            .has_edge_with_suffixes(&resource_node_suffix(resource), &agent_node_suffix(agent));
    }
    agent.id == agent_id
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{dot, module, resource};
    use super::super::{convert_state, ConvertError};
    use super::*;

    fn agent_named(name: &str) -> Result<(), ConvertError> {
        let agent = resource(
            &format!("coder_agent.{name}"),
            json!({"auth": "token", "os": "linux", "arch": "amd64"}),
        );
        let label = format!("coder_agent.{name}");
        convert_state(&[module(vec![agent])], &dot(&[&label], &[])).map(|_| ())
    }

    #[test]
    fn name_pattern_matches_upstream_cases() {
        for ok in [
            "a",
            "1",
            "a1",
            "1a",
            "1a1",
            "1-1",
            "a-a",
            "ab-cd",
            "ab-cd-ef",
            "abc-123",
            "a-123",
            "abc-1",
            "ab-c",
            "a-bc",
            "A",
            "A1",
            "1A",
            "UppercaseValid",
            "valid-name-123",
        ] {
            assert!(AGENT_NAME.is_match(ok), "{ok}");
        }
        for bad in [
            "", "-", "-abc", "abc-", "ab--cd", "a--bc", "ab--c", "_", "ab_cd", "_abc", "abc_", " ",
            "abc ", " abc", "ab cd",
        ] {
            assert!(!AGENT_NAME.is_match(bad), "{bad:?}");
        }
    }

    #[test]
    fn owners_are_the_agents_depends_on_agent_accepts() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let ids = ["", "", "A", "B"];
        for _ in 0..200 {
            // Agents under a few labels, some sharing an id, some without one.
            let mut agents = AgentsByLabel::new();
            for a in 0..1 + next() % 6 {
                let label = format!("null_resource.host{}", next() % 3);
                agents.entry(label).or_default().push(Agent {
                    name: format!("a{a}"),
                    id: ids[(next() % 4) as usize].to_string(),
                    ..Agent::default()
                });
            }
            let names: Vec<String> = agents.values().flatten().map(|a| a.name.clone()).collect();
            let mut labels: Vec<String> =
                names.iter().map(|n| format!("coder_agent.{n}")).collect();
            let apps: Vec<String> = (0..4).map(|i| format!("coder_app.app{i}")).collect();
            labels.extend(apps.iter().cloned());
            let mut edges = Vec::new();
            for app in &apps {
                for name in &names {
                    if next() % 3 == 0 {
                        edges.push((app.clone(), format!("coder_agent.{name}")));
                    }
                }
            }
            let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
            let edge_refs: Vec<(&str, &str)> = edges
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            let (dot, dot_edges) =
                crate::convert::dot::parse_indexed(&dot(&label_refs, &edge_refs)).unwrap();
            let graph = ResourceGraph::new(dot, dot_edges);
            for app in &apps {
                let r = resource(app, json!({}));
                let agent_id = ["", "A", "B", "C"][(next() % 4) as usize];
                let expected: Vec<String> = agents
                    .values()
                    .flatten()
                    .filter(|a| depends_on_agent(&graph, a, agent_id, &r))
                    .map(|a| a.name.clone())
                    .collect();
                let mut found = Vec::new();
                Owners::new(&mut agents)
                    .for_each(&graph, agent_id, &r, |a| found.push(a.name.clone()));
                assert_eq!(found, expected, "{app} {agent_id:?} {edges:?}");
            }
        }
    }

    #[test]
    fn invalid_name() {
        assert_eq!(
            agent_named("bad--name").unwrap_err().to_string(),
            r#"agent name "bad--name" does not match regex "(?i)^[a-z0-9](-?[a-z0-9])*$""#
        );
    }

    #[test]
    fn underscores_get_their_own_message() {
        assert_eq!(
            agent_named("bad_name").unwrap_err().to_string(),
            r#"agent name "bad_name" contains underscores which are no longer supported, please use hyphens instead (regex: "(?i)^[a-z0-9](-?[a-z0-9])*$")"#
        );
    }

    #[test]
    fn empty_name() {
        let mut agent = resource("coder_agent.x", json!({}));
        agent.name = String::new();
        let err = convert_state(&[module(vec![agent])], "digraph {}").unwrap_err();
        assert_eq!(err.to_string(), "agent name cannot be empty");
    }

    #[test]
    fn duplicate_names_ignore_case() {
        let agents = vec![
            resource("coder_agent.dev", json!({"auth": "token"})),
            resource("coder_agent.Dev", json!({"auth": "token"})),
        ];
        let err = convert_state(
            &[module(agents)],
            &dot(&["coder_agent.dev", "coder_agent.Dev"], &[]),
        )
        .unwrap_err();
        // Labels are visited in order; "coder_agent.Dev" sorts first.
        assert_eq!(err.to_string(), "duplicate agent name: dev");
    }

    #[test]
    fn agent_missing_from_graph() {
        let agent = resource("module.m.coder_agent.main", json!({"auth": "token"}));
        let err = convert_state(&[module(vec![agent])], "digraph {}").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"couldn't find node on graph: "module.m.coder_agent.main""#
        );
    }

    #[test]
    fn decode_errors_name_the_attribute() {
        let agent = resource("coder_agent.main", json!({"os": true}));
        let err =
            convert_state(&[module(vec![agent])], &dot(&["coder_agent.main"], &[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"decode agent attributes: "os": expected a string, found a bool"#
        );
        let agent = resource(
            "coder_agent.main",
            json!({"resources_monitoring": [{"volume": [{"threshold": "x"}]}]}),
        );
        let err =
            convert_state(&[module(vec![agent])], &dot(&["coder_agent.main"], &[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"decode agent attributes: "resources_monitoring[0].volume[0].threshold": expected a number, found a string"#
        );
    }

    #[test]
    fn attaches_to_nearest_dependent_and_applies_legacy_fields() {
        let modules = [module(vec![
            resource(
                "coder_agent.main",
                json!({
                    "auth": "token", "token": "t", "id": "i", "os": "linux", "arch": "amd64",
                    "login_before_ready": false, "startup_script": "echo hi",
                    "shutdown_script": "echo bye", "display_apps": [],
                    "resources_monitoring": [{
                        "memory": [{"enabled": true, "threshold": 80}],
                        "volume": [{"path": "/b", "enabled": false, "threshold": 1},
                                   {"path": "/a", "enabled": true, "threshold": 2}]
                    }]
                }),
            ),
            resource("null_resource.near", json!({})),
            resource("null_resource.far", json!({})),
            resource("coder_env.not_a_host", json!({})),
        ])];
        let graph = dot(
            &[
                "coder_agent.main",
                "null_resource.near",
                "null_resource.far",
                "coder_env.not_a_host",
            ],
            &[
                ("coder_env.not_a_host", "coder_agent.main"),
                ("null_resource.near", "coder_agent.main"),
                ("null_resource.far", "null_resource.near"),
            ],
        );
        let state = convert_state(&modules, &graph).unwrap();
        let near = state.resources.iter().find(|r| r.name == "near").unwrap();
        let agent = &near.agents[0];
        assert_eq!(agent.auth, Some(Auth::Token("t".into())));
        assert_eq!(agent.display_apps, Some(default_display_apps()));
        let scripts: Vec<(&str, bool, bool, bool)> = agent
            .scripts
            .iter()
            .map(|s| {
                (
                    s.display_name.as_str(),
                    s.start_blocks_login,
                    s.run_on_start,
                    s.run_on_stop,
                )
            })
            .collect();
        assert_eq!(
            scripts,
            [
                ("Startup Script", true, true, false),
                ("Shutdown Script", false, false, true)
            ]
        );
        let monitoring = agent.resources_monitoring.as_ref().unwrap();
        assert_eq!(monitoring.memory.as_ref().unwrap().threshold, 80);
        let paths: Vec<&str> = monitoring.volumes.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["/b", "/a"]);
        let far = state.resources.iter().find(|r| r.name == "far").unwrap();
        assert!(far.agents.is_empty());
    }

    #[test]
    fn unattached_agents_are_dropped() {
        let modules = [module(vec![resource(
            "coder_agent.main",
            json!({"auth": "token"}),
        )])];
        let state = convert_state(&modules, &dot(&["coder_agent.main"], &[])).unwrap();
        assert!(state.resources.is_empty());
    }
}
