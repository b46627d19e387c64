//! `coder-provisioner validate` and `init`, driven through the real binary:
//!
//! - every example under `examples/` passes the static checks, and is `terraform fmt` clean;
//! - the examples whose providers cannot be installed here get a skipped dry run with a
//!   warning naming the providers, and still exit 0;
//! - one broken template per static check (`tests/fixtures/validate/<check>/`), each reported
//!   with its file and line;
//! - `init` writes every example byte for byte, and refuses a non-empty directory;
//! - the `--json` document's shape, and exit codes 0 (no errors), 1 (errors), 2 (usage).
//!
//! The full dry run of `examples/quickstart` needs the provider in a mirror; it lives with the
//! other end-to-end tests in `tests/tests/provisioner_validate.rs`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_coder-provisioner");
const EXAMPLES: &[&str] = &["quickstart", "docker", "kubernetes", "aws-linux"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new(".."))
        .to_path_buf()
}

fn fixture(check: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/validate")
        .join(check)
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("TF_CLI_CONFIG_FILE")
        .env_remove("CODER_PROVISIONER_TERRAFORM")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"))
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `validate <dir> --json <extra>`: the exit code and the parsed document.
fn validate_json(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let dir = dir.to_string_lossy();
    let mut args = vec!["validate", dir.as_ref(), "--json"];
    args.extend_from_slice(extra);
    let out = run(&args);
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", describe(&out)));
    (out.status.code().unwrap_or(-1), json)
}

fn example(name: &str) -> PathBuf {
    repo().join("examples").join(name)
}

#[test]
fn every_example_passes_the_static_checks() {
    for name in EXAMPLES {
        let (code, json) = validate_json(&example(name), &["--static"]);
        assert_eq!(code, 0, "examples/{name}: {json:#}");
        assert_eq!(json["ok"], true, "examples/{name}");
        assert_eq!(json["summary"]["errors"], 0, "examples/{name}: {json:#}");
        assert_eq!(json["summary"]["warnings"], 0, "examples/{name}: {json:#}");
        assert_eq!(json["dry_run"]["status"], "not-requested");
        let agents = json["agents"].as_array().cloned().unwrap_or_default();
        assert!(!agents.is_empty(), "examples/{name} has an agent");
        for agent in agents {
            assert!(
                !agent["runs_init_script"]
                    .as_array()
                    .is_none_or(Vec::is_empty),
                "examples/{name}: {agent:#}"
            );
        }
    }
}

#[test]
fn docker_example_reports_admin_and_user_variables_and_the_split() {
    let (_, json) = validate_json(&example("docker"), &["--static"]);
    let scope = |name: &str| {
        json["variables"]
            .as_array()
            .and_then(|vars| vars.iter().find(|v| v["name"] == name))
            .map(|v| v["scope"].clone())
    };
    assert_eq!(scope("image_registry"), Some(Value::from("admin")));
    assert_eq!(scope("image_name"), Some(Value::from("user")));
    let on_stop = |address: &str| {
        json["resources"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["address"] == address))
            .map(|r| r["on_stop"].clone())
    };
    assert_eq!(
        on_stop("docker_volume.home_volume"),
        Some(Value::from("kept"))
    );
    assert_eq!(
        on_stop("docker_container.workspace"),
        Some(Value::from("destroyed"))
    );
}

#[test]
fn examples_without_installable_providers_skip_the_dry_run_with_a_warning() {
    let scratch = tempfile::tempdir().expect("tempdir");
    // A CLI configuration with an empty mirror and no registry: init cannot install anything.
    let empty_mirror = scratch.path().join("mirror");
    fs::create_dir_all(&empty_mirror).expect("mkdir");
    let cli_config = scratch.path().join("terraformrc");
    fs::write(
        &cli_config,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = {:?}\n  }}\n}}\n",
            empty_mirror.to_string_lossy()
        ),
    )
    .expect("write");
    let config = cli_config.to_string_lossy().into_owned();
    for (name, provider) in [
        ("docker", "kreuzwerker/docker"),
        ("kubernetes", "hashicorp/kubernetes"),
        ("aws-linux", "hashicorp/aws"),
    ] {
        let (code, json) = validate_json(&example(name), &["--cli-config", &config]);
        assert_eq!(code, 0, "examples/{name}: {json:#}");
        assert_eq!(json["dry_run"]["status"], "skipped", "examples/{name}");
        let warning = json["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["check"] == "dry-run"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(warning["severity"], "warning", "examples/{name}: {json:#}");
        let message = warning["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("skipped the dry run: terraform init failed: provider")
                && message.contains(provider)
                && message.contains("not reachable"),
            "examples/{name}: {message}"
        );
    }
}

#[test]
fn every_example_is_terraform_fmt_clean() {
    for name in EXAMPLES {
        let out = Command::new("terraform")
            .args(["fmt", "-check", "-diff", "-recursive"])
            .arg(example(name))
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .unwrap_or_else(|e| panic!("cannot run terraform from PATH (>= 1.5 needed): {e}"));
        assert!(out.status.success(), "examples/{name}:\n{}", describe(&out));
    }
}

/// `(fixture, check, severity, file:line, words of the message)`.
const BROKEN: &[(&str, &str, &str, &str, &str)] = &[
    ("syntax", "syntax", "error", "main.tf:7", "Invalid character"),
    (
        "agent-not-attached",
        "agent-not-attached",
        "error",
        "main.tf:4",
        "no resource depends on coder_agent.main",
    ),
    (
        "agent-never-connects",
        "agent-never-connects",
        "error",
        "main.tf:5",
        "coder_agent.main.init_script is used by no resource",
    ),
    (
        "agent-token",
        "agent-never-connects",
        "error",
        "main.tf:5",
        "coder_agent.main.token is passed to no resource",
    ),
    (
        "missing-reference",
        "missing-reference",
        "error",
        "apps.tf:3",
        "coder_app.code_server.agent_id points at resource coder_agent.mian, which this template does not declare",
    ),
    (
        "wrong-reference",
        "wrong-reference",
        "error",
        "main.tf:17",
        "coder_metadata.info.resource_id points at coder_agent.main",
    ),
    (
        "agent-name",
        "agent-name",
        "error",
        "main.tf:9",
        "duplicate agent name: Dev",
    ),
    (
        "app-slug",
        "app-slug",
        "error",
        "main.tf:15",
        "app slug \"code_server\" does not match regex",
    ),
    (
        "parameter-default",
        "parameter-default",
        "error",
        "main.tf:16",
        "Invalid parameter default value according to 'validation' block: value 16 is more than the maximum 8",
    ),
    (
        "lifecycle",
        "lifecycle",
        "warning",
        "main.tf:11",
        "google_compute_instance.dev uses neither start_count nor a persistent role",
    ),
];

#[test]
fn each_broken_template_is_reported_with_file_and_line() {
    for (name, check, severity, at, words) in BROKEN {
        let (code, json) = validate_json(&fixture(name), &["--static"]);
        let findings = json["findings"].as_array().cloned().unwrap_or_default();
        let found = findings.iter().find(|f| {
            f["check"] == *check
                && f["severity"] == *severity
                && format!("{}:{}", f["file"].as_str().unwrap_or(""), f["line"]) == *at
                && f["message"].as_str().is_some_and(|m| m.contains(words))
        });
        assert!(
            found.is_some(),
            "{name}: no {severity} {check} at {at} containing {words:?} in {json:#}"
        );
        let expected_code = if *severity == "error" { 1 } else { 0 };
        assert_eq!(code, expected_code, "{name}: {json:#}");

        // The human report says the same, compiler style.
        let out = run(&["validate", &fixture(name).to_string_lossy(), "--static"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!("  {at}: {severity}: ")) && text.contains(&format!("[{check}]")),
            "{name}:\n{}",
            describe(&out)
        );
    }
}

#[test]
fn json_document_shape() {
    let (_, json) = validate_json(&fixture("missing-reference"), &["--static"]);
    for key in [
        "ok",
        "summary",
        "template",
        "managed_variables",
        "variables",
        "parameters",
        "agents",
        "resources",
        "dry_run",
        "findings",
    ] {
        assert!(json.get(key).is_some(), "no {key:?} in {json:#}");
    }
    assert_eq!(json["ok"], false);
    assert_eq!(json["summary"]["errors"], 1);
    assert!(json["summary"]["warnings"].is_u64() && json["summary"]["infos"].is_u64());
    let finding = &json["findings"][0];
    for key in ["severity", "check", "message", "file", "line"] {
        assert!(finding.get(key).is_some(), "no {key:?} in {finding:#}");
    }
    let row = &json["resources"][0];
    for key in [
        "address",
        "file",
        "line",
        "on_stop",
        "reason",
        "planned_on_stop",
    ] {
        assert!(row.get(key).is_some(), "no {key:?} in {row:#}");
    }
    let agent = &json["agents"][0];
    for key in [
        "name",
        "auth",
        "runs_init_script",
        "receives_token",
        "file",
        "line",
    ] {
        assert!(agent.get(key).is_some(), "no {key:?} in {agent:#}");
    }
}

#[test]
fn exit_codes() {
    let ok = run(&[
        "validate",
        &example("quickstart").to_string_lossy(),
        "--static",
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", describe(&ok));
    assert!(String::from_utf8_lossy(&ok.stdout).ends_with("OK: 0 error(s), 0 warning(s)\n"));

    let warnings_only = run(&[
        "validate",
        &fixture("lifecycle").to_string_lossy(),
        "--static",
    ]);
    assert_eq!(
        warnings_only.status.code(),
        Some(0),
        "{}",
        describe(&warnings_only)
    );

    let errors = run(&[
        "validate",
        &fixture("agent-never-connects").to_string_lossy(),
        "--static",
    ]);
    assert_eq!(errors.status.code(), Some(1), "{}", describe(&errors));

    let missing = run(&["validate", "/nonexistent/template", "--static"]);
    assert_eq!(missing.status.code(), Some(2), "{}", describe(&missing));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such directory"));

    let bad_flag = run(&["validate", "--no-such-flag", "."]);
    assert_eq!(bad_flag.status.code(), Some(2), "{}", describe(&bad_flag));
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                out.push(rel.to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn init_round_trips_every_example_byte_for_byte() {
    let scratch = tempfile::tempdir().expect("tempdir");
    for name in EXAMPLES {
        let target = scratch.path().join(name);
        let out = run(&["init", "--example", name, &target.to_string_lossy()]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", describe(&out));
        let written = files_under(&target);
        let source: Vec<PathBuf> = files_under(&example(name))
            .into_iter()
            .filter(|p| {
                let p = p.to_string_lossy();
                !(p.starts_with(".terraform") || p.contains(".tfstate"))
            })
            .collect();
        assert_eq!(written, source, "{name}");
        for file in &written {
            assert_eq!(
                fs::read(target.join(file)).expect("written"),
                fs::read(example(name).join(file)).expect("source"),
                "{name}/{}",
                file.display()
            );
        }
        // What init wrote validates like the original.
        let (code, _) = validate_json(&target, &["--static"]);
        assert_eq!(code, 0, "{name}");
    }
}

#[test]
fn init_lists_refuses_and_forces() {
    let list = run(&["init"]);
    assert_eq!(list.status.code(), Some(0), "{}", describe(&list));
    let text = String::from_utf8_lossy(&list.stdout);
    for name in EXAMPLES {
        assert!(text.contains(&format!("  {name} ")), "{text}");
    }

    let scratch = tempfile::tempdir().expect("tempdir");
    fs::write(scratch.path().join("notes.txt"), "mine").expect("write");
    let dir = scratch.path().to_string_lossy().into_owned();
    let refused = run(&["init", "--example", "docker", &dir]);
    assert_eq!(refused.status.code(), Some(1), "{}", describe(&refused));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not empty"));
    assert!(!scratch.path().join("main.tf").exists());

    let forced = run(&["init", "--example", "docker", &dir, "--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", describe(&forced));
    assert_eq!(
        fs::read_to_string(scratch.path().join("notes.txt")).expect("kept"),
        "mine"
    );
    assert!(scratch.path().join("main.tf").exists());

    let unknown = run(&["init", "--example", "nope"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", describe(&unknown));
    assert!(String::from_utf8_lossy(&unknown.stderr)
        .contains("quickstart, docker, kubernetes, aws-linux"));
}
