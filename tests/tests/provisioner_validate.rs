//! `coder-provisioner validate` end to end, with real Terraform and our provider from the
//! harness mirror: the full dry run (plan for start and stop, converted into resources, agents
//! and apps) of `examples/quickstart`; a conversion error surfacing as a finding; and the
//! examples whose providers the offline mirror lacks (`examples/docker`,
//! `examples/kubernetes`, `examples/aws-linux`), whose dry run is skipped with a warning that
//! names exactly those providers while the static checks pass.
//!
//! The static checks, `init` and exit codes are tested without Terraform in
//! `provisioner/tests/cli_validate.rs`.

use std::path::Path;
use std::process::Command;

use integration_tests::provisioner::provisioner_binary;
use integration_tests::{mirror, repo_root, terraform_versions, Terraform};
use serde_json::Value;

/// `validate <dir> --json` with `tf` and the mirror's CLI configuration; exit code and report.
fn validate(tf: &Terraform, dir: &Path) -> (i32, Value) {
    let mut cmd = Command::new(provisioner_binary());
    cmd.arg("validate")
        .arg(dir)
        .arg("--json")
        .arg("--terraform")
        .arg(&tf.path)
        .arg("--cli-config")
        .arg(&mirror().cli_config);
    // Nothing from the caller's environment may steer Terraform or the provider.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("TF_") || name.starts_with("CODER_") {
            cmd.env_remove(name.as_ref());
        }
    }
    cmd.env("CHECKPOINT_DISABLE", "1");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run coder-provisioner: {e}"));
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}); exit {:?}\n{}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

fn resources<'a>(json: &'a Value, transition: &str) -> Vec<&'a Value> {
    json["dry_run"]["transitions"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["transition"] == transition))
        .and_then(|t| t["resources"].as_array())
        .map(|rs| rs.iter().collect())
        .unwrap_or_default()
}

#[test]
fn quickstart_full_dry_run_passes() {
    let dir = repo_root().join("examples/quickstart");
    for tf in terraform_versions() {
        let (code, json) = validate(&tf, &dir);
        assert_eq!(code, 0, "{tf}: {json:#}");
        assert_eq!(json["dry_run"]["status"], "passed", "{tf}: {json:#}");
        assert_eq!(json["summary"]["warnings"], 0, "{tf}: {json:#}");

        // Start: the container hosts the agent, with its app; the volume is there too.
        let start = resources(&json, "start");
        let names: Vec<&str> = start.iter().filter_map(|r| r["name"].as_str()).collect();
        assert!(
            names.contains(&"home_volume") && names.contains(&"workspace"),
            "{tf}: {names:?}"
        );
        let container = start
            .iter()
            .find(|r| r["name"] == "workspace")
            .unwrap_or_else(|| panic!("{tf}: no workspace resource"));
        assert_eq!(container["type"], "terraform_data");
        assert_eq!(
            container["agents"][0]["name"], "main",
            "{tf}: {container:#}"
        );
        assert_eq!(container["agents"][0]["auth"], "token");
        assert_eq!(container["agents"][0]["apps"][0], "code-server");

        // Stop: only the persistent volume remains.
        let stop: Vec<&str> = resources(&json, "stop")
            .iter()
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert!(
            stop.contains(&"home_volume") && !stop.contains(&"workspace"),
            "{tf}: {stop:?}"
        );

        // The static split and the plans agree.
        for row in json["resources"].as_array().cloned().unwrap_or_default() {
            let expected = match row["on_stop"].as_str() {
                Some("destroyed") => "destroyed",
                _ => "kept",
            };
            assert_eq!(row["planned_on_stop"], expected, "{tf}: {row:#}");
        }
    }
}

#[test]
fn conversion_errors_are_reported() {
    // A slug computed from the instance key repeats the code-server app's slug: the static
    // slug check cannot see it, the provisioner's converter rejects it at build time, and
    // the dry run says so.
    let scratch = tempfile::tempdir().expect("tempdir");
    let quickstart = std::fs::read_to_string(repo_root().join("examples/quickstart/main.tf"))
        .expect("quickstart");
    std::fs::write(scratch.path().join("main.tf"), quickstart).expect("write");
    std::fs::write(
        scratch.path().join("apps.tf"),
        "resource \"coder_app\" \"tools\" {\n  for_each = toset([\"code-server\"])\n  agent_id = coder_agent.main.id\n  slug     = each.key\n  url      = \"http://localhost:8888\"\n}\n",
    )
    .expect("write");
    let tf = &terraform_versions()[0];
    let (code, json) = validate(tf, scratch.path());
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(json["dry_run"]["status"], "failed");
    let messages: Vec<&str> = json["findings"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .filter(|f| f["check"] == "dry-run")
                .filter_map(|f| f["message"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("dry run (start): duplicate app slug, they must be unique per template: \"code-server\"")),
        "{json:#}"
    );
}

#[test]
fn examples_with_providers_outside_the_mirror_skip_the_dry_run() {
    let tf = &terraform_versions()[0];
    for (example, provider) in [
        ("examples/docker", "kreuzwerker/docker"),
        ("examples/kubernetes", "hashicorp/kubernetes"),
        ("examples/aws-linux", "hashicorp/aws"),
    ] {
        let (code, json) = validate(tf, &repo_root().join(example));
        assert_eq!(code, 0, "{example}: {json:#}");
        assert_eq!(json["summary"]["errors"], 0, "{example}: {json:#}");
        assert_eq!(json["dry_run"]["status"], "skipped", "{example}");
        let reason = json["dry_run"]["reason"].as_str().unwrap_or_default();
        // Our provider is in the mirror; only the third-party one is missing.
        assert!(
            reason.contains(provider) && !reason.contains("coder/coder"),
            "{example}: {reason}"
        );
    }
}
