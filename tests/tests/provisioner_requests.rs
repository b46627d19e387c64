//! The provisioner's requests over gRPC with real Terraform: template variables (admin and
//! user) and rich parameters reaching Terraform, failing templates reported in the Complete,
//! and the session rules (Config first, apply after plan, cancel when idle).

use coder_proto::provisioner::{
    request, ApplyRequest, CancelRequest, GraphRequest, GraphSource, InitRequest, ParameterScope,
    ParseRequest, PlanRequest, Request, RichParameterValue, VariableValue, WorkspaceTransition,
};
use integration_tests::provisioner::{
    metadata, state_instances, tar_of, ProvisionerServer, ServerOptions,
};
use integration_tests::terraform_versions;

const VARIABLES_TEMPLATE: &str = r#"
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

# Admin: sensitive, set once for the whole template.
variable "api_token" {
  description = "Token for the internal API"
  type        = string
  sensitive   = true
}

# User: chosen per workspace.
variable "region" {
  description = "Where the workspace runs"
  type        = string
  default     = "eu"
}

data "coder_parameter" "cpu" {
  name         = "cpu"
  display_name = "CPU cores"
  type         = "number"
  default      = "2"
  mutable      = true
  validation {
    min = 1
    max = 8
  }
}

data "coder_parameter" "ide" {
  name    = "ide"
  type    = "string"
  default = "vscode"
  option {
    name  = "VS Code"
    value = "vscode"
  }
  option {
    name  = "JetBrains"
    value = "jetbrains"
  }
}

resource "terraform_data" "workspace" {
  input = {
    cpu       = data.coder_parameter.cpu.value
    ide       = data.coder_parameter.ide.value
    region    = var.region
    token_len = length(var.api_token)
  }
}
"#;

fn init_request(files: &[(&str, &str)]) -> request::Type {
    request::Type::Init(InitRequest {
        template_source_archive: tar_of(files),
        omit_module_files: true,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_and_user_variables_and_rich_parameters() {
    let tf = &terraform_versions()[0];
    let server = ProvisionerServer::start(tf);
    let mut session = server.session("").await;
    session
        .request(init_request(&[
            ("main.tf", VARIABLES_TEMPLATE),
            ("README.md", "# Variables\n"),
        ]))
        .await
        .assert_ok();

    let parse = session
        .request(request::Type::Parse(ParseRequest {}))
        .await
        .assert_ok();
    let vars = &parse.parse().template_variables;
    assert_eq!(vars.len(), 2, "{vars:?}");
    assert_eq!(vars[0].name, "api_token");
    assert_eq!(vars[0].scope(), ParameterScope::Admin);
    assert!(vars[0].required && vars[0].sensitive);
    assert_eq!(vars[1].name, "region");
    assert_eq!(vars[1].scope(), ParameterScope::User);
    assert_eq!(vars[1].default_value, "eu");
    assert!(!vars[1].required);
    assert_eq!(parse.parse().readme, b"# Variables\n");

    let meta = metadata(WorkspaceTransition::Start, "params", "bob");
    session
        .request(request::Type::Plan(PlanRequest {
            metadata: Some(meta.clone()),
            variable_values: vec![
                VariableValue {
                    name: "api_token".into(),
                    value: "abcdefgh".into(),
                    sensitive: true,
                },
                VariableValue {
                    name: "region".into(),
                    value: "us".into(),
                    sensitive: false,
                },
            ],
            rich_parameter_values: vec![
                RichParameterValue {
                    name: "cpu".into(),
                    value: "4".into(),
                },
                RichParameterValue {
                    name: "ide".into(),
                    value: "jetbrains".into(),
                },
            ],
            ..Default::default()
        }))
        .await
        .assert_ok();

    let graph = session
        .request(request::Type::Graph(GraphRequest {
            source: GraphSource::SourcePlan.into(),
        }))
        .await
        .assert_ok();
    let params = &graph.graph().parameters;
    let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["cpu", "ide"]);
    assert_eq!(params[0].display_name, "CPU cores");
    assert_eq!(params[0].default_value, "2", "defaults, not the values");
    assert!(params[0].mutable);
    assert_eq!(params[0].validation_min, Some(1));
    assert_eq!(params[0].validation_max, Some(8));
    assert_eq!(params[1].options.len(), 2);
    assert_eq!(params[1].options[1].value, "jetbrains");

    let apply = session
        .request(request::Type::Apply(ApplyRequest {
            metadata: Some(meta),
            state: Vec::new(),
        }))
        .await
        .assert_ok();
    let state = &apply.apply().state;
    let (_, attrs) = state_instances(state)
        .into_iter()
        .find(|(a, _)| a == "terraform_data.workspace")
        .expect("workspace in state");
    let input = &attrs["input"]["value"];
    assert_eq!(input["cpu"], "4", "rich parameters reach the provider");
    assert_eq!(input["ide"], "jetbrains");
    assert_eq!(input["region"], "us", "user variables reach terraform");
    assert_eq!(input["token_len"], 8, "admin variables reach terraform");
    assert_eq!(apply.apply().parameters.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_required_variable_fails_the_plan() {
    let tf = &terraform_versions()[0];
    let server = ProvisionerServer::start(tf);
    let mut session = server.session("").await;
    session
        .request(init_request(&[("main.tf", VARIABLES_TEMPLATE)]))
        .await
        .assert_ok();
    let plan = session
        .request(request::Type::Plan(PlanRequest {
            metadata: Some(metadata(WorkspaceTransition::Start, "dev", "bob")),
            ..Default::default()
        }))
        .await;
    assert!(
        plan.error().starts_with("terraform plan: exit status 1"),
        "{}",
        plan.error()
    );
    assert!(
        plan.log_text().contains("No value for required variable"),
        "{}",
        plan.log_text()
    );
    // A failed plan cannot be applied...
    let apply = session
        .request(request::Type::Apply(ApplyRequest::default()))
        .await;
    assert_eq!(apply.error(), "cannot apply before successful plan");
    // ...and the session is still usable.
    let parse = session
        .request(request::Type::Parse(ParseRequest {}))
        .await
        .assert_ok();
    assert_eq!(parse.parse().template_variables.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_syntax_fails_init_and_parse() {
    let tf = &terraform_versions()[0];
    let server = ProvisionerServer::start_with(
        tf,
        ServerOptions {
            without_provider: true,
            ..Default::default()
        },
    );
    let mut session = server.session("").await;
    let init = session
        .request(init_request(&[("main.tf", "a;sd;ajsd;lajsd;lasjdf;a")]))
        .await;
    assert!(
        init.error()
            .starts_with("initialize terraform: exit status 1"),
        "{}",
        init.error()
    );
    assert!(
        init.log_text()
            .contains("The \";\" character is not valid."),
        "{}",
        init.log_text()
    );
    let parse = session.request(request::Type::Parse(ParseRequest {})).await;
    assert!(
        parse.error().contains("The \";\" character is not valid."),
        "{}",
        parse.error()
    );
    let plan = session
        .request(request::Type::Plan(PlanRequest::default()))
        .await;
    assert_eq!(plan.error(), "cannot plan before a successful init");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsafe_archives_are_refused_with_the_entry_named() {
    let tf = &terraform_versions()[0];
    let server = ProvisionerServer::start_with(
        tf,
        ServerOptions {
            without_provider: true,
            ..Default::default()
        },
    );
    let mut session = server.session("").await;

    // `tar` refuses to write `..` names, so the header is written by hand.
    let mut header = tar_header("../escape.tf", 1);
    header.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    builder.append(&header, &b"x"[..]).expect("append");
    let escaping = builder.into_inner().expect("finish");
    let init = session
        .request(request::Type::Init(InitRequest {
            template_source_archive: escaping,
            omit_module_files: true,
        }))
        .await;
    assert_eq!(
        init.error(),
        "unpack template: template archive entry \"../escape.tf\": paths with \"..\" are not allowed"
    );
    assert!(!server.work_dir.join("escape.tf").exists());

    let mut builder = tar::Builder::new(Vec::new());
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_size(0);
    builder
        .append_link(&mut link, "main.tf", "/etc/passwd")
        .expect("append");
    let init = session
        .request(request::Type::Init(InitRequest {
            template_source_archive: builder.into_inner().expect("finish"),
            omit_module_files: true,
        }))
        .await;
    assert!(
        init.error()
            .contains("template archive entry \"main.tf\" is a symbolic link"),
        "{}",
        init.error()
    );

    let big = "#".repeat(10 * 1024 * 1024 + 1);
    let init = session
        .request(init_request(&[("big.tf", big.as_str())]))
        .await;
    assert!(
        init.error()
            .contains("template archive entry \"big.tf\" is 10485761 bytes"),
        "{}",
        init.error()
    );

    // After all that, a good archive still works in the same session.
    session
        .request(init_request(&[(
            "main.tf",
            "resource \"terraform_data\" \"a\" {}",
        )]))
        .await
        .assert_ok();
}

fn tar_header(raw_name: &str, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    let name = raw_name.as_bytes();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(size);
    h.set_mode(0o644);
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_protocol_rules() {
    let tf = &terraform_versions()[0];
    let server = ProvisionerServer::start_with(
        tf,
        ServerOptions {
            without_provider: true,
            ..Default::default()
        },
    );

    // The first request must be Config: the call ends with FAILED_PRECONDITION.
    let mut client = server.client().await;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut stream = client
        .session(tokio_stream::wrappers::UnboundedReceiverStream::new(rx))
        .await
        .expect("session")
        .into_inner();
    tx.send(Request {
        r#type: Some(request::Type::Parse(ParseRequest {})),
    })
    .expect("send");
    let status = stream.message().await.expect_err("protocol error");
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    assert_eq!(status.message(), "first request must be Config");

    // A Cancel with nothing running is ignored; Parse before any template says what to do.
    let mut session = server.session("").await;
    session.send(request::Type::Cancel(CancelRequest {}));
    let parse = session.request(request::Type::Parse(ParseRequest {})).await;
    assert!(
        parse.error().contains("send an InitRequest"),
        "{}",
        parse.error()
    );
    let graph = session
        .request(request::Type::Graph(GraphRequest {
            source: GraphSource::SourcePlan.into(),
        }))
        .await;
    assert_eq!(
        graph.error(),
        "cannot graph the plan before a successful plan"
    );

    // Logs below the configured level are not sent.
    let mut quiet = server.session("warn").await;
    let init = quiet
        .request(init_request(&[(
            "main.tf",
            "resource \"terraform_data\" \"a\" {}",
        )]))
        .await
        .assert_ok();
    assert!(
        init.logs
            .iter()
            .all(|l| l.level >= coder_proto::provisioner::LogLevel::Warn as i32),
        "{}",
        init.log_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_over_tcp_and_cleans_up_stale_session_directories() {
    let tf = &terraform_versions()[0];
    // A session directory left by a crashed server (its pid is far above any pid_max), and
    // one of a live process (ours) that must survive.
    let ours = format!("session-{}-live", std::process::id());
    let ours_for_setup = ours.clone();
    let server = ProvisionerServer::start_with(
        tf,
        ServerOptions {
            without_provider: true,
            tcp: true,
            prepare_work_dir: Some(Box::new(move |work: &std::path::Path| {
                let stale = work.join("session-2147483632-crashed");
                std::fs::create_dir_all(stale.join(".terraform")).expect("mkdir");
                std::fs::write(stale.join("terraform.tfstate"), "{}").expect("write");
                std::fs::create_dir_all(work.join(ours_for_setup)).expect("mkdir");
            })),
            ..Default::default()
        },
    );
    let addr = server.tcp_addr.clone().expect("tcp address");
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    assert!(!server.work_dir.join("session-2147483632-crashed").exists());
    assert!(server.work_dir.join(&ours).exists());

    let mut session = server.session("").await;
    session
        .request(init_request(&[(
            "main.tf",
            "resource \"terraform_data\" \"a\" {}",
        )]))
        .await
        .assert_ok();
    let plan = session
        .request(request::Type::Plan(PlanRequest::default()))
        .await
        .assert_ok();
    let json: serde_json::Value =
        serde_json::from_slice(&plan.plan().plan).expect("PlanComplete.plan is plan JSON");
    assert_eq!(
        json["resource_changes"][0]["address"], "terraform_data.a",
        "{json}"
    );
}
