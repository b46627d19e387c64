//! The persistent/ephemeral split: which resources a workspace stop destroys and which it
//! keeps, read from the HCL.
//!
//! A workspace stop is a Terraform apply with `data.coder_workspace.*.transition = "stop"` and
//! `start_count = 0`. A resource is
//!
//! - **ephemeral** (destroyed on stop) when its `count` or `for_each` follows `start_count` or
//!   `transition` (directly or through locals);
//! - **persistent by role** (kept, on purpose) when it follows the transition in another
//!   attribute (an `aws_ec2_instance_state` whose `state` is "stopped" on stop), is referenced
//!   by such a resource (the instance it stops), says so in its `lifecycle` block
//!   (`ignore_changes`, `prevent_destroy`: the protection persistent resources need against
//!   accidental replacement), or is a storage resource (volumes, disks, claims);
//! - otherwise **unclassified**: it is kept on stop, which for a compute resource means it
//!   keeps running, and costing, while the workspace is stopped. That is a warning.
//!
//! Coder's own resources (`coder_*`) are not infrastructure and are left out.

use serde::Serialize;

use super::dry_run::DryRunReport;
use super::hcl_model::{Block, BlockKind, Reference, Target, TemplateModel};
use super::{Check, Finding};
use crate::parse::SourcePos;

/// Resource types that hold data and exist to outlive the machine using them.
const STORAGE_TYPES: &[&str] = &[
    "docker_volume",
    "kubernetes_persistent_volume_claim",
    "kubernetes_persistent_volume_claim_v1",
    "kubernetes_persistent_volume",
    "kubernetes_persistent_volume_v1",
    "aws_ebs_volume",
    "aws_efs_file_system",
    "google_compute_disk",
    "azurerm_managed_disk",
    "digitalocean_volume",
    "hcloud_volume",
    "openstack_blockstorage_volume_v3",
    "lxd_volume",
    "incus_storage_volume",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnStop {
    /// Ephemeral.
    Destroyed,
    /// Persistent by role.
    Kept,
    /// Kept, without saying so.
    Unclassified,
}

impl OnStop {
    pub fn as_str(self) -> &'static str {
        match self {
            OnStop::Destroyed => "destroyed",
            OnStop::Kept => "kept",
            OnStop::Unclassified => "kept (unclassified)",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LifecycleRow {
    pub address: String,
    #[serde(flatten, serialize_with = "super::report::serialize_pos")]
    pub pos: Option<SourcePos>,
    pub on_stop: OnStop,
    /// Why, in a few words.
    pub reason: String,
    /// What the dry run saw: `kept` when the stop plan still has the resource, `destroyed`
    /// when only the start plan has it; `None` without a dry run.
    pub planned_on_stop: Option<&'static str>,
}

pub struct LifecycleCheck {
    pub rows: Vec<LifecycleRow>,
    pub findings: Vec<Finding>,
}

pub fn check(model: &TemplateModel) -> LifecycleCheck {
    let resources: Vec<&Block> = model
        .of_kind(BlockKind::Resource)
        .filter(|b| !b.is_coder())
        .collect();
    // Resources whose own attributes (not count) follow the transition, e.g. an instance state.
    let state_followers: Vec<(&Block, String)> = resources
        .iter()
        .filter_map(|b| {
            b.body
                .attributes
                .iter()
                .filter(|a| !matches!(a.name.as_str(), "count" | "for_each"))
                .find(|a| follows_transition(model, &a.refs))
                .map(|a| (*b, a.name.clone()))
        })
        .collect();

    let mut rows = Vec::new();
    let mut findings = Vec::new();
    for block in resources {
        let (on_stop, reason) = classify(model, block, &state_followers);
        if on_stop == OnStop::Unclassified {
            findings.push(
                Finding::warning(
                    Check::Lifecycle,
                    format!(
                        "{} uses neither start_count nor a persistent role, so it stays (and \
                         keeps running) while the workspace is stopped; give it count = \
                         data.coder_workspace.<name>.start_count if it should go with the \
                         workspace, or a lifecycle block (ignore_changes, prevent_destroy) if \
                         it is meant to persist",
                        block.address()
                    ),
                )
                .at(&block.pos),
            );
        }
        rows.push(LifecycleRow {
            address: block.address(),
            pos: Some(block.pos.clone()),
            on_stop,
            reason,
            planned_on_stop: None,
        });
    }
    LifecycleCheck { rows, findings }
}

fn classify(
    model: &TemplateModel,
    block: &Block,
    followers: &[(&Block, String)],
) -> (OnStop, String) {
    for meta in ["count", "for_each"] {
        if let Some(attr) = block.attr(meta) {
            if let Some(what) = transition_source(model, &attr.refs) {
                return (OnStop::Destroyed, format!("{meta} follows {what}"));
            }
        }
    }
    if let Some((_, attr)) = followers.iter().find(|(b, _)| std::ptr::eq(*b, block)) {
        return (
            OnStop::Kept,
            format!("{attr} follows the workspace transition"),
        );
    }
    let target = Target::Resource {
        ty: block.ty.clone(),
        name: block.name.clone(),
    };
    if let Some((follower, _)) = followers
        .iter()
        .find(|(f, _)| f.refs.iter().any(|r| r.target == target))
    {
        return (
            OnStop::Kept,
            format!("started and stopped by {}", follower.address()),
        );
    }
    if let Some(lifecycle) = block.body.nested("lifecycle").next() {
        for (name, why) in [
            ("prevent_destroy", "lifecycle prevent_destroy"),
            ("ignore_changes", "lifecycle ignore_changes"),
        ] {
            if lifecycle.body.attr(name).is_some() {
                return (OnStop::Kept, why.to_string());
            }
        }
    }
    if STORAGE_TYPES.contains(&block.ty.as_str()) {
        return (OnStop::Kept, format!("storage ({})", block.ty));
    }
    (
        OnStop::Unclassified,
        "no start_count, no persistent role".to_string(),
    )
}

fn follows_transition(model: &TemplateModel, refs: &[Reference]) -> bool {
    transition_source(model, refs).is_some()
}

/// `data.coder_workspace.<name>.start_count` (or `.transition`) when `refs` read it, directly
/// or through locals.
fn transition_source(model: &TemplateModel, refs: &[Reference]) -> Option<String> {
    let mut pending: Vec<&Reference> = refs.iter().collect();
    let mut seen: Vec<&Target> = Vec::new();
    while let Some(r) = pending.pop() {
        match &r.target {
            Target::Data { ty, name } if ty == "coder_workspace" => {
                if let Some(attr @ ("start_count" | "transition")) = r.attr.as_deref() {
                    return Some(format!("data.coder_workspace.{name}.{attr}"));
                }
            }
            Target::Local(_) if !seen.contains(&&r.target) => {
                seen.push(&r.target);
                if let Some(local) = model.resolve(&r.target) {
                    pending.extend(local.refs.iter());
                }
            }
            _ => {}
        }
    }
    None
}

/// Adds what the dry run's start and stop plans show to each row.
pub fn merge_plan(rows: &mut [LifecycleRow], dry_run: &DryRunReport) {
    let (Some(start), Some(stop)) = (dry_run.transition("start"), dry_run.transition("stop"))
    else {
        return;
    };
    if start.error.is_some() || stop.error.is_some() {
        return;
    }
    for row in rows {
        let planned = |t: &super::dry_run::TransitionReport| {
            t.resources
                .iter()
                .any(|r| r.module_path.is_empty() && format!("{}.{}", r.ty, r.name) == row.address)
        };
        row.planned_on_stop = match (planned(start), planned(stop)) {
            (_, true) => Some("kept"),
            (true, false) => Some("destroyed"),
            (false, false) => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{check_files, GOOD};
    use super::super::{Check, Severity};
    use super::OnStop;

    /// The rows of `extra`'s resources (GOOD's `terraform_data.workspace` left out).
    fn rows(extra: &str) -> Vec<(String, OnStop, String)> {
        check_files(&[("main.tf", GOOD), ("infra.tf", extra)])
            .resources
            .into_iter()
            .filter(|r| r.address != "terraform_data.workspace")
            .map(|r| (r.address, r.on_stop, r.reason))
            .collect()
    }

    #[test]
    fn the_docker_split() {
        let infra = r#"resource "docker_volume" "home" {
  name = "home"
}
resource "docker_container" "dev" {
  count   = data.coder_workspace.me.start_count
  volumes = docker_volume.home.name
}
"#;
        assert_eq!(
            rows(infra),
            vec![
                (
                    "docker_volume.home".to_string(),
                    OnStop::Kept,
                    "storage (docker_volume)".to_string()
                ),
                (
                    "docker_container.dev".to_string(),
                    OnStop::Destroyed,
                    "count follows data.coder_workspace.me.start_count".to_string()
                ),
            ]
        );
    }

    #[test]
    fn instance_stopped_by_a_state_resource_is_persistent() {
        let infra = r#"locals {
  running = data.coder_workspace.me.transition == "start"
}
resource "aws_instance" "dev" {
  ami = "x"
}
resource "aws_ec2_instance_state" "dev" {
  instance_id = aws_instance.dev.id
  state       = local.running ? "running" : "stopped"
}
"#;
        let found = rows(infra);
        assert_eq!(
            found[0],
            (
                "aws_instance.dev".to_string(),
                OnStop::Kept,
                "started and stopped by aws_ec2_instance_state.dev".to_string()
            )
        );
        assert_eq!(
            found[1],
            (
                "aws_ec2_instance_state.dev".to_string(),
                OnStop::Kept,
                "state follows the workspace transition".to_string()
            )
        );
    }

    #[test]
    fn lifecycle_block_marks_persistence() {
        let infra = "resource \"terraform_data\" \"home\" {\n  input = 1\n  lifecycle {\n    ignore_changes = all\n  }\n}\n";
        assert_eq!(rows(infra)[0].1, OnStop::Kept);
    }

    #[test]
    fn unclassified_compute_is_a_warning_with_its_line() {
        let report = check_files(&[
            ("main.tf", GOOD),
            (
                "infra.tf",
                "\n\nresource \"google_compute_instance\" \"vm\" {\n  name = \"vm\"\n}\n",
            ),
        ]);
        let f = super::super::test_support::only(&report, Check::Lifecycle);
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.pos.map(|p| p.to_string()), Some("infra.tf:3".to_string()));
        assert!(f.message.starts_with(
            "google_compute_instance.vm uses neither start_count nor a persistent role"
        ));
        assert_eq!(report.exit_code(), 0);
    }

    #[test]
    fn count_through_a_local_and_for_each() {
        let infra = "locals {\n  on = data.coder_workspace.me.start_count\n}\nresource \"null_resource\" \"a\" {\n  count = local.on\n}\nresource \"null_resource\" \"b\" {\n  for_each = data.coder_workspace.me.transition == \"start\" ? toset([\"x\"]) : toset([])\n}\n";
        let found = rows(infra);
        assert_eq!(found[0].1, OnStop::Destroyed);
        assert_eq!(
            found[1],
            (
                "null_resource.b".to_string(),
                OnStop::Destroyed,
                "for_each follows data.coder_workspace.me.transition".to_string()
            )
        );
    }
}
