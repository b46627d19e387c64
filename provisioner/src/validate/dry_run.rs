//! The dry run: what the provisioner would see when the template is imported, without a
//! control plane. Like upstream's template import, it plans a workspace **start** and a
//! **stop** (with placeholder workspace metadata, parameter defaults, and the variables'
//! defaults or `--var` values), then converts each plan into resources, agents and apps with
//! [`crate::convert`], reporting the converter's errors.
//!
//! It runs in a scratch copy of the template (so the template directory gets no `.terraform`
//! or lock file), with the Terraform runner the provisioner uses.
//!
//! Decision: when `terraform init` fails because a provider cannot be installed (no registry
//! access, no mirror entry: the docker, kubernetes and aws providers here), the dry run is
//! **skipped with a warning** naming the providers, not failed: the static checks do not need
//! them, and a template is not wrong because this machine cannot download its providers. Any
//! other init failure, a failed plan and a conversion error are errors.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use coder_proto::provisioner::{
    agent, LogLevel, Metadata, Resource, VariableValue, WorkspaceTransition,
};
use regex::Regex;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{Check, Finding, VariableRow};
use crate::convert::{self, TfPlan};
use crate::terraform::{
    self, build_env, BuildInputs, Executor, LogSink, TerraformOptions, WorkRoot,
};

#[derive(Debug, Clone, Default)]
pub struct DryRunOptions {
    /// Terraform to run; the first `terraform` on `PATH` when `None`.
    pub terraform: Option<PathBuf>,
    /// Values for variables (`-var`), needed for variables without a default.
    pub variables: Vec<(String, String)>,
    /// `TF_CLI_CONFIG_FILE` for Terraform (e.g. a provider mirror); inherited when `None`.
    pub cli_config_file: Option<PathBuf>,
    /// Where scratch copies go; a directory under the system temp dir when `None`.
    pub work_root: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DryRunStatus {
    /// `--static`: only the static checks were asked for.
    NotRequested,
    /// Could not run here (no Terraform, providers not installable, missing variable
    /// values); see the report's warnings.
    Skipped,
    /// Both plans ran and converted.
    Passed,
    /// A plan or a conversion failed; see the report's errors.
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct DryRunReport {
    pub status: DryRunStatus,
    /// Why it was skipped.
    pub reason: Option<String>,
    /// The Terraform version used.
    pub terraform: Option<String>,
    pub transitions: Vec<TransitionReport>,
}

/// One plan (start or stop), converted.
#[derive(Debug, Clone, Serialize)]
pub struct TransitionReport {
    pub transition: &'static str,
    pub resources: Vec<PlannedResource>,
    /// The rich parameters the plan declares (user parameters), by name.
    pub parameters: Vec<String>,
    /// The plan's or the conversion's error.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedResource {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub module_path: String,
    pub daily_cost: i32,
    pub agents: Vec<PlannedAgent>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedAgent {
    pub name: String,
    pub operating_system: String,
    pub architecture: String,
    /// `token` or `instance-identity`.
    pub auth: &'static str,
    pub apps: Vec<String>,
    pub scripts: Vec<String>,
}

impl DryRunReport {
    pub fn not_requested() -> DryRunReport {
        DryRunReport {
            status: DryRunStatus::NotRequested,
            reason: None,
            terraform: None,
            transitions: Vec::new(),
        }
    }

    pub fn skipped(reason: impl Into<String>) -> DryRunReport {
        DryRunReport {
            status: DryRunStatus::Skipped,
            reason: Some(reason.into()),
            ..DryRunReport::not_requested()
        }
    }

    pub fn transition(&self, name: &str) -> Option<&TransitionReport> {
        self.transitions.iter().find(|t| t.transition == name)
    }
}

/// Collects Terraform's output; errors are kept apart for the report.
#[derive(Default)]
struct Recorder {
    lines: Mutex<Vec<(LogLevel, String)>>,
}

impl LogSink for Recorder {
    fn log(&self, level: LogLevel, output: &str) {
        if let Ok(mut lines) = self.lines.lock() {
            lines.push((level, output.to_string()));
        }
    }
}

impl Recorder {
    /// Lines logged since `mark` (an earlier `len()`), errors only.
    fn errors_since(&self, mark: usize) -> Vec<String> {
        self.lines
            .lock()
            .map(|lines| {
                lines
                    .iter()
                    .skip(mark)
                    .filter(|(level, _)| *level == LogLevel::Error)
                    .map(|(_, line)| line.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn text_since(&self, mark: usize) -> String {
        self.lines
            .lock()
            .map(|lines| {
                lines
                    .iter()
                    .skip(mark)
                    .map(|(_, line)| line.as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    }

    fn len(&self) -> usize {
        self.lines.lock().map(|l| l.len()).unwrap_or(0)
    }
}

/// Runs the dry run; never fails as a whole: problems are findings.
pub async fn run(
    dir: &Path,
    variables: &[VariableRow],
    declared_agents: &[String],
    opts: &DryRunOptions,
) -> (DryRunReport, Vec<Finding>) {
    let skip = |reason: String| {
        let finding = Finding::warning(Check::DryRun, format!("skipped the dry run: {reason}"));
        (DryRunReport::skipped(reason), vec![finding])
    };

    let missing: Vec<&str> = variables
        .iter()
        .filter(|v| v.required && !opts.variables.iter().any(|(n, _)| *n == v.name))
        .map(|v| v.name.as_str())
        .collect();
    if !missing.is_empty() {
        let flags: Vec<String> = missing.iter().map(|n| format!("--var {n}=VALUE")).collect();
        return skip(format!(
            "variable(s) without a default need a value to plan: {}",
            flags.join(" ")
        ));
    }

    let binary = match terraform::locate(opts.terraform.as_deref()).await {
        Ok(binary) => binary,
        Err(e) => return skip(e.to_string()),
    };
    let version = binary.version_text.clone();

    let root = opts
        .work_root
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("coder-provisioner-validate"));
    let session = match WorkRoot::new(&root).and_then(|r| {
        r.clean_stale();
        r.create_session()
    }) {
        Ok(session) => session,
        Err(e) => {
            return skip(format!(
                "cannot create a scratch directory in {}: {e}",
                root.display()
            ))
        }
    };
    if let Err(e) = copy_template(dir, session.path()) {
        session.remove().await;
        return skip(format!(
            "cannot copy the template to a scratch directory: {e}"
        ));
    }

    let mut tf_options = TerraformOptions::new(binary);
    tf_options.cli_config_file = opts.cli_config_file.clone();
    let executor = Executor::new(Arc::new(tf_options), session.path());
    let sink = Recorder::default();
    let cancel = CancellationToken::new();

    let (init, _) = executor.init(&sink, &cancel).await;
    if let Err(e) = init {
        let output = sink.text_since(0);
        let providers = unreachable_providers(&output);
        session.remove().await;
        if !providers.is_empty() {
            let mut result = skip(format!(
                "terraform init failed: provider {} not reachable (no registry access and no \
                 mirror entry); the static checks above do not need them",
                providers.join(", ")
            ));
            result.0.terraform = Some(version);
            return result;
        }
        let detail = first_lines(&sink.errors_since(0), &e.to_string());
        let report = DryRunReport {
            status: DryRunStatus::Failed,
            reason: Some(e.to_string()),
            terraform: Some(version),
            transitions: Vec::new(),
        };
        return (report, vec![located(Finding::error(Check::DryRun, detail))]);
    }

    let vars: Vec<VariableValue> = opts
        .variables
        .iter()
        .map(|(name, value)| VariableValue {
            name: name.clone(),
            value: value.clone(),
            sensitive: variables.iter().any(|v| v.name == *name && v.sensitive),
        })
        .collect();
    let template_name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "template".to_string());
    let workspace_id = uuid::Uuid::new_v4().to_string();
    let owner_id = uuid::Uuid::new_v4().to_string();

    let mut findings = Vec::new();
    let mut transitions = Vec::new();
    for transition in [WorkspaceTransition::Start, WorkspaceTransition::Stop] {
        let name = terraform::env::transition_name(transition);
        // Upstream's template dry run uses the same kind of stand-ins.
        let metadata = Metadata {
            coder_url: "http://localhost:3000".to_string(),
            workspace_transition: transition.into(),
            workspace_name: "validate".to_string(),
            workspace_owner: "validate".to_string(),
            workspace_owner_name: "Template Validation".to_string(),
            workspace_owner_email: "validate@example.com".to_string(),
            workspace_id: workspace_id.clone(),
            workspace_owner_id: owner_id.clone(),
            template_name: template_name.clone(),
            template_version: "validate".to_string(),
            ..Default::default()
        };
        let (report, found) =
            plan_transition(&executor, &sink, &cancel, name, &metadata, &vars).await;
        findings.extend(found);
        transitions.push(report);
    }
    session.remove().await;

    if let Some(start) = transitions
        .iter()
        .find(|t| t.transition == "start" && t.error.is_none())
    {
        for agent in declared_agents {
            let attached = start
                .resources
                .iter()
                .any(|r| r.agents.iter().any(|a| a.name == *agent));
            if !attached {
                findings.push(Finding::error(
                    Check::AgentNotAttached,
                    format!(
                        "the start plan attaches coder_agent.{agent} to no resource: Coder drops \
                         it and the workspace gets no such agent"
                    ),
                ));
            }
        }
    }
    let failed = transitions.iter().any(|t| t.error.is_some());
    let report = DryRunReport {
        status: if failed {
            DryRunStatus::Failed
        } else {
            DryRunStatus::Passed
        },
        reason: None,
        terraform: Some(version),
        transitions,
    };
    (report, findings)
}

async fn plan_transition(
    executor: &Executor,
    sink: &Recorder,
    cancel: &CancellationToken,
    name: &'static str,
    metadata: &Metadata,
    vars: &[VariableValue],
) -> (TransitionReport, Vec<Finding>) {
    let mut report = TransitionReport {
        transition: name,
        resources: Vec::new(),
        parameters: Vec::new(),
        error: None,
    };
    let fail = |mut report: TransitionReport, error: String, detail: String| {
        report.error = Some(error);
        let finding = located(Finding::error(
            Check::DryRun,
            format!("dry run ({name}): {detail}"),
        ));
        (report, vec![finding])
    };

    let env = build_env(
        executor.base_env(),
        &BuildInputs {
            metadata: Some(metadata),
            ..Default::default()
        },
    );
    let mark = sink.len();
    let (planned, _) = executor.plan(env, vars, false, sink, cancel).await;
    if let Err(e) = planned {
        let detail = first_lines(&sink.errors_since(mark), &e.to_string());
        return fail(report, e.to_string(), detail);
    }
    let json = match executor.show_plan(cancel).await {
        Ok(json) => json,
        Err(e) => return fail(report, e.to_string(), e.to_string()),
    };
    let plan: TfPlan = match serde_json::from_slice(&json) {
        Ok(plan) => plan,
        Err(e) => {
            let error = format!("decode terraform plan: {e}");
            return fail(report, error.clone(), error);
        }
    };
    let dot = match executor.graph(cancel).await {
        Ok(dot) => dot,
        Err(e) => return fail(report, e.to_string(), e.to_string()),
    };
    match convert::convert_state(&plan.modules_for_conversion(), &dot) {
        Ok(converted) => {
            report.resources = converted.resources.iter().map(planned_resource).collect();
            report.parameters = converted
                .parameters
                .iter()
                .map(|p| p.name.clone())
                .collect();
            let warnings = converted
                .warnings
                .iter()
                .map(|w| Finding::warning(Check::DryRun, format!("dry run ({name}): {w}")));
            (report.clone(), warnings.collect())
        }
        Err(e) => {
            let error = e.to_string();
            fail(report, error.clone(), error)
        }
    }
}

fn planned_resource(resource: &Resource) -> PlannedResource {
    PlannedResource {
        name: resource.name.clone(),
        ty: resource.r#type.clone(),
        module_path: resource.module_path.clone(),
        daily_cost: resource.daily_cost,
        agents: resource
            .agents
            .iter()
            .map(|a| PlannedAgent {
                name: a.name.clone(),
                operating_system: a.operating_system.clone(),
                architecture: a.architecture.clone(),
                auth: match a.auth {
                    Some(agent::Auth::InstanceId(_)) => "instance-identity",
                    _ => "token",
                },
                apps: a.apps.iter().map(|app| app.slug.clone()).collect(),
                scripts: a.scripts.iter().map(|s| s.display_name.clone()).collect(),
            })
            .collect(),
    }
}

/// Providers `terraform init` could not install, from its output: Terraform says "for
/// provider <ns>/<type>" when it cannot list versions and "installing <ns>/<type>" when a
/// download fails.
fn unreachable_providers(init_output: &str) -> Vec<String> {
    let install_failure = [
        "Failed to query available provider packages",
        "Failed to install provider",
        "Failed to resolve provider packages",
    ];
    if !install_failure.iter().any(|s| init_output.contains(s)) {
        return Vec::new();
    }
    let Ok(pattern) = Regex::new(
        r"(?:for provider|installing|provider registry\.terraform\.io/)\s*([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)",
    ) else {
        return Vec::new();
    };
    let mut found: Vec<String> = pattern
        .captures_iter(init_output)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str().trim_end_matches(['.', ':']).to_string())
        .collect();
    found.sort();
    found.dedup();
    if found.is_empty() {
        found.push("(unnamed)".to_string());
    }
    found
}

/// Terraform's error lines (a diagnostic's summary, source lines and detail), or `fallback`.
fn first_lines(lines: &[String], fallback: &str) -> String {
    let text: Vec<&str> = lines
        .iter()
        .map(|l| l.trim_end())
        .filter(|l| !l.is_empty())
        .take(12)
        .collect();
    if text.is_empty() {
        fallback.to_string()
    } else {
        text.join("\n")
    }
}

/// Points a finding at `on <file> line <n>` when Terraform's diagnostic names one.
fn located(finding: Finding) -> Finding {
    let Ok(pattern) = Regex::new(r"on ([^\s:]+) line (\d+)") else {
        return finding;
    };
    let pos = pattern.captures(&finding.message).and_then(|c| {
        Some((
            c.get(1)?.as_str().to_string(),
            c.get(2)?.as_str().parse().ok()?,
        ))
    });
    match pos {
        Some((file, line)) => finding.at_line(&file, line),
        None => finding,
    }
}

/// Copies the template (subdirectories too: local modules) without Terraform's working
/// files, so a leftover `.terraform` or state cannot change the result.
fn copy_template(from: &Path, to: &Path) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let name_text = name.to_string_lossy();
        if name_text == ".terraform" || name_text.starts_with("terraform.tfstate") {
            continue;
        }
        let file_type = entry.file_type()?;
        let target = to.join(&name);
        if file_type.is_dir() {
            fs::create_dir_all(&target)?;
            copy_template(&entry.path(), &target)?;
        } else if file_type.is_file() {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_named_by_a_failed_init() {
        let output = "Initializing provider plugins...\n- Finding kreuzwerker/docker versions matching \"~> 3.0\"...\nError: Failed to query available provider packages\nCould not retrieve the list of available versions for provider kreuzwerker/docker: provider registry.terraform.io/kreuzwerker/docker was not found in any of the search locations";
        assert_eq!(unreachable_providers(output), vec!["kreuzwerker/docker"]);
    }

    #[test]
    fn other_init_failures_name_no_provider() {
        assert!(unreachable_providers("Error: Unsupported block type").is_empty());
    }

    #[test]
    fn diagnostics_locate_findings() {
        let f = located(Finding::error(
            Check::DryRun,
            "Error: Invalid reference\non main.tf line 12, in resource \"x\" \"y\":",
        ));
        assert_eq!(f.pos.map(|p| p.to_string()), Some("main.tf:12".to_string()));
    }

    #[test]
    fn copy_skips_terraform_working_files() {
        let from = tempfile::tempdir().expect("tempdir");
        let to = tempfile::tempdir().expect("tempdir");
        fs::write(from.path().join("main.tf"), "").expect("write");
        fs::write(from.path().join("terraform.tfstate"), "{}").expect("write");
        fs::create_dir_all(from.path().join(".terraform/providers")).expect("mkdir");
        fs::create_dir_all(from.path().join("modules/m")).expect("mkdir");
        fs::write(from.path().join("modules/m/main.tf"), "").expect("write");
        copy_template(from.path(), to.path()).expect("copies");
        assert!(to.path().join("main.tf").exists());
        assert!(to.path().join("modules/m/main.tf").exists());
        assert!(!to.path().join("terraform.tfstate").exists());
        assert!(!to.path().join(".terraform").exists());
    }
}
