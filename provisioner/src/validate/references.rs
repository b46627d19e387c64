//! References to things the template does not declare, and Coder resources pointing at the
//! wrong kind of thing.
//!
//! - Every reference (`coder_agent.mian.id`, `data.coder_workspace.me`, `var.x`, `local.y`,
//!   `module.z.out`) must name a block of the root module. Terraform rejects the template
//!   otherwise; we say so before anything is installed, with the file and line.
//! - `agent_id` of `coder_app`, `coder_script`, `coder_env`, `coder_devcontainer`,
//!   `coder_agent_instance` and `coder_external_agent` must be a `coder_agent`'s id: upstream
//!   attaches these by agent (by id, or at plan time by the graph edge to the agent), so one
//!   pointing elsewhere is silently attached to nothing.
//! - `coder_metadata.resource_id` must be a managed, non-Coder resource: upstream attaches
//!   metadata to the closest such resource the metadata depends on and drops it otherwise.

use super::hcl_model::{Attribute, Block, BlockKind, Target, TemplateModel};
use super::{Check, Finding};

/// Coder resources that belong to an agent through `agent_id`.
const AGENT_CHILDREN: &[&str] = &[
    "coder_app",
    "coder_script",
    "coder_env",
    "coder_devcontainer",
    "coder_agent_instance",
    "coder_external_agent",
];

pub fn check(model: &TemplateModel) -> Vec<Finding> {
    let mut findings = Vec::new();
    for block in &model.blocks {
        let owner = block.address();
        let mut pointer_findings = Vec::new();
        if block.kind == BlockKind::Resource && AGENT_CHILDREN.contains(&block.ty.as_str()) {
            pointer_findings.extend(check_pointer(model, block, "agent_id", Pointee::Agent));
        }
        if block.kind == BlockKind::Resource && block.ty == "coder_metadata" {
            pointer_findings.extend(check_pointer(
                model,
                block,
                "resource_id",
                Pointee::Resource,
            ));
        }
        for r in &block.refs {
            let declared = r.target == Target::Other || model.resolve(&r.target).is_some();
            // A pointer attribute already has its own, more specific finding.
            let reported = pointer_findings.iter().any(|f: &Finding| {
                f.check == Check::MissingReference
                    && f.pos.as_ref().is_some_and(|p| p.line == r.line)
            });
            if !declared && !reported {
                findings.push(
                    Finding::error(
                        Check::MissingReference,
                        format!(
                            "{owner} refers to {}, which this template does not declare",
                            describe(&r.target)
                        ),
                    )
                    .at_line(&block.pos.filename, r.line),
                );
            }
        }
        findings.extend(pointer_findings);
    }
    findings
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pointee {
    Agent,
    Resource,
}

fn check_pointer(model: &TemplateModel, block: &Block, attr: &str, want: Pointee) -> Vec<Finding> {
    let owner = block.address();
    let Some(attribute) = block.attr(attr) else {
        return vec![Finding::error(
            Check::MissingReference,
            format!("{owner} has no {attr}; Terraform requires it"),
        )
        .at(&block.pos)];
    };
    let at = |f: Finding| f.at_line(&block.pos.filename, attribute.line);
    let pointed = pointees(model, attribute);
    // A value from a variable or a module output cannot be followed statically; that is not
    // a mistake, so there is nothing to say about it.
    let opaque = attribute
        .refs
        .iter()
        .any(|r| matches!(r.target, Target::Var(_) | Target::Module(_)));
    if pointed.is_empty() && opaque {
        return Vec::new();
    }
    if pointed.is_empty() {
        let what = match want {
            Pointee::Agent => "coder_agent.<name>.id",
            Pointee::Resource => "<resource>.<name>.id",
        };
        return vec![at(Finding::warning(
            Check::WrongReference,
            format!(
                "{owner}.{attr} does not reference any resource, so it cannot be attached \
                 from the template alone; use {what}"
            ),
        ))];
    }
    let mut findings = Vec::new();
    for (target, found) in pointed {
        match found {
            None => findings.push(at(Finding::error(
                Check::MissingReference,
                format!(
                    "{owner}.{attr} points at {}, which this template does not declare",
                    describe(&target)
                ),
            ))),
            Some(found) => {
                let fits = match want {
                    Pointee::Agent => {
                        found.kind == BlockKind::Resource && found.ty == "coder_agent"
                    }
                    Pointee::Resource => found.kind == BlockKind::Resource && !found.is_coder(),
                };
                if !fits {
                    let need = match want {
                        Pointee::Agent => "a coder_agent",
                        Pointee::Resource => "a managed resource that is not a Coder resource",
                    };
                    findings.push(at(Finding::error(
                        Check::WrongReference,
                        format!(
                            "{owner}.{attr} points at {}, but it must be {need}",
                            found.address()
                        ),
                    )));
                }
            }
        }
    }
    findings
}

/// The resources an attribute's value comes from, following locals; `None` when the target
/// is not declared.
fn pointees<'m>(
    model: &'m TemplateModel,
    attribute: &Attribute,
) -> Vec<(Target, Option<&'m Block>)> {
    let mut out = Vec::new();
    let mut pending: Vec<Target> = attribute.refs.iter().map(|r| r.target.clone()).collect();
    let mut seen = Vec::new();
    while let Some(target) = pending.pop() {
        if target == Target::Other || seen.contains(&target) {
            continue;
        }
        seen.push(target.clone());
        match (model.resolve(&target), &target) {
            (Some(local), Target::Local(_)) => {
                pending.extend(local.refs.iter().map(|r| r.target.clone()));
            }
            // Variables and module outputs cannot be followed statically.
            (_, Target::Var(_)) | (_, Target::Module(_)) => {}
            (found, _) => out.push((target, found)),
        }
    }
    out.reverse();
    out
}

fn describe(target: &Target) -> String {
    match target {
        Target::Resource { ty, name } => format!("resource {ty}.{name}"),
        Target::Data { ty, name } => format!("data source data.{ty}.{name}"),
        Target::Module(name) => format!("module.{name}"),
        Target::Var(name) => format!("variable var.{name}"),
        Target::Local(name) => format!("local value local.{name}"),
        Target::Other => "an unknown object".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{check_files, findings, only, GOOD};
    use super::super::{Check, Severity};

    fn with(extra: &str) -> Vec<(Severity, Check, String, String)> {
        findings(&check_files(&[("main.tf", GOOD), ("extra.tf", extra)]))
    }

    #[test]
    fn app_pointing_at_an_undeclared_agent() {
        let found = with("resource \"coder_app\" \"code\" {\n  slug     = \"code\"\n  agent_id = coder_agent.mian.id\n}\n");
        assert_eq!(
            found,
            vec![(
                Severity::Error,
                Check::MissingReference,
                "extra.tf:3".to_string(),
                "coder_app.code.agent_id points at resource coder_agent.mian, which this template does not declare".to_string()
            )]
        );
    }

    #[test]
    fn script_env_pointing_at_a_non_agent() {
        let found = with(
            "resource \"coder_script\" \"s\" {\n  agent_id     = terraform_data.workspace[0].id\n  display_name = \"s\"\n  script       = \"true\"\n  run_on_start = true\n}\nresource \"coder_env\" \"e\" {\n  agent_id = coder_agent.main.id\n  name     = \"A\"\n}\n",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, Check::WrongReference);
        assert_eq!(found[0].2, "extra.tf:2");
        assert_eq!(
            found[0].3,
            "coder_script.s.agent_id points at terraform_data.workspace, but it must be a coder_agent"
        );
    }

    #[test]
    fn metadata_pointing_at_a_missing_resource() {
        let report = check_files(&[
            ("main.tf", GOOD),
            (
                "meta.tf",
                "\nresource \"coder_metadata\" \"m\" {\n  resource_id = docker_container.workspace[0].id\n}\n",
            ),
        ]);
        let f = only(&report, Check::MissingReference);
        assert_eq!(f.pos.map(|p| p.to_string()), Some("meta.tf:3".to_string()));
        assert!(
            f.message.contains("docker_container.workspace"),
            "{}",
            f.message
        );
    }

    #[test]
    fn metadata_on_a_coder_resource() {
        let found =
            with("resource \"coder_metadata\" \"m\" {\n  resource_id = coder_agent.main.id\n}\n");
        assert_eq!(found[0].1, Check::WrongReference);
        assert!(found[0]
            .3
            .ends_with("must be a managed resource that is not a Coder resource"));
    }

    #[test]
    fn pointers_are_followed_through_locals() {
        let found = with("locals {\n  agent = coder_agent.main.id\n}\nresource \"coder_env\" \"e\" {\n  agent_id = local.agent\n  name     = \"A\"\n}\n");
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn fixed_string_agent_id_is_a_warning() {
        let found =
            with("resource \"coder_env\" \"e\" {\n  agent_id = \"abc\"\n  name     = \"A\"\n}\n");
        assert_eq!(found[0].0, Severity::Warning);
        assert_eq!(found[0].1, Check::WrongReference);
    }

    #[test]
    fn agent_id_from_a_module_output_is_not_second_guessed() {
        let found = with("module \"agent\" {\n  source = \"./agent\"\n}\nresource \"coder_env\" \"e\" {\n  agent_id = module.agent.id\n  name     = \"A\"\n}\n");
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn any_undeclared_reference() {
        let found = with("output \"x\" {\n  value = [data.coder_workspace.you.name, var.nope, local.nada, count.index]\n}\n");
        let messages: Vec<_> = found.iter().map(|f| f.3.as_str()).collect();
        assert_eq!(
            messages,
            vec![
                "output.x refers to data source data.coder_workspace.you, which this template does not declare",
                "output.x refers to variable var.nope, which this template does not declare",
                "output.x refers to local value local.nada, which this template does not declare",
            ]
        );
        assert!(found.iter().all(|f| f.2 == "extra.tf:2"));
    }
}
