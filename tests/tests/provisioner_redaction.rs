//! No secret in any Log of a whole build, even when a template goes out of its way to print
//! one: `nonsensitive()` in a local-exec command (Terraform then shows the command, Go-quoted,
//! and its output), a token written to a file by one resource and printed by another, a
//! `check` block whose warning quotes a secret, a masked rich parameter
//! (`styling = jsonencode({ mask_input = true })`), a variable the template declares
//! sensitive but the request does not mark, a multi-line SSH key printed line by line, and an
//! agent token that only exists once `coder_agent` has been created in this very apply.
//!
//! Every Log of every request (Init, Plan, Graph, Apply, Graph) of three builds — a first
//! start, a start that claims a prebuild with running agent tokens, a destroy — is searched
//! for each secret, in its raw, Go/JSON-quoted and per-line forms. A second test has the
//! provider's own validation errors quote masked parameter values (this build's and the
//! previous build's).

use coder_proto::provisioner::{
    request, ApplyRequest, ExternalAuthProvider, GraphRequest, GraphSource, InitRequest,
    PlanRequest, PrebuiltWorkspaceBuildStage, RichParameterValue, RunningAgentAuthToken,
    VariableValue, WorkspaceTransition,
};
use integration_tests::provisioner::{
    metadata, state_instances, tar_of, Outcome, ProvisionerServer, ServerOptions,
};
use integration_tests::terraform_versions;

const SESSION_TOKEN: &str = "session-token-7d1e9b3a";
const OIDC_TOKEN: &str = "oidc-access-token-2c8f4e6a";
const GITHUB_TOKEN: &str = "gho_external-auth-9a3c5e7b";
/// A quote and a backslash: Terraform shows it escaped (`\"`, `\\`) in commands it prints.
const DB_PASSWORD: &str = "db\"pass\\word-4f1a";
/// Declared `sensitive = true` in the template, sent with `sensitive: false`.
const API_KEY: &str = "api-key-undeclared-5b2d";
/// A masked rich parameter's value, and its value in the previous build.
const ADMIN_PASSWORD: &str = "masked-param-8e3f1c";
const PREVIOUS_ADMIN_PASSWORD: &str = "masked-param-prev-6d0b";
/// The agent token of a running prebuild being claimed.
const RUNNING_AGENT_TOKEN: &str = "running-agent-token-3a7c9e1f";
const SSH_PRIVATE_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACDz8nq2Q1pQXb9l0yH3s8t0lRk1v2mXc2n5cL7r0mU2gAAAAJjv1z5w79c+
-----END OPENSSH PRIVATE KEY-----";

const TEMPLATE: &str = r#"
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

variable "db_password" {
  type      = string
  sensitive = true
}

variable "api_key" {
  type      = string
  sensitive = true
}

variable "scratch" {
  type = string
}

data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}
data "coder_external_auth" "github" {
  id = "github"
}

data "coder_parameter" "admin_password" {
  name    = "admin_password"
  type    = "string"
  mutable = true
  default = "placeholder"
  styling = jsonencode({
    mask_input = true
  })
}

resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}

# Runs on every apply, after the agent exists (it reads the agent's token).
resource "terraform_data" "careless" {
  count            = data.coder_workspace.me.start_count
  triggers_replace = plantimestamp()

  provisioner "local-exec" {
    command = <<-EOT
      echo agent=${nonsensitive(coder_agent.main.token)}
      echo session=${nonsensitive(data.coder_workspace_owner.me.session_token)}
      echo oidc=${nonsensitive(data.coder_workspace_owner.me.oidc_access_token)}
      echo github=${nonsensitive(data.coder_external_auth.github.access_token)}
      printf 'password=%s\n' '${nonsensitive(var.db_password)}'
      echo api=${nonsensitive(var.api_key)}
      echo param=${data.coder_parameter.admin_password.value}
      printf '%s\n' '${nonsensitive(data.coder_workspace_owner.me.ssh_private_key)}'
    EOT
  }
}

# Writes the token where Terraform cannot see it (its own output is hidden: the command's
# environment is sensitive) ...
resource "terraform_data" "stash" {
  count            = data.coder_workspace.me.start_count
  triggers_replace = plantimestamp()

  provisioner "local-exec" {
    command = "printf '%s' \"$T\" > ${var.scratch}/token-${data.coder_workspace.me.transition}"
    environment = {
      T = coder_agent.main.token
    }
  }
}

# ... and another resource prints it: nothing in its configuration is sensitive.
resource "terraform_data" "reveal" {
  count            = data.coder_workspace.me.start_count
  triggers_replace = plantimestamp()
  depends_on       = [terraform_data.stash]

  provisioner "local-exec" {
    command = "echo stashed=$(cat ${var.scratch}/token-${data.coder_workspace.me.transition})"
  }
}

# A warning diagnostic (the build goes on) whose text quotes secrets.
check "quoting" {
  assert {
    condition     = data.coder_workspace.me.start_count < 0
    error_message = "password is ${nonsensitive(var.db_password)}, param is ${data.coder_parameter.admin_password.value}, session is ${nonsensitive(data.coder_workspace_owner.me.session_token)}"
  }
}
"#;

/// The forms a secret can take in a log: as is, quoted the way Terraform (Go) and JSON quote
/// strings, and each line of a multi-line one.
fn forms(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_string()];
    let quoted = serde_json::to_string(secret).expect("quote");
    out.push(quoted[1..quoted.len() - 1].to_string());
    for line in secret.lines() {
        let line = line.trim();
        if line.len() >= 8 && !line.starts_with("-----") {
            out.push(line.to_string());
        }
    }
    out.sort();
    out.dedup();
    out
}

fn assert_no_secret(outcome: &Outcome, secrets: &[String], what: &str) {
    for log in &outcome.logs {
        for secret in secrets {
            for form in forms(secret) {
                assert!(
                    !log.output.contains(&form),
                    "{what}: a log shows secret {secret:?} as {form:?}:\n{}",
                    log.output
                );
            }
        }
    }
}

fn agent_token(state: &[u8]) -> String {
    state_instances(state)
        .into_iter()
        .find(|(a, _)| a == "coder_agent.main")
        .and_then(|(_, attrs)| attrs["token"].as_str().map(str::to_string))
        .expect("agent token in state")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_any_log_of_whole_builds() {
    for tf in terraform_versions() {
        let server = ProvisionerServer::start_with(&tf, ServerOptions::default());
        let scratch = server.scratch().display().to_string();
        let mut state = Vec::new();
        let mut secrets: Vec<String> = [
            SESSION_TOKEN,
            OIDC_TOKEN,
            GITHUB_TOKEN,
            DB_PASSWORD,
            API_KEY,
            ADMIN_PASSWORD,
            PREVIOUS_ADMIN_PASSWORD,
            RUNNING_AGENT_TOKEN,
            SSH_PRIVATE_KEY,
        ]
        .map(str::to_string)
        .to_vec();

        let builds = [
            ("first start", WorkspaceTransition::Start, false),
            ("prebuild claim", WorkspaceTransition::Start, true),
            ("destroy", WorkspaceTransition::Destroy, false),
        ];
        for (build, transition, claim) in builds {
            let mut outcomes: Vec<(&str, Outcome)> = Vec::new();
            // Debug level: Terraform's own log (TF_LOG=JSON) is streamed too.
            let mut session = server.session("debug").await;
            outcomes.push((
                "init",
                session
                    .request(request::Type::Init(InitRequest {
                        template_source_archive: tar_of(&[("main.tf", TEMPLATE)]),
                        omit_module_files: true,
                    }))
                    .await
                    .assert_ok(),
            ));
            let mut meta = metadata(transition, "dev", "alice");
            meta.workspace_owner_session_token = SESSION_TOKEN.into();
            meta.workspace_owner_oidc_access_token = OIDC_TOKEN.into();
            meta.workspace_owner_ssh_private_key = SSH_PRIVATE_KEY.into();
            if claim {
                meta.prebuilt_workspace_build_stage = PrebuiltWorkspaceBuildStage::Claim.into();
                meta.running_agent_auth_tokens = vec![RunningAgentAuthToken {
                    agent_id: String::new(),
                    token: RUNNING_AGENT_TOKEN.into(),
                }];
            }
            let variable = |name: &str, value: &str, sensitive| VariableValue {
                name: name.into(),
                value: value.into(),
                sensitive,
            };
            outcomes.push((
                "plan",
                session
                    .request(request::Type::Plan(PlanRequest {
                        metadata: Some(meta.clone()),
                        variable_values: vec![
                            variable("db_password", DB_PASSWORD, true),
                            variable("api_key", API_KEY, false),
                            variable("scratch", &scratch, false),
                        ],
                        rich_parameter_values: vec![RichParameterValue {
                            name: "admin_password".into(),
                            value: ADMIN_PASSWORD.into(),
                        }],
                        previous_parameter_values: vec![RichParameterValue {
                            name: "admin_password".into(),
                            value: PREVIOUS_ADMIN_PASSWORD.into(),
                        }],
                        external_auth_providers: vec![ExternalAuthProvider {
                            id: "github".into(),
                            access_token: GITHUB_TOKEN.into(),
                        }],
                        state: state.clone(),
                    }))
                    .await
                    .assert_ok(),
            ));
            outcomes.push((
                "graph (plan)",
                session
                    .request(request::Type::Graph(GraphRequest {
                        source: GraphSource::SourcePlan.into(),
                    }))
                    .await
                    .assert_ok(),
            ));
            let apply = session
                .request(request::Type::Apply(ApplyRequest {
                    metadata: Some(meta),
                    state: state.clone(),
                }))
                .await
                .assert_ok();
            state = apply.apply().state.clone();
            outcomes.push(("apply", apply));
            outcomes.push((
                "graph (state)",
                session
                    .request(request::Type::Graph(GraphRequest {
                        source: GraphSource::SourceState.into(),
                    }))
                    .await
                    .assert_ok(),
            ));

            if transition != WorkspaceTransition::Destroy {
                let token = agent_token(&state);
                if claim {
                    assert_eq!(token, RUNNING_AGENT_TOKEN, "{tf} {build}");
                } else {
                    secrets.push(token);
                }
            }
            for (what, outcome) in &outcomes {
                assert_no_secret(outcome, &secrets, &format!("{tf} {build} {what}"));
            }

            // The leaks were attempted, and masked rather than dropped.
            let apply_text = outcomes
                .iter()
                .find(|(w, _)| *w == "apply")
                .map(|(_, o)| o.log_text())
                .unwrap_or_default();
            let plan_text = outcomes
                .iter()
                .find(|(w, _)| *w == "plan")
                .map(|(_, o)| o.log_text())
                .unwrap_or_default();
            if transition == WorkspaceTransition::Start {
                for shown in [
                    "(local-exec): agent=<redacted>",
                    "(local-exec): session=<redacted>",
                    "(local-exec): oidc=<redacted>",
                    "(local-exec): github=<redacted>",
                    "(local-exec): password=<redacted>",
                    "(local-exec): api=<redacted>",
                    "(local-exec): param=<redacted>",
                    "(local-exec): stashed=<redacted>",
                ] {
                    assert!(
                        apply_text.contains(shown),
                        "{tf} {build}: no {shown:?} in\n{apply_text}"
                    );
                }
            }
            if transition == WorkspaceTransition::Start {
                assert!(
                    plan_text.contains(
                        "password is <redacted>, param is <redacted>, session is <redacted>"
                    ),
                    "{tf} {build}: the check warning is missing:\n{plan_text}"
                );
            }
        }
    }
}

const VALIDATED_TEMPLATE: &str = r#"
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

data "coder_parameter" "secret_word" {
  name    = "secret_word"
  type    = "string"
  mutable = true
  default = "letters"
  styling = "{\"mask_input\": true}"
  validation {
    regex = "^[a-z]+$"
    error = "letters only"
  }
}

data "coder_parameter" "pin" {
  name    = "pin"
  type    = "number"
  mutable = true
  default = 1
  styling = jsonencode({ mask_input = true })
  validation {
    monotonic = "increasing"
  }
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_errors_do_not_show_masked_parameter_values() {
    const WORD: &str = "Bad-Secret-Word-42";
    const PIN: &str = "20240101";
    const PREVIOUS_PIN: &str = "20250101";
    for tf in terraform_versions() {
        let server = ProvisionerServer::start(&tf);
        let param = |name: &str, value: &str| RichParameterValue {
            name: name.into(),
            value: value.into(),
        };
        let cases = [
            (
                vec![param("secret_word", WORD)],
                vec![],
                "letters only (value \"<redacted>\" does not match \"^[a-z]+$\")",
            ),
            (
                vec![param("pin", PIN)],
                vec![param("pin", PREVIOUS_PIN)],
                "parameter value '<redacted>' must be equal or greater than previous value: <redacted>",
            ),
        ];
        for (values, previous, shown) in cases {
            let mut session = server.session("debug").await;
            let init = session
                .request(request::Type::Init(InitRequest {
                    template_source_archive: tar_of(&[("main.tf", VALIDATED_TEMPLATE)]),
                    omit_module_files: true,
                }))
                .await
                .assert_ok();
            let plan = session
                .request(request::Type::Plan(PlanRequest {
                    metadata: Some(metadata(WorkspaceTransition::Start, "dev", "alice")),
                    rich_parameter_values: values,
                    previous_parameter_values: previous,
                    ..Default::default()
                }))
                .await;
            assert!(!plan.error().is_empty(), "{tf}: the plan should fail");
            let secrets = [WORD, PIN, PREVIOUS_PIN].map(str::to_string);
            for outcome in [&init, &plan] {
                assert_no_secret(outcome, &secrets, &format!("{tf} {shown}"));
                for secret in &secrets {
                    assert!(
                        !outcome.error().contains(secret.as_str()),
                        "{tf}: {}",
                        outcome.error()
                    );
                }
            }
            assert!(
                plan.log_text().contains(shown),
                "{tf}: no {shown:?} in\n{}",
                plan.log_text()
            );
        }
    }
}

/// Two apps whose slug is the owner's session token: the conversion's duplicate-slug error
/// quotes the slug, and reaches the client in `GraphComplete.error`, which hides secrets like
/// every Log does.
const SLUG_TEMPLATE: &str = r#"
terraform {
  required_providers {
    coder = { source = "coder/coder" }
  }
}

data "coder_workspace_owner" "me" {}

resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}

resource "terraform_data" "host" {
  input = coder_agent.main.init_script
}

resource "coder_app" "one" {
  agent_id = coder_agent.main.id
  slug     = data.coder_workspace_owner.me.session_token
}

resource "coder_app" "two" {
  agent_id = coder_agent.main.id
  slug     = data.coder_workspace_owner.me.session_token
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complete_errors_do_not_show_secrets() {
    let tf = &terraform_versions()[0];
    let server = ProvisionerServer::start(tf);
    let mut session = server.session("").await;
    session
        .request(request::Type::Init(InitRequest {
            template_source_archive: tar_of(&[("main.tf", SLUG_TEMPLATE)]),
            omit_module_files: true,
        }))
        .await
        .assert_ok();
    let mut meta = metadata(WorkspaceTransition::Start, "dev", "alice");
    meta.workspace_owner_session_token = SESSION_TOKEN.into();
    session
        .request(request::Type::Plan(PlanRequest {
            metadata: Some(meta),
            ..Default::default()
        }))
        .await
        .assert_ok();
    let graph = session
        .request(request::Type::Graph(GraphRequest {
            source: GraphSource::SourcePlan.into(),
        }))
        .await;
    assert_eq!(
        graph.error(),
        r#"duplicate app slug, they must be unique per template: "<redacted>""#,
        "{tf}"
    );
    assert_no_secret(&graph, &[SESSION_TOKEN.to_string()], "graph");
}
