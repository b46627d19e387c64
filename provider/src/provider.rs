//! The Coder provider: its configuration block (`provider "coder" { url = ... }`) and the list
//! of types it serves.

use crate::cty::{AttributePath, Value};
use crate::data_sources;
use crate::env::Env;
use crate::go::{self, url::GoUrl};
use crate::resources;
use crate::schema::{
    Attribute, DataSource, Diagnostic, Diagnostics, Framework, ProviderDefinition, Resource, Schema,
};

/// What configuring the provider produces and every type's CRUD receives.
pub struct CoderMeta {
    /// The Coder access URL (provider `url`, else `CODER_AGENT_URL`, else the placeholder).
    pub url: GoUrl,
    /// The `CODER_*` environment the control plane passed, captured at configure time.
    pub env: Env,
}

/// The access URL when neither the configuration nor `CODER_AGENT_URL` gives one.
pub const DEFAULT_URL: &str = "https://mydeployment.coder.com";

/// The environment variable behind the `url` default.
const URL_ENV: &str = "CODER_AGENT_URL";

/// The provider definition. It reads the process environment when Terraform configures it;
/// tests give it an environment of their own with [`CoderProvider::with_env`].
#[derive(Default)]
pub struct CoderProvider {
    env: Option<Env>,
}

impl CoderProvider {
    pub fn new() -> Self {
        CoderProvider::default()
    }

    pub fn with_env(env: Env) -> Self {
        CoderProvider { env: Some(env) }
    }

    fn env(&self) -> Env {
        self.env.clone().unwrap_or_else(Env::from_process)
    }
}

/// The provider as the plugin layer serves it.
pub fn framework() -> Framework<CoderProvider> {
    Framework::new(CoderProvider::new())
}

/// The provider with a fixed environment instead of the process's (tests).
pub fn framework_with_env(env: Env) -> Framework<CoderProvider> {
    Framework::new(CoderProvider::with_env(env))
}

/// Upstream's `url` DefaultFunc: `CODER_AGENT_URL` when set and non-empty, else the placeholder.
fn default_url(env: &Env) -> String {
    env.or(URL_ENV, DEFAULT_URL).to_string()
}

impl ProviderDefinition for CoderProvider {
    type Meta = CoderMeta;

    fn schema(&self) -> Schema {
        Schema::new("The Coder provider describes a workspace: its agents, apps and parameters.")
            .attr(
                Attribute::string("url")
                    .optional()
                    .validate(go::url::validator())
                    .describe(
                        "The URL to access Coder. Defaults to the `CODER_AGENT_URL` environment \
                         variable, else `https://mydeployment.coder.com`.",
                    ),
            )
            .attr(
                Attribute::bool("feature_use_managed_variables")
                    .optional()
                    .deprecated(
                        "Terraform variables are now exclusively utilized for template-wide \
                         variables after the removal of support for legacy parameters; declare \
                         values the workspace owner chooses with data \"coder_parameter\" instead.",
                    )
                    .describe(
                        "Feature: use managed Terraform variables. If disabled, Terraform \
                         variables are included in the legacy parameter schema.",
                    ),
            )
    }

    /// SDKv2 validates a DefaultFunc's value as if it were configured, so a malformed
    /// `CODER_AGENT_URL` fails validation at `url` even when the block leaves `url` out.
    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if !config.get_attr("url").is_none_or(Value::is_null) {
            return;
        }
        let value = Value::string(default_url(&self.env()));
        for d in go::url::validator().check(&value, &AttributePath::root().attr("url")) {
            diags.push(d);
        }
    }

    fn configure(&self, config: &Value, diags: &mut Diagnostics) -> Option<CoderMeta> {
        let env = self.env();
        let url = match config.get_attr("url") {
            Some(Value::Null) | None => default_url(&env),
            // Upstream reads an unknown value as "", which the check below rejects.
            Some(v) => v.as_str().unwrap_or_default().to_string(),
        };
        if url.is_empty() {
            diags.push(
                Diagnostic::error(format!("{URL_ENV} must not be empty; got \"\""))
                    .at(AttributePath::root().attr("url")),
            );
            return None;
        }
        match go::url::parse(&url) {
            Ok(url) => Some(CoderMeta { url, env }),
            Err(message) => {
                diags.push(Diagnostic::error(message).at(AttributePath::root().attr("url")));
                None
            }
        }
    }

    fn resources(&self) -> Vec<Box<dyn Resource<CoderMeta>>> {
        vec![
            Box::new(resources::agent::Agent),
            Box::new(resources::app::App),
            Box::new(resources::agent_instance::AgentInstance),
            Box::new(resources::metadata::Metadata),
            Box::new(resources::script::Script),
            Box::new(resources::env::CoderEnv),
            Box::new(resources::devcontainer::Devcontainer),
            Box::new(resources::external_agent::ExternalAgent),
            Box::new(resources::ai_task::AiTask),
        ]
    }

    fn data_sources(&self) -> Vec<Box<dyn DataSource<CoderMeta>>> {
        vec![
            Box::new(data_sources::workspace::Workspace),
            Box::new(data_sources::workspace_owner::WorkspaceOwner),
            Box::new(data_sources::parameter::Parameter),
            Box::new(data_sources::provisioner::Provisioner),
            Box::new(data_sources::external_auth::ExternalAuth),
            Box::new(data_sources::workspace_tags::WorkspaceTags),
            Box::new(data_sources::workspace_preset::WorkspacePreset),
            Box::new(data_sources::task::Task),
            Box::new(data_sources::secret::Secret),
            Box::new(data_sources::git_auth::GitAuth),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ProviderServer, Severity};

    fn config(url: Option<Value>, managed: Option<bool>) -> Value {
        Value::object([
            ("url", url.unwrap_or(Value::Null)),
            (
                "feature_use_managed_variables",
                managed.map(Value::bool).unwrap_or(Value::Null),
            ),
        ])
    }

    fn errors(diags: &Diagnostics) -> Vec<String> {
        diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.summary.clone())
            .collect()
    }

    #[test]
    fn url_defaults_to_the_placeholder() {
        let provider = CoderProvider::with_env(Env::default());
        let mut diags = Diagnostics::new();
        let meta = provider.configure(&config(None, None), &mut diags);
        assert!(diags.is_empty());
        assert_eq!(
            meta.map(|m| m.url.to_string()).as_deref(),
            Some("https://mydeployment.coder.com")
        );
    }

    #[test]
    fn url_defaults_to_coder_agent_url() {
        let env = Env::from_pairs([("CODER_AGENT_URL", "http://coder.internal:3000/")]);
        let provider = CoderProvider::with_env(env);
        let mut diags = Diagnostics::new();
        let meta = provider.configure(&config(None, None), &mut diags);
        assert_eq!(
            meta.map(|m| m.url.to_string()).as_deref(),
            Some("http://coder.internal:3000/")
        );
    }

    #[test]
    fn empty_coder_agent_url_counts_as_unset() {
        let env = Env::from_pairs([("CODER_AGENT_URL", "")]);
        let mut diags = Diagnostics::new();
        let meta = CoderProvider::with_env(env).configure(&config(None, None), &mut diags);
        assert_eq!(
            meta.map(|m| m.url.to_string()).as_deref(),
            Some(DEFAULT_URL)
        );
    }

    #[test]
    fn configured_url_wins_over_the_environment() {
        let env = Env::from_pairs([("CODER_AGENT_URL", "http://ignored/")]);
        let mut diags = Diagnostics::new();
        let meta = CoderProvider::with_env(env).configure(
            &config(Some(Value::string("https://x.example")), None),
            &mut diags,
        );
        assert_eq!(
            meta.map(|m| m.url.to_string()).as_deref(),
            Some("https://x.example")
        );
    }

    #[test]
    fn empty_url_is_an_error() {
        let mut diags = Diagnostics::new();
        let meta = CoderProvider::with_env(Env::default())
            .configure(&config(Some(Value::string("")), None), &mut diags);
        assert!(meta.is_none());
        assert_eq!(
            errors(&diags),
            vec![r#"CODER_AGENT_URL must not be empty; got """#]
        );
    }

    #[test]
    fn configured_url_is_validated() {
        let framework = framework_with_env(Env::default());
        let diags =
            framework.validate_provider_config(&config(Some(Value::string("https://a b")), None));
        assert_eq!(
            errors(&diags),
            vec![r#"parse "https://a b": invalid character " " in host name"#]
        );
    }

    #[test]
    fn default_from_the_environment_is_validated() {
        let env = Env::from_pairs([("CODER_AGENT_URL", "http://host:abc")]);
        let framework = framework_with_env(env);
        let diags = framework.validate_provider_config(&config(None, None));
        assert_eq!(
            errors(&diags),
            vec![r#"parse "http://host:abc": invalid port ":abc" after host"#]
        );
        assert_eq!(
            diags.iter().next().and_then(|d| d.path.clone()),
            Some(AttributePath::root().attr("url"))
        );
    }

    #[test]
    fn managed_variables_flag_is_accepted_with_a_warning() {
        let framework = framework_with_env(Env::default());
        let diags = framework.validate_provider_config(&config(None, Some(true)));
        assert!(!diags.has_errors());
        let warning = diags.iter().next().cloned();
        assert_eq!(
            warning.as_ref().map(|d| d.summary.as_str()),
            Some("Argument is deprecated")
        );
        assert!(warning
            .map(|d| d.detail.contains("coder_parameter"))
            .unwrap_or(false));
        assert!(framework
            .configure_provider(&config(None, Some(true)))
            .is_empty());
    }

    #[test]
    fn every_type_is_served_with_an_id() {
        let framework = framework_with_env(Env::default());
        let schemas = framework.schemas();
        for name in ["coder_agent", "coder_app"] {
            let schema = schemas.resources.get(name);
            assert!(
                schema.is_some_and(|s| s.block.attribute("id").is_some()),
                "{name}"
            );
        }
        assert!(schemas.data_sources.contains_key("coder_workspace"));
    }
}

/// Drives types through the real provider (`Framework<CoderProvider>`, the code path Terraform
/// uses) with an environment of the test's choosing.
#[cfg(test)]
pub(crate) mod testing {
    use std::collections::BTreeMap;

    use super::*;
    use crate::schema::server::{
        ApplyRequest, ApplyResponse, PlanRequest, PlanResponse, ReadResponse,
    };
    use crate::schema::{Block, Nesting, ProviderServer, Severity};

    pub struct Tf {
        pub fw: Framework<CoderProvider>,
    }

    /// The provider configured with an empty `provider "coder" {}` block and `env`.
    pub fn tf(env: &[(&str, &str)]) -> Tf {
        tf_with_url(None, env)
    }

    /// The provider configured with `url` (when given) and `env`.
    pub fn tf_with_url(url: Option<&str>, env: &[(&str, &str)]) -> Tf {
        let fw = framework_with_env(Env::from_pairs(env.iter().copied()));
        let config = Value::object([
            ("url", url.map(Value::string).unwrap_or(Value::Null)),
            ("feature_use_managed_variables", Value::Null),
        ]);
        let diags = fw.configure_provider(&config);
        assert!(!diags.has_errors(), "configure: {diags:?}");
        Tf { fw }
    }

    pub fn errors(diags: &Diagnostics) -> Vec<String> {
        of_severity(diags, Severity::Error)
    }

    pub fn warnings(diags: &Diagnostics) -> Vec<String> {
        of_severity(diags, Severity::Warning)
    }

    fn of_severity(diags: &Diagnostics, severity: Severity) -> Vec<String> {
        diags
            .iter()
            .filter(|d| d.severity == severity)
            .map(|d| d.summary.clone())
            .collect()
    }

    pub fn is_uuid(value: Option<&Value>) -> bool {
        value
            .and_then(Value::as_str)
            .is_some_and(|s| s.len() == 36 && uuid::Uuid::try_parse(s).is_ok())
    }

    pub fn attrs(pairs: &[(&str, Value)]) -> Value {
        Value::object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())))
    }

    impl Tf {
        fn resource_block(&self, name: &str) -> &Block {
            match self.fw.schemas().resources.get(name) {
                Some(schema) => &schema.block,
                None => panic!("{name} is not served"),
            }
        }

        /// A resource configuration as Terraform sends it: `pairs`, every other attribute
        /// null and every other block type empty, at every depth.
        pub fn config(&self, name: &str, pairs: &[(&str, Value)]) -> Value {
            let mut value = attrs(pairs);
            complete(self.resource_block(name), &mut value);
            value
        }

        /// One element of the nested block at `blocks` (outermost first), completed likewise.
        pub fn element(&self, name: &str, blocks: &[&str], pairs: &[(&str, Value)]) -> Value {
            let mut block = self.resource_block(name);
            for b in blocks {
                block = match block.nested(b) {
                    Some(nested) => &nested.block,
                    None => panic!("{name} has no block {b}"),
                };
            }
            let mut value = attrs(pairs);
            complete(block, &mut value);
            value
        }

        pub fn validate(&self, name: &str, config: &Value) -> Diagnostics {
            self.fw.validate_resource_config(name, config)
        }

        /// PlanResourceChange for a create; Terraform proposes the configuration.
        pub fn plan(&self, name: &str, config: &Value) -> PlanResponse {
            self.fw.plan_resource_change(PlanRequest {
                type_name: name,
                prior_state: Value::Null,
                proposed_new_state: config.clone(),
                config: config.clone(),
                prior_private: Vec::new(),
            })
        }

        pub fn apply(&self, name: &str, planned: &Value, config: &Value) -> ApplyResponse {
            self.fw.apply_resource_change(ApplyRequest {
                type_name: name,
                prior_state: Value::Null,
                planned_state: planned.clone(),
                config: config.clone(),
                planned_private: Vec::new(),
            })
        }

        /// The plan Terraform makes for `config` over the stored `state`.
        pub fn replan(&self, name: &str, state: &Value, config: &Value) -> PlanResponse {
            let proposed = proposed_new(self.resource_block(name), state, config);
            self.fw.plan_resource_change(PlanRequest {
                type_name: name,
                prior_state: state.clone(),
                proposed_new_state: proposed,
                config: config.clone(),
                prior_private: Vec::new(),
            })
        }

        pub fn refresh(&self, name: &str, state: &Value) -> ReadResponse {
            self.fw.read_resource(name, state.clone(), Vec::new())
        }

        /// Validate, plan, apply, refresh and re-plan `config`, asserting what strict
        /// Terraform asserts (no errors, apply keeps known planned values, the re-plan after
        /// a refresh is empty). Returns (plan, state, all diagnostics).
        pub fn create(&self, name: &str, config: &Value) -> (Value, Value, Diagnostics) {
            let mut all = self.validate(name, config);
            assert!(!all.has_errors(), "validate: {all:?}");
            let plan = self.plan(name, config);
            assert!(
                !plan.diagnostics.has_errors(),
                "plan: {:?}",
                plan.diagnostics
            );
            all.extend(plan.diagnostics.clone());
            let applied = self.apply(name, &plan.planned_state, config);
            assert!(
                !applied.diagnostics.has_errors(),
                "apply: {:?}",
                applied.diagnostics
            );
            all.extend(applied.diagnostics.clone());
            assert_consistent(&plan.planned_state, &applied.new_state, "");
            let refreshed = self.refresh(name, &applied.new_state);
            assert!(
                !refreshed.diagnostics.has_errors(),
                "refresh: {:?}",
                refreshed.diagnostics
            );
            assert_eq!(
                refreshed.new_state, applied.new_state,
                "refresh changed the state"
            );
            let again = self.replan(name, &refreshed.new_state, config);
            assert!(
                !again.diagnostics.has_errors(),
                "re-plan: {:?}",
                again.diagnostics
            );
            assert!(
                again.requires_replace.is_empty(),
                "re-plan replaces {:?}",
                again.requires_replace
            );
            assert_eq!(
                again.planned_state, applied.new_state,
                "re-plan changed the state"
            );
            (plan.planned_state, applied.new_state, all)
        }

        /// ReadDataSource with a configuration of `pairs` (others null / empty), after
        /// ValidateDataResourceConfig; the validation diagnostics come first.
        pub fn read_data(&self, name: &str, pairs: &[(&str, Value)]) -> (Value, Diagnostics) {
            let block = match self.fw.schemas().data_sources.get(name) {
                Some(schema) => &schema.block,
                None => panic!("{name} is not served"),
            };
            let mut config = attrs(pairs);
            complete(block, &mut config);
            let mut diags = self.fw.validate_data_source_config(name, &config);
            let (state, read) = self.fw.read_data_source(name, config);
            diags.extend(read);
            (state, diags)
        }
    }

    fn complete(block: &Block, value: &mut Value) {
        let Value::Object(attrs) = value else {
            return;
        };
        for attribute in &block.attributes {
            attrs.entry(attribute.name.clone()).or_insert(Value::Null);
        }
        for nested in &block.blocks {
            let slot = attrs
                .entry(nested.name.clone())
                .or_insert_with(|| nested.empty_value());
            match (nested.nesting, slot) {
                (Nesting::List | Nesting::Set, Value::List(items) | Value::Set(items)) => items
                    .iter_mut()
                    .for_each(|item| complete(&nested.block, item)),
                (Nesting::Single | Nesting::Group, item) => complete(&nested.block, item),
                _ => {}
            }
        }
    }

    /// Terraform's proposed new state, as far as these schemas need it: configured values,
    /// and prior values of computed attributes the configuration leaves null.
    fn proposed_new(block: &Block, prior: &Value, config: &Value) -> Value {
        let (Value::Object(prior_attrs), Value::Object(config_attrs)) = (prior, config) else {
            return config.clone();
        };
        let mut out = BTreeMap::new();
        for attribute in &block.attributes {
            let configured = config_attrs
                .get(&attribute.name)
                .cloned()
                .unwrap_or(Value::Null);
            let value = if attribute.computed && configured.is_null() {
                prior_attrs
                    .get(&attribute.name)
                    .cloned()
                    .unwrap_or(Value::Null)
            } else {
                configured
            };
            out.insert(attribute.name.clone(), value);
        }
        for nested in &block.blocks {
            let configured = config_attrs
                .get(&nested.name)
                .cloned()
                .unwrap_or_else(|| nested.empty_value());
            let prior_value = prior_attrs
                .get(&nested.name)
                .cloned()
                .unwrap_or(Value::Null);
            let value = match (&configured, &prior_value) {
                (Value::List(c), Value::List(p)) if c.len() == p.len() => Value::List(
                    c.iter()
                        .zip(p)
                        .map(|(c, p)| proposed_new(&nested.block, p, c))
                        .collect(),
                ),
                (Value::Set(c), Value::Set(p)) if c.len() == p.len() => Value::Set(
                    c.iter()
                        .zip(p)
                        .map(|(c, p)| proposed_new(&nested.block, p, c))
                        .collect(),
                ),
                _ => configured,
            };
            out.insert(nested.name.clone(), value);
        }
        Value::Object(out)
    }

    fn assert_consistent(planned: &Value, applied: &Value, at: &str) {
        match (planned, applied) {
            (Value::Unknown, v) => assert!(v.is_wholly_known(), "{at}: unknown after apply"),
            (Value::Object(p), Value::Object(a)) => {
                assert_eq!(
                    p.keys().collect::<Vec<_>>(),
                    a.keys().collect::<Vec<_>>(),
                    "{at}"
                );
                for (k, pv) in p {
                    if let Some(av) = a.get(k) {
                        assert_consistent(pv, av, &format!("{at}.{k}"));
                    }
                }
            }
            (Value::List(p), Value::List(a)) | (Value::Set(p), Value::Set(a)) => {
                assert_eq!(p.len(), a.len(), "{at}: element count changed");
                for (i, (pv, av)) in p.iter().zip(a).enumerate() {
                    assert_consistent(pv, av, &format!("{at}.{i}"));
                }
            }
            (p, a) => assert_eq!(p, a, "{at}: apply changed a planned value"),
        }
    }
}
