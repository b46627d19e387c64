//! The environment Terraform runs with (coder-provisioner.md §3.5, §3.6).
//!
//! Terraform never inherits a `CODER_*` variable from us: the provisioner's own environment
//! may hold the control plane's secrets (upstream cites its database URL), and the coder
//! provider reads `CODER_*` as workspace inputs, so a stray one would change a build. Every
//! `CODER_*` variable Terraform sees is one this module set from the request.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;

use coder_proto::provisioner::{
    ExternalAuthProvider, Metadata, PrebuiltWorkspaceBuildStage, RichParameterValue,
    WorkspaceTransition,
};
use sha2::{Digest, Sha256};

use super::agent_scripts;

/// A process environment, ordered by name so runs are reproducible and logs are stable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: BTreeMap<OsString, OsString>,
}

impl Environment {
    pub fn set(&mut self, name: impl Into<OsString>, value: impl Into<OsString>) {
        self.vars.insert(name.into(), value.into());
    }

    pub fn get(&self, name: &str) -> Option<&OsString> {
        self.vars.get(std::ffi::OsStr::new(name))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&OsString, &OsString)> {
        self.vars.iter()
    }

    pub fn len(&self) -> usize {
        self.vars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }
}

/// Our process environment without any `CODER_*` variable.
pub fn sanitized_environ() -> Environment {
    let mut env = Environment::default();
    for (name, value) in std::env::vars_os() {
        if !is_coder_var(&name) {
            env.set(name, value);
        }
    }
    env
}

fn is_coder_var(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().starts_with(b"CODER_")
}

/// Settings that shape every Terraform command of a server.
#[derive(Debug, Clone, Default)]
pub struct BaseEnvOptions<'a> {
    /// `TF_PLUGIN_CACHE_DIR`: providers are downloaded (or copied from a mirror) once per
    /// machine instead of once per build.
    pub plugin_cache_dir: Option<&'a Path>,
    /// `TF_CLI_CONFIG_FILE`, e.g. a configuration that installs providers from a mirror.
    pub cli_config_file: Option<&'a Path>,
}

/// The environment of commands that need no build inputs (init, show, graph): the sanitized
/// process environment plus the server's settings.
pub fn base_env(opts: &BaseEnvOptions<'_>) -> Environment {
    let mut env = sanitized_environ();
    // No update check against HashiCorp's servers from a build machine.
    env.set("CHECKPOINT_DISABLE", "1");
    if let Some(dir) = opts.plugin_cache_dir {
        env.set("TF_PLUGIN_CACHE_DIR", dir.as_os_str());
    }
    if let Some(file) = opts.cli_config_file {
        env.set("TF_CLI_CONFIG_FILE", file.as_os_str());
    }
    env
}

/// Inputs of a plan or apply that travel as environment variables.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildInputs<'a> {
    pub metadata: Option<&'a Metadata>,
    pub rich_parameter_values: &'a [RichParameterValue],
    pub previous_parameter_values: &'a [RichParameterValue],
    pub external_auth_providers: &'a [ExternalAuthProvider],
    /// `Config.provisioner_log_level` was set: Terraform also writes its own log (as JSON).
    pub terraform_log: bool,
}

/// `CODER_PARAMETER_<hex sha256(name)>`: a parameter name may hold any character, an
/// environment variable name may not.
pub fn parameter_env_name(name: &str) -> String {
    format!("CODER_PARAMETER_{}", sha256_hex(name))
}

/// `CODER_PARAMETER_PREVIOUS_<hex sha256(name)>`: the value of the workspace's last build.
pub fn previous_parameter_env_name(name: &str) -> String {
    format!("CODER_PARAMETER_PREVIOUS_{}", sha256_hex(name))
}

/// `CODER_RUNNING_WORKSPACE_AGENT_TOKEN_<hex sha256(agent id)>`.
pub fn running_agent_token_env_name(agent_id: &str) -> String {
    format!(
        "CODER_RUNNING_WORKSPACE_AGENT_TOKEN_{}",
        sha256_hex(agent_id)
    )
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The lower-case name Terraform and the provider see in `CODER_WORKSPACE_TRANSITION`.
pub fn transition_name(transition: WorkspaceTransition) -> &'static str {
    match transition {
        WorkspaceTransition::Start => "start",
        WorkspaceTransition::Stop => "stop",
        WorkspaceTransition::Destroy => "destroy",
    }
}

/// `base` plus the build's workspace metadata, agent bootstrap scripts, parameter values and
/// external auth tokens (upstream's provision environment).
pub fn build_env(base: &Environment, inputs: &BuildInputs<'_>) -> Environment {
    let mut env = base.clone();
    let default_metadata = Metadata::default();
    let m = inputs.metadata.unwrap_or(&default_metadata);

    env.set("CODER_AGENT_URL", &m.coder_url);
    env.set(
        "CODER_WORKSPACE_TRANSITION",
        transition_name(m.workspace_transition()),
    );
    let plain = [
        ("CODER_WORKSPACE_NAME", &m.workspace_name),
        ("CODER_WORKSPACE_OWNER", &m.workspace_owner),
        ("CODER_WORKSPACE_OWNER_EMAIL", &m.workspace_owner_email),
        ("CODER_WORKSPACE_OWNER_NAME", &m.workspace_owner_name),
        (
            "CODER_WORKSPACE_OWNER_OIDC_ACCESS_TOKEN",
            &m.workspace_owner_oidc_access_token,
        ),
        (
            "CODER_WORKSPACE_OWNER_SSH_PUBLIC_KEY",
            &m.workspace_owner_ssh_public_key,
        ),
        (
            "CODER_WORKSPACE_OWNER_SSH_PRIVATE_KEY",
            &m.workspace_owner_ssh_private_key,
        ),
        (
            "CODER_WORKSPACE_OWNER_LOGIN_TYPE",
            &m.workspace_owner_login_type,
        ),
        ("CODER_WORKSPACE_ID", &m.workspace_id),
        ("CODER_WORKSPACE_OWNER_ID", &m.workspace_owner_id),
        (
            "CODER_WORKSPACE_OWNER_SESSION_TOKEN",
            &m.workspace_owner_session_token,
        ),
        ("CODER_WORKSPACE_TEMPLATE_ID", &m.template_id),
        ("CODER_WORKSPACE_TEMPLATE_NAME", &m.template_name),
        ("CODER_WORKSPACE_TEMPLATE_VERSION", &m.template_version),
        ("CODER_WORKSPACE_BUILD_ID", &m.workspace_build_id),
        ("CODER_TASK_ID", &m.task_id),
        ("CODER_TASK_PROMPT", &m.task_prompt),
    ];
    for (name, value) in plain {
        env.set(name, value.as_str());
    }
    // JSON, because group and role names may contain any character. An empty list is `[]`
    // rather than Go's `null` for a nil slice: both decode to no groups.
    env.set(
        "CODER_WORKSPACE_OWNER_GROUPS",
        serde_json::Value::from(m.workspace_owner_groups.clone()).to_string(),
    );
    let roles: Vec<serde_json::Value> = m
        .workspace_owner_rbac_roles
        .iter()
        .map(|r| serde_json::json!({ "name": r.name, "org_id": r.org_id }))
        .collect();
    env.set(
        "CODER_WORKSPACE_OWNER_RBAC_ROLES",
        serde_json::Value::from(roles).to_string(),
    );

    match m.prebuilt_workspace_build_stage() {
        PrebuiltWorkspaceBuildStage::Create => env.set("CODER_WORKSPACE_IS_PREBUILD", "true"),
        PrebuiltWorkspaceBuildStage::Claim => env.set("CODER_WORKSPACE_IS_PREBUILD_CLAIM", "true"),
        PrebuiltWorkspaceBuildStage::None => {}
    }
    for token in &m.running_agent_auth_tokens {
        env.set(
            running_agent_token_env_name(&token.agent_id),
            token.token.as_str(),
        );
    }
    // The provider looks a claimed prebuild's token up under the empty agent id; when the
    // control plane sends exactly one token that is the one it means.
    if let [only] = m.running_agent_auth_tokens.as_slice() {
        env.set(running_agent_token_env_name(""), only.token.as_str());
    }

    for (os, arch) in agent_scripts::PLATFORMS {
        env.set(
            format!("CODER_AGENT_SCRIPT_{os}_{arch}"),
            agent_scripts::bootstrap_script(os, arch),
        );
    }

    for p in inputs.previous_parameter_values {
        env.set(previous_parameter_env_name(&p.name), p.value.as_str());
    }
    for p in inputs.rich_parameter_values {
        env.set(parameter_env_name(&p.name), p.value.as_str());
    }
    for provider in inputs.external_auth_providers {
        // Both names: templates written before the rename read the git-auth one.
        env.set(
            format!("CODER_GIT_AUTH_ACCESS_TOKEN_{}", provider.id),
            provider.access_token.as_str(),
        );
        env.set(
            format!("CODER_EXTERNAL_AUTH_ACCESS_TOKEN_{}", provider.id),
            provider.access_token.as_str(),
        );
    }
    if inputs.terraform_log {
        env.set("TF_LOG", "JSON");
    }
    env
}

/// `TF_*` variables whose values are settings, not secrets; upstream shows these in full.
const SHOWN_TF_VARS: &[&str] = &[
    "TF_LOG",
    "TF_LOG_PATH",
    "TF_INPUT",
    "TF_DATA_DIR",
    "TF_WORKSPACE",
    "TF_IN_AUTOMATION",
    "TF_REGISTRY_DISCOVERY_RETRY",
    "TF_REGISTRY_CLIENT_TIMEOUT",
    "TF_CLI_CONFIG_FILE",
    "TF_IGNORE",
];

/// One line per `TF_*` variable of `env`, for a build's log: a `TF_VAR_*` or token in the
/// provisioner's environment changes what Terraform does, so users should see that it is
/// there, but not what it holds.
pub fn describe_terraform_vars(env: &Environment) -> Vec<String> {
    env.iter()
        .filter_map(|(name, value)| {
            let name = name.to_str()?;
            if !name.starts_with("TF_") {
                return None;
            }
            let shown = if SHOWN_TF_VARS.contains(&name) {
                value.to_string_lossy().into_owned()
            } else {
                "<value redacted>".to_string()
            };
            Some(format!("terraform environment variable: {name}={shown}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use coder_proto::provisioner::{Role, RunningAgentAuthToken};

    fn value(env: &Environment, name: &str) -> String {
        env.get(name)
            .map(|v| v.to_string_lossy().into_owned())
            .unwrap_or_else(|| panic!("{name} not set"))
    }

    #[test]
    fn parameter_names_are_hashed() {
        // sha256("Example")
        assert_eq!(
            parameter_env_name("Example"),
            "CODER_PARAMETER_d029f87e3d80f8fd9b1be67c7426b4cc1ff47b4a9d0a8461c826a59d8c5eb6cd"
        );
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(previous_parameter_env_name("a").starts_with("CODER_PARAMETER_PREVIOUS_"));
    }

    #[test]
    fn metadata_becomes_coder_variables() {
        let metadata = Metadata {
            coder_url: "https://coder.example.com".into(),
            workspace_transition: WorkspaceTransition::Stop.into(),
            workspace_name: "dev".into(),
            workspace_owner: "alice".into(),
            workspace_owner_groups: vec!["g1".into(), "g \"2\"".into()],
            workspace_owner_rbac_roles: vec![Role {
                name: "member".into(),
                org_id: "o1".into(),
            }],
            prebuilt_workspace_build_stage: PrebuiltWorkspaceBuildStage::Claim.into(),
            running_agent_auth_tokens: vec![RunningAgentAuthToken {
                agent_id: "a1".into(),
                token: "t1".into(),
            }],
            ..Default::default()
        };
        let env = build_env(
            &Environment::default(),
            &BuildInputs {
                metadata: Some(&metadata),
                rich_parameter_values: &[RichParameterValue {
                    name: "Region".into(),
                    value: "eu".into(),
                }],
                external_auth_providers: &[ExternalAuthProvider {
                    id: "github".into(),
                    access_token: "gho_x".into(),
                }],
                terraform_log: true,
                ..Default::default()
            },
        );
        assert_eq!(value(&env, "CODER_AGENT_URL"), "https://coder.example.com");
        assert_eq!(value(&env, "CODER_WORKSPACE_TRANSITION"), "stop");
        assert_eq!(value(&env, "CODER_WORKSPACE_NAME"), "dev");
        assert_eq!(
            value(&env, "CODER_WORKSPACE_OWNER_GROUPS"),
            r#"["g1","g \"2\""]"#
        );
        assert_eq!(
            value(&env, "CODER_WORKSPACE_OWNER_RBAC_ROLES"),
            r#"[{"name":"member","org_id":"o1"}]"#
        );
        assert_eq!(value(&env, "CODER_WORKSPACE_IS_PREBUILD_CLAIM"), "true");
        assert_eq!(value(&env, &running_agent_token_env_name("a1")), "t1");
        assert_eq!(value(&env, &running_agent_token_env_name("")), "t1");
        assert_eq!(value(&env, &parameter_env_name("Region")), "eu");
        assert_eq!(value(&env, "CODER_GIT_AUTH_ACCESS_TOKEN_github"), "gho_x");
        assert_eq!(
            value(&env, "CODER_EXTERNAL_AUTH_ACCESS_TOKEN_github"),
            "gho_x"
        );
        assert_eq!(value(&env, "TF_LOG"), "JSON");
        assert!(value(&env, "CODER_AGENT_SCRIPT_linux_amd64").contains("coder-linux-amd64"));
        assert!(value(&env, "CODER_AGENT_SCRIPT_windows_arm64").contains("coder-windows-arm64"));
    }

    #[test]
    fn no_inherited_coder_variables() {
        let env = sanitized_environ();
        assert!(env
            .iter()
            .all(|(name, _)| !name.as_encoded_bytes().starts_with(b"CODER_")));
    }

    #[test]
    fn terraform_variables_are_described_without_secrets() {
        let mut env = Environment::default();
        env.set("TF_LOG", "INFO");
        env.set("TF_VAR_password", "hunter2");
        env.set("PATH", "/bin");
        assert_eq!(
            describe_terraform_vars(&env),
            vec![
                "terraform environment variable: TF_LOG=INFO".to_string(),
                "terraform environment variable: TF_VAR_password=<value redacted>".to_string(),
            ]
        );
    }
}
