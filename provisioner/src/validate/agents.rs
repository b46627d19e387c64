//! Agents that will never connect, and agent names upstream rejects.
//!
//! Upstream's converter attaches each `coder_agent` to the closest managed, non-Coder resource
//! that depends on it in Terraform's graph, and silently drops an agent that nothing depends
//! on (coder-provisioner.md §4, step 3). Even an attached agent only connects if the machine
//! that resource creates runs the agent's `init_script`, and (with token auth) has the agent's
//! `token` in `CODER_AGENT_TOKEN`. The workspace then waits for the agent forever ("Waiting
//! for agent to connect…"), and no tool said why. This check reads the same facts from the
//! HCL:
//!
//! - **not attached**: no non-Coder resource (or module call) depends on the agent, through
//!   any chain of references (error);
//! - **never connects**: the agent's `init_script` — or, with `auth = "token"` (the default),
//!   its `token` — flows into no non-Coder resource or module call. Values flow through
//!   locals and data sources (`templatefile`, `cloudinit_config`); a `depends_on` entry is a
//!   dependency but carries no value (error).
//!
//! Agent names follow upstream's rules: `(?i)^[a-z0-9](-?[a-z0-9])*$`, unique regardless of
//! case, with upstream's messages.

use std::collections::BTreeSet;

use regex::Regex;
use serde::Serialize;

use super::hcl_model::{Block, BlockKind, Reference, Target, TemplateModel};
use super::{Check, Finding};
use crate::parse::SourcePos;

/// Upstream's agent name pattern (provisioner/regexes.go).
pub const AGENT_NAME_PATTERN: &str = "(?i)^[a-z0-9](-?[a-z0-9])*$";

/// Auth values that prove the agent's identity without a token.
const INSTANCE_IDENTITY_AUTHS: &[&str] = &[
    "google-instance-identity",
    "aws-instance-identity",
    "azure-instance-identity",
];

/// One agent as the template declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentRow {
    pub name: String,
    #[serde(flatten, serialize_with = "super::report::serialize_pos")]
    pub pos: Option<SourcePos>,
    /// `token`, an instance identity, or `(computed)` when `auth` is an expression.
    pub auth: String,
    /// Resources (and module calls) whose configuration carries the `init_script`.
    pub runs_init_script: Vec<String>,
    /// Same for the `token`; empty (and not needed) with instance identity auth.
    pub receives_token: Vec<String>,
}

pub struct AgentsCheck {
    pub rows: Vec<AgentRow>,
    pub findings: Vec<Finding>,
}

pub fn check(model: &TemplateModel) -> AgentsCheck {
    let mut rows = Vec::new();
    let mut findings = Vec::new();
    let agents: Vec<&Block> = model.resources_of_type("coder_agent").collect();

    for agent in &agents {
        findings.extend(check_name(agent, &agents));

        let target = Target::Resource {
            ty: agent.ty.clone(),
            name: agent.name.clone(),
        };
        let auth = match agent.attr("auth") {
            None => "token".to_string(),
            Some(attr) => attr
                .literal
                .as_ref()
                .and_then(|l| l.as_text())
                .unwrap_or_else(|| "(computed)".to_string()),
        };
        let needs_token = !INSTANCE_IDENTITY_AUTHS.contains(&auth.as_str());
        let hosts: Vec<&Block> = model.blocks.iter().filter(|b| is_host(b)).collect();
        let runs_init_script: Vec<String> = hosts
            .iter()
            .filter(|h| carries_value(model, h, &target, "init_script"))
            .map(|h| h.address())
            .collect();
        let receives_token: Vec<String> = if needs_token {
            hosts
                .iter()
                .filter(|h| carries_value(model, h, &target, "token"))
                .map(|h| h.address())
                .collect()
        } else {
            Vec::new()
        };
        let attached = hosts.iter().any(|h| depends_on(model, h, &target));
        let address = agent.address();

        if !attached {
            findings.push(
                Finding::error(
                    Check::AgentNotAttached,
                    format!(
                        "no resource depends on {address}, so Coder drops this agent and the \
                         workspace gets no agent at all; use {address}.init_script in the \
                         resource that creates the workspace's machine (container command, VM \
                         user data)"
                    ),
                )
                .at(&agent.pos),
            );
        } else if runs_init_script.is_empty() {
            findings.push(
                Finding::error(
                    Check::AgentNeverConnects,
                    format!(
                        "{address}.init_script is used by no resource, so nothing starts the \
                         agent and the workspace waits for it to connect forever; make it the \
                         command (or user data) of the resource that creates the workspace's \
                         machine"
                    ),
                )
                .at(&agent.pos),
            );
        }
        if attached && needs_token && receives_token.is_empty() {
            findings.push(
                Finding::error(
                    Check::AgentNeverConnects,
                    format!(
                        "{address}.token is passed to no resource, so the agent cannot \
                         authenticate (auth = \"{auth}\"); set CODER_AGENT_TOKEN to it in the \
                         machine's environment, or use an instance identity auth"
                    ),
                )
                .at(&agent.pos),
            );
        }

        rows.push(AgentRow {
            name: agent.name.clone(),
            pos: Some(agent.pos.clone()),
            auth,
            runs_init_script,
            receives_token,
        });
    }
    AgentsCheck { rows, findings }
}

/// A block that can host an agent: a managed resource that is not a Coder resource, or a
/// module call (whose resources we cannot see; upstream attaches to them through it).
fn is_host(block: &Block) -> bool {
    match block.kind {
        BlockKind::Resource => !block.is_coder(),
        BlockKind::Module => true,
        _ => false,
    }
}

/// Whether `host` depends on `target` through any chain of references (Terraform's graph).
fn depends_on(model: &TemplateModel, host: &Block, target: &Target) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&Block> = vec![host];
    while let Some(block) = stack.pop() {
        for r in &block.refs {
            if &r.target == target {
                return true;
            }
            if let Some(next) = model.resolve(&r.target) {
                if seen.insert(next.address()) {
                    stack.push(next);
                }
            }
        }
    }
    false
}

/// Whether the value of `target.attr` flows into `host`'s configuration: referenced
/// directly, or through locals and data sources. `depends_on` carries no value.
fn carries_value(model: &TemplateModel, host: &Block, target: &Target, attr: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&Block> = vec![host];
    while let Some(block) = stack.pop() {
        for r in value_refs(block) {
            let reads_attr = r.attr.as_deref().is_none_or(|a| a == attr);
            if &r.target == target && reads_attr {
                return true;
            }
            let Some(next) = model.resolve(&r.target) else {
                continue;
            };
            let passes_values = matches!(next.kind, BlockKind::Local | BlockKind::Data);
            if passes_values && seen.insert(next.address()) {
                stack.push(next);
            }
        }
    }
    false
}

/// A block's references except those of its `depends_on` list.
fn value_refs(block: &Block) -> impl Iterator<Item = &Reference> {
    let ordering: &[Reference] = block
        .attr("depends_on")
        .map(|a| a.refs.as_slice())
        .unwrap_or(&[]);
    block.refs.iter().filter(move |r| !ordering.contains(r))
}

fn check_name(agent: &Block, all: &[&Block]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let name = &agent.name;
    let valid = Regex::new(AGENT_NAME_PATTERN).is_ok_and(|re| re.is_match(name));
    if !valid {
        // Upstream's texts (coder-provisioner.md §4, step 3).
        let message = if name.contains('_') {
            format!(
                "agent name {name:?} contains underscores which are no longer supported, please \
                 use hyphens instead (regex: {AGENT_NAME_PATTERN:?})"
            )
        } else {
            format!("agent name {name:?} does not match regex {AGENT_NAME_PATTERN:?}")
        };
        findings.push(Finding::error(Check::AgentName, message).at(&agent.pos));
    }
    let earlier = all
        .iter()
        .take_while(|other| !std::ptr::eq(**other, agent))
        .find(|other| other.name.eq_ignore_ascii_case(name));
    if let Some(first) = earlier {
        findings.push(
            Finding::error(
                Check::AgentName,
                format!(
                    "duplicate agent name: {name} (agent names are compared without case; the \
                     first is coder_agent.{} at {})",
                    first.name, first.pos
                ),
            )
            .at(&agent.pos),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{check_files, findings, only, GOOD};
    use super::super::{Check, Severity};

    const AGENT: &str =
        "resource \"coder_agent\" \"main\" {\n  os   = \"linux\"\n  arch = \"amd64\"\n}\n";

    #[test]
    fn good_template_reports_who_runs_the_agent() {
        let report = check_files(&[("main.tf", GOOD)]);
        let row = &report.agents[0];
        assert_eq!(row.name, "main");
        assert_eq!(row.auth, "token");
        assert_eq!(row.runs_init_script, vec!["terraform_data.workspace"]);
        assert_eq!(row.receives_token, vec!["terraform_data.workspace"]);
    }

    #[test]
    fn agent_nothing_depends_on_is_dropped() {
        let src = format!("{AGENT}\nresource \"terraform_data\" \"vm\" {{\n  input = \"x\"\n}}\n");
        let report = check_files(&[("main.tf", &src)]);
        let f = only(&report, Check::AgentNotAttached);
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(
            f.pos.as_ref().map(|p| p.to_string()),
            Some("main.tf:1".to_string())
        );
        assert!(
            f.message
                .contains("no resource depends on coder_agent.main"),
            "{f:?}"
        );
    }

    #[test]
    fn agent_only_used_by_coder_resources_is_dropped() {
        let src = format!(
            "{AGENT}\nresource \"coder_app\" \"a\" {{\n  agent_id = coder_agent.main.id\n  slug = \"a\"\n}}\n"
        );
        let report = check_files(&[("main.tf", &src)]);
        only(&report, Check::AgentNotAttached);
    }

    #[test]
    fn attached_agent_whose_init_script_is_unused_never_connects() {
        // The seeds' troubleshooting case: the container depends on the agent (token) but
        // runs something else, so the agent never starts.
        let src = format!(
            "{AGENT}\nresource \"docker_container\" \"w\" {{\n  image   = \"ubuntu\"\n  command = [\"sleep\", \"infinity\"]\n  env     = [\"CODER_AGENT_TOKEN=${{coder_agent.main.token}}\"]\n}}\n"
        );
        let report = check_files(&[("main.tf", &src)]);
        let f = only(&report, Check::AgentNeverConnects);
        assert!(f
            .message
            .starts_with("coder_agent.main.init_script is used by no resource"));
        assert_eq!(f.pos.map(|p| p.line), Some(1));
    }

    #[test]
    fn depends_on_alone_does_not_run_the_agent() {
        let src = format!(
            "{AGENT}\nresource \"terraform_data\" \"w\" {{\n  input      = coder_agent.main.token\n  depends_on = [coder_agent.main]\n}}\n"
        );
        let report = check_files(&[("main.tf", &src)]);
        only(&report, Check::AgentNeverConnects);
    }

    #[test]
    fn missing_token_with_token_auth() {
        let src = format!(
            "{AGENT}\nresource \"terraform_data\" \"w\" {{\n  input = coder_agent.main.init_script\n}}\n"
        );
        let report = check_files(&[("main.tf", &src)]);
        let f = only(&report, Check::AgentNeverConnects);
        assert!(
            f.message
                .starts_with("coder_agent.main.token is passed to no resource"),
            "{f:?}"
        );
    }

    #[test]
    fn instance_identity_needs_no_token() {
        let src = "resource \"coder_agent\" \"main\" {\n  os = \"linux\"\n  arch = \"amd64\"\n  auth = \"aws-instance-identity\"\n}\nresource \"aws_instance\" \"dev\" {\n  user_data = coder_agent.main.init_script\n}\n";
        let report = check_files(&[("main.tf", src)]);
        assert!(
            report
                .findings
                .iter()
                .all(|f| f.check != Check::AgentNeverConnects),
            "{:?}",
            findings(&report)
        );
        assert_eq!(report.agents[0].auth, "aws-instance-identity");
    }

    #[test]
    fn values_flow_through_locals_data_sources_and_module_calls() {
        let src = format!(
            r#"{AGENT}
locals {{
  script = base64encode(coder_agent.main.init_script)
}}
data "cloudinit_config" "c" {{
  part {{
    content = "echo ${{local.script}}"
  }}
}}
resource "aws_instance" "dev" {{
  user_data = data.cloudinit_config.c.rendered
}}
module "secrets" {{
  source = "./secrets"
  token  = coder_agent.main.token
}}
"#
        );
        let report = check_files(&[("main.tf", &src)]);
        let about_agents: Vec<_> = findings(&report)
            .into_iter()
            .filter(|f| f.1 != Check::Lifecycle)
            .collect();
        assert!(about_agents.is_empty(), "{about_agents:?}");
        assert_eq!(report.agents[0].runs_init_script, vec!["aws_instance.dev"]);
        assert_eq!(report.agents[0].receives_token, vec!["module.secrets"]);
    }

    #[test]
    fn agent_names_follow_upstream_rules() {
        let src = "resource \"coder_agent\" \"dev_1\" {}\nresource \"coder_agent\" \"bad--name\" {}\nresource \"coder_agent\" \"dev\" {}\nresource \"coder_agent\" \"Dev\" {}\nresource \"terraform_data\" \"w\" {\n  input = [coder_agent.dev_1.init_script, coder_agent.dev_1.token, coder_agent.bad--name.init_script]\n}\n";
        let report = check_files(&[("main.tf", src)]);
        let names: Vec<_> = findings(&report)
            .into_iter()
            .filter(|f| f.1 == Check::AgentName)
            .map(|f| (f.2, f.3))
            .collect();
        assert_eq!(names[0].0, "main.tf:1");
        assert_eq!(
            names[0].1,
            "agent name \"dev_1\" contains underscores which are no longer supported, please use hyphens instead (regex: \"(?i)^[a-z0-9](-?[a-z0-9])*$\")"
        );
        assert_eq!(
            names[1],
            (
                "main.tf:2".to_string(),
                "agent name \"bad--name\" does not match regex \"(?i)^[a-z0-9](-?[a-z0-9])*$\""
                    .to_string()
            )
        );
        assert_eq!(names[2].0, "main.tf:4");
        assert!(
            names[2].1.starts_with("duplicate agent name: Dev"),
            "{names:?}"
        );
    }
}
