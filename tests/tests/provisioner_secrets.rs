//! What Terraform sees of the provisioner's environment, and what the logs never show:
//! inherited `CODER_*` variables never reach Terraform (the request's do), `TF_*` ones are
//! announced with their values hidden, and no secret (agent token, sensitive variable,
//! session token, external auth token) appears in any log, even at debug level and even
//! when a template prints it.

use coder_proto::provisioner::{
    request, ApplyRequest, ExternalAuthProvider, InitRequest, PlanRequest, VariableValue,
    WorkspaceTransition,
};
use integration_tests::provisioner::{
    metadata, state_instances, tar_of, Outcome, ProvisionerServer, ServerOptions,
};
use integration_tests::terraform_versions;

const SESSION_TOKEN: &str = "session-token-3f9a7c1e";
const DB_PASSWORD: &str = "db-password-8b2d4e6f";
const GITHUB_TOKEN: &str = "gho_github-token-5c7e9a1b";
const CANARY: &str = "inherited-canary-value-0d2f";
const TF_SECRET: &str = "tf-secret-value-6a4c";

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

variable "dump_dir" {
  type = string
}

data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}
data "coder_external_auth" "github" {
  id = "github"
}

resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}

resource "terraform_data" "workspace" {
  input = {
    token    = coder_agent.main.token
    password = var.db_password
    session  = data.coder_workspace_owner.me.session_token
    github   = data.coder_external_auth.github.access_token
    name     = data.coder_workspace.me.name
  }
}

# Records the environment Terraform (and so every provider and provisioner) runs with.
resource "terraform_data" "env_dump" {
  provisioner "local-exec" {
    command = "env > ${var.dump_dir}/env-${data.coder_workspace.me.transition}.txt"
  }
}

# A careless template: prints secrets it finds in the environment. Terraform cannot know
# these are secret; the provisioner must hide them.
resource "terraform_data" "careless" {
  provisioner "local-exec" {
    command = "echo session=$CODER_WORKSPACE_OWNER_SESSION_TOKEN github=$CODER_EXTERNAL_AUTH_ACCESS_TOKEN_github"
  }
}

# Prints the agent token and a sensitive variable: Terraform hides this output itself.
resource "terraform_data" "sensitive_echo" {
  provisioner "local-exec" {
    command = "echo token=$TOKEN password=$PASSWORD"
    environment = {
      TOKEN    = coder_agent.main.token
      PASSWORD = var.db_password
    }
  }
}
"#;

fn assert_no_secret(outcome: &Outcome, secrets: &[&str], what: &str) {
    for log in &outcome.logs {
        for secret in secrets {
            assert!(
                !log.output.contains(secret),
                "{what}: a log shows a secret: {:?}",
                log.output
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_out_of_logs_and_coder_variables_are_not_inherited() {
    for tf in terraform_versions() {
        let server = ProvisionerServer::start_with(
            &tf,
            ServerOptions {
                env: vec![
                    ("CODER_SECRET_CANARY", CANARY),
                    ("CODER_WORKSPACE_NAME", "from-the-environment"),
                    ("CODER_AGENT_URL", "https://inherited.example.com"),
                    ("VALID_USER_ENV", "passes-through"),
                    ("TF_SUPERSECRET", TF_SECRET),
                    ("TF_LOG", "WARN"),
                ],
                ..Default::default()
            },
        );
        let dump_dir = server.scratch().to_path_buf();
        let mut state = Vec::new();
        let mut agent_tokens = Vec::new();
        for transition in [WorkspaceTransition::Start, WorkspaceTransition::Stop] {
            // Debug level: Terraform's own log (TF_LOG=JSON) is streamed too.
            let mut session = server.session("debug").await;
            let init = session
                .request(request::Type::Init(InitRequest {
                    template_source_archive: tar_of(&[("main.tf", TEMPLATE)]),
                    omit_module_files: true,
                }))
                .await
                .assert_ok();
            let mut meta = metadata(transition, "dev", "alice");
            meta.workspace_owner_session_token = SESSION_TOKEN.into();
            let plan = session
                .request(request::Type::Plan(PlanRequest {
                    metadata: Some(meta.clone()),
                    variable_values: vec![
                        VariableValue {
                            name: "db_password".into(),
                            value: DB_PASSWORD.into(),
                            sensitive: true,
                        },
                        VariableValue {
                            name: "dump_dir".into(),
                            value: dump_dir.display().to_string(),
                            sensitive: false,
                        },
                    ],
                    external_auth_providers: vec![ExternalAuthProvider {
                        id: "github".into(),
                        access_token: GITHUB_TOKEN.into(),
                    }],
                    state: state.clone(),
                    ..Default::default()
                }))
                .await
                .assert_ok();
            let apply = session
                .request(request::Type::Apply(ApplyRequest {
                    metadata: Some(meta),
                    state: state.clone(),
                }))
                .await
                .assert_ok();
            state = apply.apply().state.clone();

            // The values the template consumed are the request's, not the environment's.
            let (_, workspace) = state_instances(&state)
                .into_iter()
                .find(|(a, _)| a == "terraform_data.workspace")
                .expect("workspace in state");
            let input = &workspace["input"]["value"];
            assert_eq!(input["name"], "dev", "{tf}");
            assert_eq!(input["session"], SESSION_TOKEN, "{tf}");
            assert_eq!(input["github"], GITHUB_TOKEN, "{tf}");
            assert_eq!(input["password"], DB_PASSWORD, "{tf}");
            let token = input["token"].as_str().unwrap_or_default().to_string();
            assert!(!token.is_empty(), "{tf}: agent token in state");
            agent_tokens.push(token);

            let mut secrets = vec![SESSION_TOKEN, DB_PASSWORD, GITHUB_TOKEN, CANARY, TF_SECRET];
            secrets.extend(agent_tokens.iter().map(String::as_str));
            for (what, outcome) in [("init", &init), ("plan", &plan), ("apply", &apply)] {
                assert_no_secret(outcome, &secrets, &format!("{tf} {transition:?} {what}"));
            }

            // TF_* variables are announced, values hidden unless they are plain settings.
            assert!(
                plan.log_text()
                    .contains("terraform environment variable: TF_SUPERSECRET=<value redacted>"),
                "{tf}:\n{}",
                plan.log_text()
            );
            assert!(
                plan.log_text()
                    .contains("terraform environment variable: TF_LOG=WARN"),
                "{tf}"
            );
            if transition == WorkspaceTransition::Start {
                // The careless echo ran and was masked, not dropped. (Apply runs without the
                // external auth tokens, as upstream's does: only plan reads data sources.)
                assert!(
                    apply
                        .log_text()
                        .contains("(local-exec): session=<redacted> github="),
                    "{tf}:\n{}",
                    apply.log_text()
                );
            }
        }

        // Environment hygiene, from the dump the template wrote during the first apply.
        let env_text = std::fs::read_to_string(dump_dir.join("env-start.txt"))
            .unwrap_or_else(|e| panic!("{tf}: the template's env dump is missing: {e}"));
        let env: Vec<&str> = env_text.lines().collect();
        assert!(
            !env_text.contains(CANARY),
            "{tf}: an inherited CODER_* variable reached terraform"
        );
        assert!(env.contains(&"CODER_WORKSPACE_NAME=dev"), "{tf}: {env:?}");
        assert!(
            env.contains(&"CODER_AGENT_URL=https://coder.example.com"),
            "{tf}: {env:?}"
        );
        assert!(env.contains(&"CODER_WORKSPACE_TRANSITION=start"), "{tf}");
        assert!(
            env.iter()
                .any(|l| l.starts_with("CODER_AGENT_SCRIPT_linux_amd64=")),
            "{tf}"
        );
        assert!(env.contains(&"VALID_USER_ENV=passes-through"), "{tf}");
        assert!(
            env.iter()
                .filter(|l| l.starts_with("CODER_"))
                .all(|l| !l.contains("from-the-environment") && !l.contains("inherited")),
            "{tf}: {env:?}"
        );
    }
}
