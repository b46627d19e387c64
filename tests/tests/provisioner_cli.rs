//! The `coder-provisioner` command line, driving the real binary with real Terraform and our
//! provider: parse, plan, apply through a workspace's life, offline graph conversion, JSON
//! output, exit codes and help.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use integration_tests::provisioner::{provisioner_binary, sanitize, WORKSPACE_TEMPLATE};
use integration_tests::{mirror, terraform_versions, TfDir};

const VARIABLES: &str = r#"
variable "api_token" {
  description = "Token for the internal API"
  type        = string
  sensitive   = true
}

variable "region" {
  type    = string
  default = "eu"
}

resource "terraform_data" "w" {
  input = "${var.region}-${length(var.api_token)}"
}
"#;

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a template directory `name` holding `main.tf`.
    fn template(&self, name: &str, main_tf: &str) -> std::path::PathBuf {
        let dir = self.path(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("main.tf"), main_tf).expect("write");
        dir
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(provisioner_binary());
        cmd.args(args).current_dir(self.dir.path());
        sanitize(&mut cmd);
        cmd.output().expect("run coder-provisioner")
    }

    /// A build command (`plan`/`apply`) with Terraform, the provider mirror and a work dir.
    fn build(&self, args: &[&str]) -> Output {
        let tf = &terraform_versions()[0];
        let tf_path = tf.path.display().to_string();
        let cli_config = mirror().cli_config.display().to_string();
        let work = self.path("work").display().to_string();
        let mut all: Vec<&str> = args.to_vec();
        all.extend([
            "--terraform",
            &tf_path,
            "--cli-config",
            &cli_config,
            "--work-dir",
            &work,
        ]);
        self.run(&all)
    }
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[track_caller]
fn assert_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "{}", text(out));
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    stdout(out)
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{}", text(out)))
        })
        .collect()
}

#[test]
fn help_shows_examples_and_usage_errors_exit_2() {
    let cli = Cli::new();
    let help = cli.run(&["--help"]);
    assert_exit(&help, 0);
    assert!(stdout(&help).contains("Examples:"), "{}", text(&help));
    assert!(stdout(&help).contains("coder-provisioner plan ./my-template --var"));
    for sub in ["parse", "plan", "apply", "graph", "serve"] {
        let out = cli.run(&[sub, "--help"]);
        assert_exit(&out, 0);
        assert!(stdout(&out).contains("Example"), "{sub}: {}", text(&out));
    }
    assert_exit(&cli.run(&[]), 2);
    assert_exit(&cli.run(&["frobnicate"]), 2);
    let bad_var = cli.run(&["plan", ".", "--var", "novalue"]);
    assert_exit(&bad_var, 2);
    assert!(
        stderr(&bad_var).contains("is not NAME=VALUE"),
        "{}",
        text(&bad_var)
    );
    let missing = cli.run(&["parse", "/nonexistent/template"]);
    assert_exit(&missing, 2);
    assert!(stderr(&missing).contains("is not a directory"));
    assert_exit(&cli.run(&["serve", "--listen", "nonsense"]), 2);
    assert_exit(&cli.run(&["graph", "--dot", "x.dot"]), 2);
}

#[test]
fn parse_lists_admin_and_user_variables() {
    let cli = Cli::new();
    let dir = cli.template("vars", VARIABLES);
    let dir = dir.to_str().expect("utf-8 path");
    let out = cli.run(&["parse", dir]);
    assert_exit(&out, 0);
    let listing = stdout(&out);
    assert!(
        listing.contains("api_token (admin, string, required, sensitive)"),
        "{listing}"
    );
    assert!(
        listing.contains("region (user, string, default \"eu\")"),
        "{listing}"
    );

    let out = cli.run(&["parse", dir, "--json"]);
    assert_exit(&out, 0);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    let vars = &lines[0]["parse"]["template_variables"];
    assert_eq!(vars[0]["name"], "api_token");
    assert_eq!(vars[0]["scope"], "ADMIN");
    assert_eq!(vars[0]["sensitive"], true);
    assert_eq!(vars[1]["scope"], "USER");
    assert_eq!(vars[1]["default_value"], "eu");

    let bad = cli.template("bad", "a;sd;ajsd;lajsd;lasjdf;a");
    let out = cli.run(&["parse", bad.to_str().expect("utf-8")]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("The \";\" character is not valid."),
        "{}",
        text(&out)
    );
}

#[test]
fn plan_and_apply_through_a_workspace_life() {
    let cli = Cli::new();
    let dir = cli.template("docker-like", WORKSPACE_TEMPLATE);
    let dir = dir.to_str().expect("utf-8");
    let s1 = cli.path("s1.tfstate").display().to_string();
    let s2 = cli.path("s2.tfstate").display().to_string();

    let plan = cli.build(&[
        "plan",
        dir,
        "--var",
        "image_name=node:20",
        "--owner",
        "alice",
    ]);
    assert_exit(&plan, 0);
    let listing = stdout(&plan);
    assert!(
        listing.contains("terraform_data.workspace"),
        "{}",
        text(&plan)
    );
    assert!(listing.contains("agent main (linux/"), "{}", text(&plan));
    assert!(listing.contains("app code-server: http://localhost:13337"));
    let progress = stderr(&plan);
    assert!(
        progress.contains("==> Initializing Terraform"),
        "{progress}"
    );
    assert!(progress.contains("==> Planning workspace \"dryrun\" (start)"));
    assert!(progress.contains("Plan to create"), "{progress}");

    let start = cli.build(&["apply", dir, "--owner", "alice", "--state-out", &s1]);
    assert_exit(&start, 0);
    assert!(stdout(&start).contains("terraform_data.workspace"));
    let mode = std::fs::metadata(&s1).expect("state").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "states hold secrets");

    let stop = cli.build(&[
        "apply",
        dir,
        "--owner",
        "alice",
        "--transition",
        "stop",
        "--state",
        &s1,
        "--state-out",
        &s2,
    ]);
    assert_exit(&stop, 0);
    assert!(
        stdout(&stop).contains("terraform_data.home_volume"),
        "{}",
        text(&stop)
    );
    assert!(
        !stdout(&stop).contains("terraform_data.workspace"),
        "{}",
        text(&stop)
    );
    assert!(!stdout(&stop).contains("agent main"));

    let destroy = cli.build(&[
        "apply",
        dir,
        "--owner",
        "alice",
        "--transition",
        "destroy",
        "--state",
        &s2,
        "--state-out",
        &s2,
        "--json",
    ]);
    assert_exit(&destroy, 0);
    let lines = json_lines(&destroy);
    let kinds: Vec<&str> = lines
        .iter()
        .filter_map(|l| {
            l.as_object()
                .and_then(|o| o.keys().next())
                .map(String::as_str)
        })
        .collect();
    assert_eq!(kinds, vec!["init", "plan", "apply"], "{}", text(&destroy));
    assert!(
        lines[2]["apply"].get("resources").is_none(),
        "no resources left"
    );
    assert!(
        lines[2]["apply"]["state"].is_string(),
        "state is base64 bytes"
    );

    // The work directory holds no session once the commands are done.
    let left: Vec<_> = std::fs::read_dir(cli.path("work"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn plan_json_prints_one_response_per_step() {
    let cli = Cli::new();
    let dir = cli.template("docker-like", WORKSPACE_TEMPLATE);
    let out = cli.build(&["plan", dir.to_str().expect("utf-8"), "--json"]);
    assert_exit(&out, 0);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3, "{}", text(&out));
    assert!(lines[0].get("init").is_some());
    assert!(
        lines[1]["plan"]["plan"].is_string(),
        "plan JSON as base64 bytes"
    );
    let resources = lines[2]["graph"]["resources"]
        .as_array()
        .expect("resources");
    let workspace = resources
        .iter()
        .find(|r| r["name"] == "workspace")
        .expect("workspace resource");
    assert_eq!(workspace["type"], "terraform_data");
    assert_eq!(workspace["agents"][0]["name"], "main");
    // proto3 JSON: enums by name, default values (OWNER = 0) left out.
    assert!(workspace["agents"][0]["apps"][0]
        .get("sharing_level")
        .is_none());
    assert_eq!(workspace["agents"][0]["apps"][0]["open_in"], "SLIM_WINDOW");
}

#[test]
fn build_failures_exit_1_and_keep_the_state() {
    let cli = Cli::new();
    let vars = cli.template("vars", VARIABLES);
    let out = cli.build(&["plan", vars.to_str().expect("utf-8")]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("No value for required variable"),
        "{}",
        text(&out)
    );
    assert!(stderr(&out).contains("error: terraform plan: exit status 1"));

    // Sensitive values are hidden in everything the CLI prints.
    let out = cli.build(&[
        "apply",
        vars.to_str().expect("utf-8"),
        "--var",
        "api_token=hunter2-secret",
        "--state-out",
        &cli.path("v.tfstate").display().to_string(),
        "--log-level",
        "debug",
    ]);
    assert_exit(&out, 0);
    assert!(!text(&out).contains("hunter2-secret"), "{}", text(&out));

    // An apply that fails half way still writes the state it reached.
    let failing = cli.template(
        "failing",
        r#"
resource "terraform_data" "first" {}
resource "terraform_data" "broken" {
  depends_on = [terraform_data.first]
  provisioner "local-exec" {
    command = "exit 3"
  }
}
"#,
    );
    let state = cli.path("f.tfstate");
    let out = cli.build(&[
        "apply",
        failing.to_str().expect("utf-8"),
        "--state-out",
        &state.display().to_string(),
    ]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("error: terraform apply: exit status 1"));
    let saved = std::fs::read_to_string(&state).expect("state written despite the failure");
    assert!(saved.contains("\"first\""), "{saved}");
}

#[test]
fn graph_converts_captured_terraform_output() {
    let cli = Cli::new();
    let tf = &terraform_versions()[0];
    let dir = TfDir::without_provider(
        tf,
        r#"
resource "terraform_data" "a" {}
resource "terraform_data" "b" {
  input = terraform_data.a.id
}
"#,
    );
    dir.init().assert_success();
    let plan_json = dir.plan_json();
    let dot = dir
        .run(&["graph", "-type=plan"])
        .assert_success()
        .stdout
        .clone();
    let plan_path = cli.path("plan.json");
    let dot_path = cli.path("plan.dot");
    std::fs::write(&plan_path, plan_json.to_string()).expect("write");
    std::fs::write(&dot_path, dot).expect("write");
    let p = plan_path.to_str().expect("utf-8");
    let d = dot_path.to_str().expect("utf-8");

    let out = cli.run(&["graph", "--plan-json", p, "--dot", d]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("terraform_data.a"), "{}", text(&out));
    assert!(stdout(&out).contains("terraform_data.b"));

    let out = cli.run(&["graph", "--plan-json", p, "--dot", d, "--json"]);
    assert_exit(&out, 0);
    let lines = json_lines(&out);
    assert_eq!(
        lines[0]["graph"]["resources"].as_array().map(Vec::len),
        Some(2)
    );

    let out = cli.run(&["graph", "--plan-json", d, "--dot", d]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("is not `terraform show -json` plan output"));
    let out = cli.run(&["graph", "--state-json", p, "--dot", "/nonexistent.dot"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("/nonexistent.dot"));
    assert!(Path::new(p).exists());
}
