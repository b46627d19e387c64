//! `validate`: checks a template before it is published, offline, without a control plane.
//!
//! Three passes, each adding [`Finding`]s to one [`Report`]:
//!
//! 1. **Parse** — the template's variables through [`crate::parse`] (the same code the
//!    provisioner's Parse request runs, so syntax errors read the same, with file:line), and
//!    which variables are admin (template-wide) and which user (per workspace) parameters.
//! 2. **Static checks** on a light model of the HCL ([`hcl_model`]); they need no provider and
//!    no Terraform, so they work for templates whose providers cannot be installed here:
//!    - [`agents`]: an agent nothing depends on (upstream silently drops it), or whose
//!      `init_script` / `token` reaches no compute resource (it can never connect);
//!      agent names;
//!    - [`references`]: `coder_app` / `coder_script` / `coder_env` / `coder_metadata` (and any
//!      other expression) pointing at something the template does not declare, or at the
//!      wrong kind of thing;
//!    - [`slugs`]: app slugs that upstream's converter rejects, and duplicates;
//!    - [`parameters`]: `coder_parameter` defaults that fail their own options, type or
//!      `validation` block;
//!    - [`lifecycle`]: which resources are kept and which destroyed when a workspace stops,
//!      and resources that say neither.
//! 3. **Dry run** ([`dry_run`]), when Terraform can initialise the template: a plan for a
//!    workspace start and one for a stop, converted into resources, agents and apps the way
//!    the provisioner converts them. Providers that cannot be installed are not an error:
//!    the dry run is skipped with a warning that names them (the static checks stand alone).
//!
//! Severities: an error means a build would fail or a workspace would not work; a warning
//! means something a template admin should look at, or a part of the check that could not
//! run; info is context. [`Report::exit_code`] is 1 with any error, else 0.

pub mod agents;
pub mod dry_run;
pub mod hcl_model;
pub mod lifecycle;
pub mod parameters;
pub mod references;
pub mod report;
pub mod slugs;

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::parse::{self, ParameterScope, ParseError, SourcePos};

pub use dry_run::{DryRunOptions, DryRunReport, DryRunStatus};
pub use hcl_model::TemplateModel;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// Which check produced a finding; the name is stable (it appears in `--json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// HCL syntax and variable declarations.
    Syntax,
    /// A file the static model could not read.
    Model,
    /// No resource depends on the agent: upstream drops it from the workspace.
    AgentNotAttached,
    /// The agent's `init_script` or `token` reaches no resource that could run it.
    AgentNeverConnects,
    AgentName,
    /// A reference to something the template does not declare.
    MissingReference,
    /// `agent_id` / `resource_id` pointing at the wrong kind of block.
    WrongReference,
    AppSlug,
    ParameterDefault,
    ParameterName,
    /// A resource that is neither ephemeral nor persistent by role.
    Lifecycle,
    DryRun,
}

/// One problem (or remark) about the template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub check: Check,
    pub message: String,
    /// Where it is; `None` for findings about the template as a whole.
    #[serde(flatten, serialize_with = "report::serialize_pos")]
    pub pos: Option<SourcePos>,
}

impl Finding {
    pub fn error(check: Check, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Error,
            check,
            message: message.into(),
            pos: None,
        }
    }

    pub fn warning(check: Check, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(check, message)
        }
    }

    pub fn info(check: Check, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Info,
            ..Finding::error(check, message)
        }
    }

    pub fn at(mut self, pos: &SourcePos) -> Finding {
        self.pos = Some(pos.clone());
        self
    }

    pub fn at_line(mut self, filename: &str, line: usize) -> Finding {
        self.pos = Some(SourcePos {
            filename: filename.to_string(),
            line,
        });
        self
    }
}

/// A Terraform variable and who sets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VariableRow {
    pub name: String,
    /// `admin` (template-wide, set when the template is pushed) or `user` (per workspace).
    pub scope: &'static str,
    #[serde(rename = "type")]
    pub type_expr: String,
    pub default: Option<String>,
    pub required: bool,
    pub sensitive: bool,
    pub description: String,
}

/// Everything `validate` found out about a template.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub template: String,
    /// `feature_use_managed_variables = true`: every variable is an admin variable.
    pub managed_variables: bool,
    pub variables: Vec<VariableRow>,
    /// `data "coder_parameter"` blocks: always user (workspace) parameters.
    pub parameters: Vec<parameters::ParameterRow>,
    pub agents: Vec<agents::AgentRow>,
    /// The persistent/ephemeral split.
    pub resources: Vec<lifecycle::LifecycleRow>,
    pub dry_run: DryRunReport,
    /// Ordered by file, line, then severity.
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    pub fn has_errors(&self) -> bool {
        self.count(Severity::Error) > 0
    }

    /// 1 when there is any error, 0 otherwise (warnings do not fail a check).
    pub fn exit_code(&self) -> i32 {
        i32::from(self.has_errors())
    }
}

/// What stopped `validate` from producing a report at all.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error("{}: no such directory", .0.display())]
    NotADirectory(PathBuf),
}

/// The options of a full validation.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Run the dry run (when Terraform can initialise the template).
    pub dry_run: bool,
    pub dry_run_options: DryRunOptions,
}

/// Parse and static checks only: no Terraform is run.
pub fn check_static(dir: &Path) -> Result<Report, ValidateError> {
    if !dir.is_dir() {
        return Err(ValidateError::NotADirectory(dir.to_path_buf()));
    }
    let mut report = Report {
        template: dir.display().to_string(),
        managed_variables: false,
        variables: Vec::new(),
        parameters: Vec::new(),
        agents: Vec::new(),
        resources: Vec::new(),
        dry_run: DryRunReport::not_requested(),
        findings: Vec::new(),
    };

    match parse::parse_template_dir(dir) {
        Ok(parsed) => {
            report.managed_variables = parsed.managed_variables;
            report.variables = parsed.variables.iter().map(variable_row).collect();
        }
        Err(ParseError::LoadModule(diagnostics))
        | Err(ParseError::ProviderFeatures(diagnostics)) => {
            for d in diagnostics.iter() {
                let message = if d.detail.is_empty() {
                    d.summary.clone()
                } else {
                    format!("{}: {}", d.summary, d.detail)
                };
                let finding = match d.severity {
                    parse::Severity::Error => Finding::error(Check::Syntax, message),
                    parse::Severity::Warning => Finding::warning(Check::Syntax, message),
                };
                report.findings.push(match &d.pos {
                    Some(pos) => finding.at(pos),
                    None => finding,
                });
            }
        }
        Err(err @ ParseError::WorkspaceTags(_)) => {
            report
                .findings
                .push(Finding::error(Check::Syntax, err.to_string()));
        }
    }
    if report.has_errors() {
        // The model of a template that does not parse would miss blocks, and every check on
        // it would report their absence.
        report.findings.push(Finding::info(
            Check::Syntax,
            "static checks and the dry run were skipped: fix the errors above first",
        ));
        sort_findings(&mut report.findings);
        return Ok(report);
    }

    let model = TemplateModel::from_sources(&read_sources(dir));
    for (file, why) in &model.skipped {
        report.findings.push(
            Finding::warning(
                Check::Model,
                format!("the static checks could not read this file ({why}); its blocks were not checked"),
            )
            .at_line(file, 1),
        );
    }
    let agents = agents::check(&model);
    report.agents = agents.rows;
    report.findings.extend(agents.findings);
    report.findings.extend(references::check(&model));
    report.findings.extend(slugs::check(&model));
    let parameters = parameters::check(&model);
    report.parameters = parameters.rows;
    report.findings.extend(parameters.findings);
    let lifecycle = lifecycle::check(&model);
    report.resources = lifecycle.rows;
    report.findings.extend(lifecycle.findings);
    sort_findings(&mut report.findings);
    Ok(report)
}

/// The static checks, then the dry run when asked for and the static checks found no error.
pub async fn validate(dir: &Path, options: &Options) -> Result<Report, ValidateError> {
    let mut report = check_static(dir)?;
    if !options.dry_run {
        return Ok(report);
    }
    if report.has_errors() {
        report.dry_run = DryRunReport::skipped("the static checks found errors");
        return Ok(report);
    }
    let declared_agents: Vec<String> = report.agents.iter().map(|a| a.name.clone()).collect();
    let (dry_run, findings) = dry_run::run(
        dir,
        &report.variables,
        &declared_agents,
        &options.dry_run_options,
    )
    .await;
    lifecycle::merge_plan(&mut report.resources, &dry_run);
    report.dry_run = dry_run;
    report.findings.extend(findings);
    sort_findings(&mut report.findings);
    Ok(report)
}

fn variable_row(v: &parse::TemplateVariable) -> VariableRow {
    VariableRow {
        name: v.name.clone(),
        scope: match v.scope {
            ParameterScope::Admin => "admin",
            ParameterScope::User => "user",
        },
        type_expr: v.type_expr.clone(),
        default: (!v.required).then(|| v.default_value.clone()),
        required: v.required,
        sensitive: v.sensitive,
        description: v.description.clone(),
    }
}

/// By file and line, errors before warnings on a line; findings about the template as a
/// whole last. Stable, so checks keep their own order within a line.
fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        let key = |f: &Finding| {
            (
                f.pos.is_none(),
                f.pos.as_ref().map(|p| (p.filename.clone(), p.line)),
                f.severity,
            )
        };
        key(a).cmp(&key(b))
    });
}

/// The root module's configuration files as text, named relative to `dir`. Same selection
/// as the parser's: `.tf` and `.tf.json` files directly in the directory, editor leftovers
/// skipped. A file that is not UTF-8 has already failed the parse step.
fn read_sources(dir: &Path) -> Vec<(String, String)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut sources: Vec<(String, String)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let leftover = name.starts_with('.')
                || name.ends_with('~')
                || (name.starts_with('#') && name.ends_with('#'));
            if leftover || !(name.ends_with(".tf") || name.ends_with(".tf.json")) {
                return None;
            }
            let text = fs::read_to_string(e.path()).ok()?;
            Some((name, text))
        })
        .collect();
    sources.sort();
    sources
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Templates as inline strings, checked through the real entry point.

    use super::*;

    /// Writes `files` into a temporary directory and runs the static checks on it.
    pub(crate) fn check_files(files: &[(&str, &str)]) -> Report {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in files {
            fs::write(dir.path().join(name), text).expect("write");
        }
        check_static(dir.path()).expect("a directory")
    }

    /// `(severity, check, file:line, message)` of every finding, for compact assertions.
    pub(crate) fn findings(report: &Report) -> Vec<(Severity, Check, String, String)> {
        report
            .findings
            .iter()
            .map(|f| {
                (
                    f.severity,
                    f.check,
                    f.pos.as_ref().map(ToString::to_string).unwrap_or_default(),
                    f.message.clone(),
                )
            })
            .collect()
    }

    /// The one finding of `check`, failing the test if there is not exactly one.
    pub(crate) fn only(report: &Report, check: Check) -> Finding {
        let found: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.check == check)
            .collect();
        match found.as_slice() {
            [one] => (*one).clone(),
            _ => panic!("expected one {check:?} finding, got {:#?}", report.findings),
        }
    }

    /// A minimal template that passes every check: an agent run by a `terraform_data`.
    pub(crate) const GOOD: &str = r#"data "coder_workspace" "me" {}

resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}

resource "terraform_data" "workspace" {
  count = data.coder_workspace.me.start_count
  input = {
    command = coder_agent.main.init_script
    env     = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
  }
}
"#;
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn a_good_template_has_no_findings() {
        let report = check_files(&[("main.tf", GOOD)]);
        assert!(report.findings.is_empty(), "{:#?}", report.findings);
        assert_eq!(report.exit_code(), 0);
    }

    #[test]
    fn syntax_errors_point_at_file_and_line_and_stop_the_static_checks() {
        let report = check_files(&[("main.tf", GOOD), ("broken.tf", "\n\nx = `y`\n")]);
        let found = findings(&report);
        let located: Vec<_> = found.iter().filter(|f| !f.2.is_empty()).collect();
        assert_eq!(located.len(), 2, "{found:?}");
        assert_eq!(located[0].0, Severity::Error);
        assert_eq!(located[0].1, Check::Syntax);
        assert_eq!(located[0].2, "broken.tf:3");
        assert!(located[0].3.starts_with("Invalid character"), "{found:?}");
        assert_eq!(report.exit_code(), 1);
        assert!(report.agents.is_empty());
    }

    #[test]
    fn variables_are_split_into_admin_and_user() {
        let vars = "variable \"registry\" {\n  sensitive = true\n  default = \"r\"\n}\nvariable \"image\" {}\n";
        let report = check_files(&[("main.tf", GOOD), ("vars.tf", vars)]);
        let scopes: Vec<_> = report
            .variables
            .iter()
            .map(|v| (v.name.as_str(), v.scope, v.required))
            .collect();
        assert_eq!(
            scopes,
            vec![("registry", "admin", false), ("image", "user", true)]
        );
    }

    #[test]
    fn managed_variables_make_every_variable_admin() {
        let provider = "provider \"coder\" {\n  feature_use_managed_variables = true\n}\nvariable \"image\" {}\n";
        let report = check_files(&[("main.tf", GOOD), ("vars.tf", provider)]);
        assert!(report.managed_variables);
        assert_eq!(report.variables[0].scope, "admin");
    }

    #[test]
    fn a_missing_directory_is_not_a_report() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(check_static(&dir.path().join("nope")).is_err());
    }
}
