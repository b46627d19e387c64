//! The provider block, `coder_agent`, `coder_app` and `data.coder_workspace` through real
//! Terraform (every version from `terraform_versions`): upstream's validation texts, the agent
//! token and init script, the workspace's access URL and port, and a late-2022 template.

use integration_tests::{terraform_versions, TfDir, TfOutput};

const HEADER: &str = r#"
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}
"#;

/// The prebuild token variable: upstream hashes an always-empty agent id, so this is sha256("").
const PREBUILD_TOKEN_ENV: &str =
    "CODER_RUNNING_WORKSPACE_AGENT_TOKEN_e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[derive(Debug, Clone, PartialEq)]
struct Diag {
    severity: String,
    summary: String,
    detail: String,
    address: String,
}

fn diag_of(d: &serde_json::Value) -> Diag {
    let text = |k: &str| d[k].as_str().unwrap_or_default().to_string();
    Diag {
        severity: text("severity"),
        summary: text("summary"),
        detail: text("detail"),
        address: text("address"),
    }
}

/// Diagnostics of `terraform validate -json` (one document) or of a `-json` plan/apply (one
/// message per line).
fn diagnostics(out: &TfOutput) -> Vec<Diag> {
    if let Ok(doc) = serde_json::from_str::<serde_json::Value>(&out.stdout) {
        if let Some(list) = doc["diagnostics"].as_array() {
            return list.iter().map(diag_of).collect();
        }
    }
    out.stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["type"] == "diagnostic")
        .map(|m| diag_of(&m["diagnostic"]))
        .collect()
}

#[track_caller]
fn assert_has(diags: &[Diag], severity: &str, summary: &str, context: &str) {
    assert!(
        diags
            .iter()
            .any(|d| d.severity == severity && d.summary == summary),
        "{context}: no {severity} {summary:?} among\n{diags:#?}"
    );
}

#[track_caller]
fn assert_has_detail(diags: &[Diag], summary: &str, detail: &str, context: &str) {
    assert!(
        diags
            .iter()
            .any(|d| d.summary == summary && d.detail == detail),
        "{context}: no {summary:?} / {detail:?} among\n{diags:#?}"
    );
}

fn validate(dir: &TfDir) -> Vec<Diag> {
    dir.init().assert_success();
    diagnostics(&dir.run(&["validate", "-json", "-no-color"]))
}

fn plan_failure(dir: &TfDir) -> Vec<Diag> {
    dir.init().assert_success();
    diagnostics(&dir.run(&["plan", "-json", "-no-color"]).assert_failure())
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

const INVALID_ARGUMENTS: &str = r#"
resource "coder_agent" "enums" {
  os                      = "plan9"
  arch                    = "x86"
  auth                    = "basic"
  api_key_scope           = "none"
  startup_script_behavior = "wait"
  connection_timeout      = -1
}

resource "coder_agent" "dir" {
  os   = "linux"
  arch = "amd64"
  dir  = "/workspace"
}

resource "coder_agent" "monitors" {
  os   = "linux"
  arch = "amd64"
  resources_monitoring {
    memory {
      enabled   = true
      threshold = 101
    }
    volume {
      path      = ""
      enabled   = true
      threshold = 10
    }
    volume {
      path      = "data"
      enabled   = true
      threshold = 10
    }
  }
}

resource "coder_agent" "late_2022" {
  os                      = "linux"
  arch                    = "amd64"
  login_before_ready      = true
  startup_script_behavior = "blocking"
  startup_script_timeout  = 0
}

resource "coder_app" "texts" {
  agent_id     = "agent"
  slug         = "Code--Server"
  display_name = format("%65s", "x")
  group        = format("%65s", "g")
  tooltip      = format("%2049s", "t")
  share        = "everyone"
  open_in      = "window"
  icon         = "/icon%.svg"
}

resource "coder_app" "conflicts" {
  agent_id  = "agent"
  slug      = "conflicts"
  command   = "htop"
  url       = "http://localhost:8080"
  subdomain = false
}

resource "coder_app" "external" {
  agent_id = "agent"
  slug     = "external"
  external = true
  url      = "vscode://open"
  share    = "owner"
}

resource "coder_app" "healthcheck" {
  agent_id = "agent"
  slug     = "healthcheck"
  command  = "htop"
  healthcheck {
    url       = "http://localhost:8080/healthz"
    interval  = 5
    threshold = 6
  }
}

resource "coder_app" "late_2022" {
  agent_id      = "agent"
  slug          = "late"
  name          = "Late"
  display_name  = "Late"
  relative_path = true
  subdomain     = true
}
"#;

#[test]
fn validation_reports_upstream_texts() {
    for tf in terraform_versions() {
        let dir = TfDir::new(&tf, &format!("{HEADER}{INVALID_ARGUMENTS}"));
        let diags = validate(&dir);
        let context = tf.to_string();
        for summary in [
            r#"expected os to be one of ["linux" "darwin" "windows"], got plan9"#,
            r#"expected arch to be one of ["amd64" "armv7" "arm64"], got x86"#,
            r#"expected auth to be one of ["token" "google-instance-identity" "aws-instance-identity" "azure-instance-identity"], got basic"#,
            r#"expected api_key_scope to be one of ["all" "no_user_data"], got none"#,
            r#"expected startup_script_behavior to be one of ["blocking" "non-blocking"], got wait"#,
            "expected connection_timeout to be at least (0), got -1",
            "expected resources_monitoring.0.memory.0.threshold to be in the range (0 - 100), got 101",
            "volume path must not be empty",
            "volume path must be an absolute path",
            "expected startup_script_timeout to be at least (1), got 0",
            r#"invalid "coder_app" slug, must be a valid hostname ("^[a-z0-9](-?[a-z0-9])*$", cannot contain two consecutive hyphens or start/end with a hyphen): "Code--Server""#,
            "display name is too long (max 64 characters)",
            "group name is too long (max 64 characters)",
            "tooltip is too long (max 2048 characters)",
            r#"invalid app share "everyone", must be one of "owner", "authenticated", "public""#,
            r#"invalid "coder_app" open_in value, must be one of "tab", "slim-window": "window""#,
            r#"parse "/icon%.svg": invalid URL escape "%.s""#,
        ] {
            assert_has(&diags, "error", summary, &context);
        }
        for warning in [
            "\"dir\" is deprecated and will be removed in a future release.",
            "Setting \"dir\" to a value other than $HOME will break Coder Desktop file sync.",
        ] {
            assert_has(&diags, "warning", warning, &context);
        }
        let conflict = "Conflicting configuration arguments";
        for detail in [
            r#""login_before_ready": conflicts with startup_script_behavior"#,
            r#""command": conflicts with url"#,
            r#""command": conflicts with subdomain"#,
            r#""url": conflicts with command"#,
            r#""external": conflicts with share"#,
            r#""healthcheck": conflicts with command"#,
            r#""name": conflicts with display_name"#,
            r#""relative_path": conflicts with subdomain"#,
        ] {
            assert_has_detail(&diags, conflict, detail, &context);
        }
        // `dir` is deprecated in v2.17.0; the late-2022 arguments name their replacements.
        for (address, replacement) in [
            ("coder_agent.dir", "dir has been deprecated"),
            ("coder_agent.late_2022", "startup_script_behavior"),
            ("coder_app.late_2022", "display_name"),
            ("coder_app.late_2022", "subdomain"),
        ] {
            assert!(
                diags.iter().any(|d| d.summary == "Argument is deprecated"
                    && d.address == address
                    && d.detail.contains(replacement)),
                "{context}: no deprecation of {address} naming {replacement:?}\n{diags:#?}"
            );
        }
    }
}

const PLAN_CHECKS: &str = r#"
resource "coder_agent" "metadata" {
  os   = "linux"
  arch = "amd64"
  metadata {
    key      = "load"
    script   = "uptime"
    interval = 10
  }
  metadata {
    key      = "load"
    script   = "cat /proc/loadavg"
    interval = 10
  }
}

resource "coder_agent" "no_monitor" {
  os   = "linux"
  arch = "amd64"
  resources_monitoring {}
}

resource "coder_agent" "same_volume" {
  os   = "linux"
  arch = "amd64"
  resources_monitoring {
    volume {
      path      = "/home/coder"
      enabled   = true
      threshold = 80
    }
    volume {
      path      = "/home/coder"
      enabled   = false
      threshold = 90
    }
  }
}
"#;

#[test]
fn plan_time_checks_report_upstream_texts() {
    for tf in terraform_versions() {
        let dir = TfDir::new(&tf, &format!("{HEADER}{PLAN_CHECKS}"));
        let diags = plan_failure(&dir);
        let context = tf.to_string();
        assert_has(
            &diags,
            "error",
            r#"duplicate agent metadata key "load""#,
            &context,
        );
        assert_has(
            &diags,
            "error",
            "resources_monitoring must define at least one monitor",
            &context,
        );
        assert_has(
            &diags,
            "error",
            r#"duplicate volume path "/home/coder""#,
            &context,
        );
    }
}

#[test]
fn provider_url_is_validated_like_go() {
    let agentless = format!("{HEADER}\ndata \"coder_workspace\" \"me\" {{}}\n");
    for tf in terraform_versions() {
        let context = tf.to_string();

        let dir = TfDir::new(
            &tf,
            &format!("{agentless}\nprovider \"coder\" {{\n  url = \"https://exa mple.com\"\n}}\n"),
        );
        assert_has(
            &validate(&dir),
            "error",
            r#"parse "https://exa mple.com": invalid character " " in host name"#,
            &context,
        );

        // The default from CODER_AGENT_URL is checked the same way (Terraform validates only
        // configured provider blocks, so this shows at plan time).
        let mut dir = TfDir::new(&tf, &agentless);
        dir.set_env("CODER_AGENT_URL", "http://coder:abc");
        assert_has(
            &plan_failure(&dir),
            "error",
            r#"parse "http://coder:abc": invalid port ":abc" after host"#,
            &context,
        );

        let dir = TfDir::new(
            &tf,
            &format!("{agentless}\nprovider \"coder\" {{\n  url = \"\"\n}}\n"),
        );
        assert_has(
            &plan_failure(&dir),
            "error",
            r#"CODER_AGENT_URL must not be empty; got """#,
            &context,
        );
    }
}

const AGENT: &str = r#"
provider "coder" {
  url = "https://coder.example.com:8443/some/path?x=1"
}

resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"
  auth = "aws-instance-identity"
}

# Something that uses the token, as a compute resource would: its re-plan must stay empty.
resource "terraform_data" "compute" {
  input = coder_agent.dev.token
}

output "token" {
  value     = coder_agent.dev.token
  sensitive = true
}

output "init_script" {
  value = coder_agent.dev.init_script
}

output "id" {
  value = coder_agent.dev.id
}
"#;

#[test]
fn agent_token_is_a_sensitive_uuid_and_init_script_is_rendered() {
    for tf in terraform_versions() {
        let context = tf.to_string();
        let mut dir = TfDir::new(&tf, &format!("{HEADER}{AGENT}"));
        dir.set_env(
            "CODER_AGENT_SCRIPT_linux_amd64",
            "curl -fsSL ${ACCESS_URL}bin/coder-linux-amd64 | CODER_AGENT_AUTH=${AUTH_TYPE} sh",
        );
        dir.init().assert_success();
        let plan = dir.plan().assert_success();
        assert!(
            plan.stdout
                .lines()
                .any(|l| l.contains("+ token") && l.contains("(sensitive value)")),
            "{context}: token not shown as sensitive\n{plan}"
        );
        assert!(
            plan.stdout
                .lines()
                .any(|l| l.contains("+ init_script") && l.contains("(known after apply)")),
            "{context}\n{plan}"
        );

        dir.apply().assert_success();
        let out = dir.output_json();
        let token = out["token"]["value"].as_str().unwrap_or_default();
        assert!(is_uuid(token), "{context}: token {token:?}");
        assert_eq!(out["token"]["sensitive"], true, "{context}");
        assert_ne!(out["id"]["value"], out["token"]["value"], "{context}");
        assert_eq!(
            out["init_script"]["value"],
            "curl -fsSL https://coder.example.com:8443/bin/coder-linux-amd64 | \
             CODER_AGENT_AUTH=aws-instance-identity sh",
            "{context}"
        );
        let show = dir.show_json();
        let agent = show["values"]["root_module"]["resources"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["address"] == "coder_agent.dev"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            agent["sensitive_values"]["token"], true,
            "{context}: {agent:#}"
        );

        // The token survives refresh, so nothing that uses it changes.
        dir.assert_no_changes();
        assert_eq!(dir.output_json()["token"]["value"], token, "{context}");
    }
}

#[test]
fn claimed_prebuild_keeps_the_running_agent_token() {
    for tf in terraform_versions() {
        let mut dir = TfDir::new(&tf, &format!("{HEADER}{AGENT}"));
        dir.set_env(PREBUILD_TOKEN_ENV, "token-of-the-running-agent");
        dir.init().assert_success();
        dir.apply().assert_success();
        let out = dir.output_json();
        assert_eq!(out["token"]["value"], "token-of-the-running-agent", "{tf}");
        // Without a template for the platform, the init script is empty.
        assert_eq!(out["init_script"]["value"], "", "{tf}");
        dir.assert_no_changes();
    }
}

const ACCESS: &str = r#"
provider "coder" {
  alias = "https"
  url   = "https://coder.example.com/"
}

provider "coder" {
  alias = "http"
  url   = "http://coder.example.com"
}

provider "coder" {
  alias = "port"
  url   = "HTTPS://Coder.example.com:8443/a b"
}

data "coder_workspace" "default" {}

data "coder_workspace" "https" {
  provider = coder.https
}

data "coder_workspace" "http" {
  provider = coder.http
}

data "coder_workspace" "port" {
  provider = coder.port
}

output "access" {
  value = {
    for k, w in {
      default = data.coder_workspace.default
      https   = data.coder_workspace.https
      http    = data.coder_workspace.http
      port    = data.coder_workspace.port
    } : k => [w.access_url, w.access_port]
  }
}

output "workspace" {
  value = {
    transition     = data.coder_workspace.default.transition
    start_count    = data.coder_workspace.default.start_count
    name           = data.coder_workspace.default.name
    id             = data.coder_workspace.default.id
    is_prebuild    = data.coder_workspace.default.is_prebuild
    prebuild_count = data.coder_workspace.default.prebuild_count
  }
}
"#;

#[test]
fn workspace_access_url_port_and_transition() {
    for tf in terraform_versions() {
        let context = tf.to_string();
        let dir = TfDir::new(&tf, &format!("{HEADER}{ACCESS}"));
        dir.init().assert_success();
        dir.apply().assert_success();
        let out = dir.output_json();
        assert_eq!(
            out["access"]["value"],
            serde_json::json!({
                "default": ["https://mydeployment.coder.com", 443],
                "https": ["https://coder.example.com/", 443],
                "http": ["http://coder.example.com", 80],
                "port": ["https://Coder.example.com:8443/a%20b", 8443],
            }),
            "{context}"
        );
        let workspace = &out["workspace"]["value"];
        assert_eq!(workspace["transition"], "start", "{context}");
        assert_eq!(workspace["start_count"], 1, "{context}");
        assert_eq!(workspace["name"], "default", "{context}");
        assert!(
            is_uuid(workspace["id"].as_str().unwrap_or_default()),
            "{context}"
        );

        dir.with_env(&[
            ("CODER_WORKSPACE_TRANSITION", "stop"),
            ("CODER_WORKSPACE_IS_PREBUILD", "true"),
        ])
        .apply()
        .assert_success();
        let workspace = &dir.output_json()["workspace"]["value"];
        assert_eq!(workspace["transition"], "stop", "{context}");
        assert_eq!(workspace["start_count"], 0, "{context}");
        assert_eq!(workspace["is_prebuild"], true, "{context}");
        assert_eq!(workspace["prebuild_count"], 1, "{context}");
    }
}

#[test]
fn a_real_build_needs_the_template_fields() {
    let template = format!("{HEADER}\ndata \"coder_workspace\" \"me\" {{}}\n");
    for tf in terraform_versions() {
        let mut dir = TfDir::new(&tf, &template);
        dir.set_env(
            "CODER_WORKSPACE_BUILD_ID",
            "5c7c9b0e-3a1d-4f59-9c1e-0d3b7e1f2a44",
        );
        dir.set_env(
            "CODER_WORKSPACE_TEMPLATE_ID",
            "a9d4bb1e-8b76-4d3c-8f3a-6e2e5f0c7d21",
        );
        assert_has(
            &plan_failure(&dir),
            "error",
            "template name is missing: CODER_WORKSPACE_TEMPLATE_NAME is required",
            &tf.to_string(),
        );
    }
}

#[test]
fn hidden_app_warns_at_apply() {
    let template = format!(
        "{HEADER}{}",
        r#"
resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"
}

resource "coder_app" "hidden" {
  agent_id     = coder_agent.dev.id
  slug         = "hidden"
  display_name = "Hidden"
  icon         = "/icon/code.svg"
  hidden       = true
}
"#
    );
    for tf in terraform_versions() {
        let dir = TfDir::new(&tf, &template);
        dir.init().assert_success();
        let apply = dir
            .run(&["apply", "-auto-approve", "-json", "-no-color"])
            .assert_success();
        let diags = diagnostics(&apply);
        let context = tf.to_string();
        assert_has(
            &diags,
            "warning",
            "`display_name` set when app is hidden",
            &context,
        );
        assert_has(&diags, "warning", "`icon` set when app is hidden", &context);
        dir.assert_no_changes();
    }
}

/// A template as written for the v0.6 provider line in late 2022.
const LATE_2022: &str = r#"
terraform {
  required_providers {
    coder = {
      source  = "coder/coder"
      version = "0.6.5"
    }
  }
}

provider "coder" {
  feature_use_managed_variables = true
}

data "coder_workspace" "me" {}

resource "coder_agent" "main" {
  os                     = "linux"
  arch                   = "amd64"
  dir                    = "$HOME"
  login_before_ready     = false
  startup_script_timeout = 180
  startup_script         = "code-server --auth none >/tmp/code-server.log 2>&1 &"
}

resource "coder_app" "code_server" {
  agent_id      = coder_agent.main.id
  slug          = "code-server"
  name          = "VS Code"
  url           = "http://localhost:13337/?folder=/home/${data.coder_workspace.me.owner}"
  icon          = "/icon/code.svg"
  relative_path = true

  healthcheck {
    url       = "http://localhost:13337/healthz"
    interval  = 3
    threshold = 10
  }
}

resource "terraform_data" "workspace" {
  count = data.coder_workspace.me.start_count
  input = {
    name  = "coder-${data.coder_workspace.me.owner}-${data.coder_workspace.me.name}"
    token = coder_agent.main.token
  }
}

output "owner" {
  value = {
    owner        = data.coder_workspace.me.owner
    owner_email  = data.coder_workspace.me.owner_email
    owner_id     = data.coder_workspace.me.owner_id
    owner_name   = data.coder_workspace.me.owner_name
    owner_groups = data.coder_workspace.me.owner_groups
  }
}

output "startup_script_behavior" {
  value = coder_agent.main.startup_script_behavior
}
"#;

#[test]
fn late_2022_template_plans_applies_and_warns() {
    for tf in terraform_versions() {
        let context = tf.to_string();
        let mut dir = TfDir::new(&tf, LATE_2022);
        for (k, v) in [
            ("CODER_WORKSPACE_OWNER", "alice"),
            ("CODER_WORKSPACE_OWNER_EMAIL", "alice@example.com"),
            (
                "CODER_WORKSPACE_OWNER_ID",
                "0d2b3c4e-1111-4222-8333-444455556666",
            ),
            ("CODER_WORKSPACE_OWNER_NAME", "Alice Liddell"),
            ("CODER_WORKSPACE_OWNER_GROUPS", r#"["devs"]"#),
            ("CODER_WORKSPACE_NAME", "dev"),
        ] {
            dir.set_env(k, v);
        }
        let diags = validate(&dir);
        assert!(
            diags.iter().all(|d| d.severity == "warning"),
            "{context}: {diags:#?}"
        );
        // Terraform itself warns where the template reads an owner attribute (they are marked
        // deprecated in the schema): 1.11 with a generic text naming the attribute, newer
        // versions ("Deprecated value used") with our message naming the replacement.
        assert!(
            diags.iter().any(|d| (d.summary == "Deprecated attribute"
                && d.detail.contains("\"owner\""))
                || (d.summary == "Deprecated value used"
                    && d.detail.contains("data.coder_workspace_owner.name"))),
            "{context}: no warning for reading data.coder_workspace.me.owner\n{diags:#?}"
        );
        let deprecated_arguments = diags
            .iter()
            .filter(|d| d.summary == "Argument is deprecated")
            .count();
        assert_eq!(deprecated_arguments, 6, "{context}: {diags:#?}");

        dir.apply().assert_success();
        let out = dir.output_json();
        assert_eq!(
            out["owner"]["value"],
            serde_json::json!({
                "owner": "alice",
                "owner_email": "alice@example.com",
                "owner_id": "0d2b3c4e-1111-4222-8333-444455556666",
                "owner_name": "Alice Liddell",
                "owner_groups": ["devs"],
            }),
            "{context}"
        );
        assert_eq!(
            out["startup_script_behavior"]["value"], "blocking",
            "{context}"
        );
        dir.assert_no_changes();
    }
}
