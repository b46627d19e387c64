//! Terraform plan/state JSON plus the `terraform graph` DOT text → Coder resources,
//! agents, apps, rich parameters, presets and AI tasks (upstream's `ConvertState`).
//!
//! The steps run in upstream's order, so the first failing step decides the error:
//! agents, agent instances, apps, envs, scripts, devcontainers, resource metadata, the
//! resource list, parameters, presets, AI tasks, external auth.
//!
//! Upstream iterates Go maps (random order) in most steps; we iterate resources by graph
//! label, then address, so the output and the error reported first are deterministic.
//! Rich parameters and presets keep discovery order (child modules before their parent's
//! own resources, modules in the order given), which upstream also preserves.

mod address;
mod agent_extras;
mod agents;
mod apps;
pub mod dot;
mod external_auth;
mod graph;
pub mod json;
mod metadata;
mod parameters;
mod partial_decode;
mod presets;
mod resources;
mod tasks;
mod text;

use std::collections::BTreeMap;

use coder_proto::provisioner::{
    AiTask, ExternalAuthProviderResource, Preset, Resource, RichParameter,
};
use rustc_hash::{FxHashMap, FxHashSet};

pub use json::{AttrError, ResourceMode, TfModule, TfPlan, TfResource, TfState, TfValues};

/// Everything `ConvertState` produces; the fields of upstream's `GraphComplete` that come
/// from conversion.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConvertedState {
    pub resources: Vec<Resource>,
    pub parameters: Vec<RichParameter>,
    pub presets: Vec<Preset>,
    /// Sorted by id.
    pub external_auth_providers: Vec<ExternalAuthProviderResource>,
    pub ai_tasks: Vec<AiTask>,
    /// The graph has a `coder_ai_task` resource (it may have count 0 and no instance).
    pub has_ai_tasks: bool,
    /// The graph has a `coder_external_agent` resource.
    pub has_external_agents: bool,
    /// Things upstream only logs (e.g. a preset naming an unknown parameter); the caller
    /// decides whether to show them.
    pub warnings: Vec<String>,
}

/// A template the converter rejects. Messages are upstream's, so users and tests see the
/// same text as with Coder's own provisioner.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    #[error("parse graph: {0}")]
    ParseGraph(#[from] dot::DotError),
    /// `what` is `agent`, `app`, `env`, `script`, `devcontainer`, `metadata`, `preset` or
    /// `coder_ai_task`.
    #[error("decode {what} attributes: {source}")]
    Decode {
        what: &'static str,
        source: AttrError,
    },
    #[error("decode map values for coder_parameter.{name}: {source}")]
    DecodeParameter { name: String, source: AttrError },
    #[error("decode form_type for coder_parameter.{name}: unsupported form type {}", text::go_quote(.form_type))]
    UnknownFormType { name: String, form_type: String },
    #[error("agent name cannot be empty")]
    EmptyAgentName,
    #[error("agent name {} contains underscores which are no longer supported, please use hyphens instead (regex: {})", text::go_quote(.name), text::go_quote(agents::AGENT_NAME_PATTERN))]
    AgentNameUnderscores { name: String },
    #[error("agent name {} does not match regex {}", text::go_quote(.name), text::go_quote(agents::AGENT_NAME_PATTERN))]
    InvalidAgentName { name: String },
    #[error("duplicate agent name: {name}")]
    DuplicateAgentName { name: String },
    #[error("couldn't find node on graph: {}", text::go_quote(.label))]
    AgentNotInGraph { label: String },
    #[error("app slug {} does not match regex {}", text::go_quote(.slug), text::go_quote(apps::APP_SLUG_PATTERN))]
    InvalidAppSlug { slug: String },
    #[error("duplicate app slug, they must be unique per template: {}", text::go_quote(.slug))]
    DuplicateAppSlug { slug: String },
    #[error("duplicate metadata resource: {label}")]
    DuplicateMetadataResource { label: String },
    /// `names` are Go-quoted, in order of first repetition.
    #[error("coder_parameter names must be unique but {}", text::appear_multiple_times(.names))]
    DuplicateParameterNames { names: Vec<String> },
    #[error("coder_workspace_preset parameters must be unique but {}", text::appear_multiple_times(.names))]
    DuplicatePresetParameters { names: Vec<String> },
    #[error("coder_workspace_preset names must be unique but {}", text::appear_multiple_times(.names))]
    DuplicatePresetNames { names: Vec<String> },
    #[error("a maximum of 1 coder_workspace_preset can be marked as default, but {count} are set")]
    MultipleDefaultPresets { count: usize },
    #[error("external auth id is not a string")]
    ExternalAuthIdNotString,
}

impl ConvertError {
    fn decode(what: &'static str) -> impl FnOnce(AttrError) -> ConvertError {
        move |source| ConvertError::Decode { what, source }
    }
}

/// Converts the resources of `modules` (each walked recursively) using the dependency
/// graph `dot` (the raw output of `terraform graph`).
///
/// For a plan pass the planned values and the prior state's data sources
/// ([`TfPlan::modules_for_conversion`]); for a state its root module
/// ([`TfState::modules_for_conversion`]). From `terraform show -json` text,
/// [`TfPlan::modules_from_json`] and [`TfState::modules_from_json`] give those modules
/// without the attribute values conversion never reads, for less work and the same result.
pub fn convert_state(modules: &[TfModule], dot: &str) -> Result<ConvertedState, ConvertError> {
    let (dot, edges) = dot::parse_indexed(dot)?;
    let graph = graph::ResourceGraph::new(dot, edges);
    let index = Index::build(modules);
    let mut warnings = Vec::new();

    let mut agents = agents::convert_agents(&index, &graph)?;
    agent_extras::apply_agent_instances(&index, &mut agents);
    apps::attach_apps(&index, &graph, &mut agents)?;
    agent_extras::attach_envs(&index, &graph, &mut agents)?;
    agent_extras::attach_scripts(&index, &graph, &mut agents)?;
    agent_extras::attach_devcontainers(&index, &graph, &mut agents)?;
    let metadata = metadata::collect(&index, &graph)?;
    let resources = resources::build(&index, agents, &metadata, &mut warnings);
    let parameters = parameters::convert(&index)?;
    let presets = presets::convert(&index, &parameters, &mut warnings)?;
    let ai_tasks = tasks::convert(&index)?;
    let external_auth_providers = external_auth::collect(&index)?;

    Ok(ConvertedState {
        resources,
        parameters,
        presets,
        external_auth_providers,
        ai_tasks,
        has_ai_tasks: tasks::graph_has_type(&graph, "coder_ai_task"),
        has_external_agents: tasks::graph_has_type(&graph, "coder_external_agent"),
        warnings,
    })
}

/// The resources of all modules, indexed by graph label.
pub(crate) struct Index<'a> {
    /// label → address → resource. A second resource with the same address replaces the
    /// first, so passing a module twice does not duplicate its resources.
    by_label: BTreeMap<&'a str, BTreeMap<&'a str, &'a TfResource>>,
    /// `coder_parameter`, `coder_workspace_preset` and `coder_ai_task` resources in
    /// discovery order. These lists are not deduplicated: upstream reports a parameter
    /// seen twice as a duplicate name.
    parameters: Vec<&'a TfResource>,
    presets: Vec<&'a TfResource>,
    ai_tasks: Vec<&'a TfResource>,
    /// type → resources of that type, by label then address.
    by_type: FxHashMap<&'a str, Vec<&'a TfResource>>,
    /// The labels an agent or a `coder_metadata` may attach to (see [`Index::can_host`]).
    hosts: FxHashSet<&'a str>,
}

impl<'a> Index<'a> {
    fn build(modules: &'a [TfModule]) -> Self {
        let mut index = Index {
            by_label: BTreeMap::new(),
            parameters: Vec::new(),
            presets: Vec::new(),
            ai_tasks: Vec::new(),
            by_type: FxHashMap::default(),
            hosts: FxHashSet::default(),
        };
        for module in modules {
            index.add_module(module);
        }
        let mut by_type: FxHashMap<&'a str, Vec<&'a TfResource>> = FxHashMap::default();
        for resource in index.all() {
            by_type
                .entry(resource.r#type.as_str())
                .or_default()
                .push(resource);
        }
        index.by_type = by_type;
        let hosts = index
            .by_label
            .iter()
            .filter(|(_, by_address)| {
                by_address
                    .values()
                    .any(|r| r.mode == ResourceMode::Managed && !r.r#type.starts_with("coder_"))
            })
            .map(|(label, _)| *label)
            .collect();
        index.hosts = hosts;
        index
    }

    /// Child modules first, then the module's own resources.
    fn add_module(&mut self, module: &'a TfModule) {
        for child in &module.child_modules {
            self.add_module(child);
        }
        for resource in &module.resources {
            match resource.r#type.as_str() {
                "coder_parameter" => self.parameters.push(resource),
                "coder_workspace_preset" => self.presets.push(resource),
                "coder_ai_task" => self.ai_tasks.push(resource),
                _ => {}
            }
            self.by_label
                .entry(address::label_of(&resource.address))
                .or_default()
                .insert(&resource.address, resource);
        }
    }

    /// Every resource, by label then address.
    fn all(&self) -> impl Iterator<Item = &'a TfResource> + '_ {
        self.by_label
            .values()
            .flat_map(|by_address| by_address.values().copied())
    }

    fn of_type<'s>(&'s self, ty: &str) -> impl Iterator<Item = &'a TfResource> + 's {
        self.by_type.get(ty).into_iter().flatten().copied()
    }

    /// Whether an agent or a `coder_metadata` may attach to the resource(s) behind this
    /// graph label: a managed resource that is not itself a Coder resource.
    fn can_host(&self, label: &str) -> bool {
        self.hosts.contains(label)
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Builders for small hand-written inputs.

    use serde_json::{json, Value};

    use super::{TfModule, TfResource};

    pub(crate) fn resource(address: &str, values: Value) -> TfResource {
        let (mode, rest) = match address.strip_prefix("data.") {
            Some(rest) => ("data", rest),
            None => ("managed", address),
        };
        // The type and name are the last two dotted parts before any instance key.
        let label = rest.split('[').next().unwrap_or(rest);
        let parts: Vec<&str> = label.rsplitn(3, '.').collect();
        serde_json::from_value(json!({
            "address": address,
            "mode": mode,
            "type": parts.get(1).copied().unwrap_or(""),
            "name": parts.first().copied().unwrap_or(""),
            "values": values,
        }))
        .unwrap()
    }

    pub(crate) fn module(resources: Vec<TfResource>) -> TfModule {
        TfModule {
            address: String::new(),
            resources,
            child_modules: Vec::new(),
        }
    }

    /// A graph with one node per label and an edge for each `(from, to)` pair.
    pub(crate) fn dot(labels: &[&str], edges: &[(&str, &str)]) -> String {
        let mut out = String::from("digraph {\n");
        for l in labels {
            out.push_str(&format!("  \"[root] {l} (expand)\" [label = \"{l}\"]\n"));
        }
        for (a, b) in edges {
            out.push_str(&format!(
                "  \"[root] {a} (expand)\" -> \"[root] {b} (expand)\"\n"
            ));
        }
        out.push('}');
        out
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::test_support::{dot, module, resource};
    use super::*;

    #[test]
    fn graph_errors_are_prefixed() {
        let err = convert_state(&[], "not a graph").unwrap_err();
        assert_eq!(
            err.to_string(),
            "parse graph: 1:1: expected \"graph\" or \"digraph\", found \"not\""
        );
    }

    #[test]
    fn empty_input() {
        let state = convert_state(&[], "digraph {}").unwrap();
        assert_eq!(state, ConvertedState::default());
    }

    #[test]
    fn invalid_address_gets_sentinel_module_path() {
        let mut r = resource("invalid", json!({}));
        r.r#type = "null_resource".into();
        r.name = "invalid".into();
        let state = convert_state(&[module(vec![r])], "digraph {}").unwrap();
        assert_eq!(state.resources.len(), 1);
        assert_eq!(state.resources[0].name, "invalid");
        assert_eq!(state.resources[0].module_path, "invalid terraform address");
        assert_eq!(
            state.warnings,
            ["failed to parse Terraform address: \"invalid\""]
        );
    }

    #[test]
    fn same_module_twice_does_not_duplicate_resources() {
        let m = module(vec![resource("null_resource.a", json!({}))]);
        let state = convert_state(&[m.clone(), m], &dot(&["null_resource.a"], &[])).unwrap();
        assert_eq!(state.resources.len(), 1);
    }
}
