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
    use super::testing::errors;
    use super::*;
    use crate::schema::ProviderServer;

    fn config(url: Option<Value>, managed: Option<bool>) -> Value {
        Value::object([
            ("url", url.unwrap_or(Value::Null)),
            (
                "feature_use_managed_variables",
                managed.map(Value::bool).unwrap_or(Value::Null),
            ),
        ])
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
pub(crate) mod testing;
