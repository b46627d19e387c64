//! Cancelling a running request over gRPC: Terraform gets SIGINT, the request still answers
//! with its Complete, an interrupted apply returns the state Terraform wrote, and a Terraform
//! that ignores the interrupt is killed after the exit timeout.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use coder_proto::provisioner::{
    request, ApplyRequest, CancelRequest, InitRequest, PlanRequest, WorkspaceTransition,
};
use integration_tests::provisioner::{
    metadata, state_instances, tar_of, ProvisionerServer, ServerOptions,
};
use integration_tests::{terraform_versions, Terraform};

/// Planning this takes seconds (thousands of instances), long enough to interrupt.
const SLOW_PLAN: &str = r#"
resource "terraform_data" "many" {
  count = 5000
  input = count.index
}
"#;

/// `first` is created at once; `sleepy` then runs a provisioner for a minute.
const SLOW_APPLY: &str = r#"
resource "terraform_data" "first" {}

resource "terraform_data" "sleepy" {
  depends_on = [terraform_data.first]
  provisioner "local-exec" {
    command = "echo sleeping; sleep 60"
  }
}
"#;

fn server(tf: &Terraform) -> ProvisionerServer {
    ProvisionerServer::start_with(
        tf,
        ServerOptions {
            without_provider: true,
            ..Default::default()
        },
    )
}

fn init(main_tf: &str) -> request::Type {
    request::Type::Init(InitRequest {
        template_source_archive: tar_of(&[("main.tf", main_tf)]),
        omit_module_files: true,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_during_plan() {
    for tf in terraform_versions() {
        let server = server(&tf);
        let mut session = server.session("").await;
        session.request(init(SLOW_PLAN)).await.assert_ok();
        session.send(request::Type::Plan(PlanRequest {
            metadata: Some(metadata(WorkspaceTransition::Start, "dev", "alice")),
            ..Default::default()
        }));
        let mut cancelled_at = None;
        // Terraform's first own line is its version; from then on it is planning.
        let plan = session
            .collect(|log, s| {
                if log.output.starts_with("Terraform ") {
                    s.send(request::Type::Cancel(CancelRequest {}));
                    cancelled_at = Some(Instant::now());
                    return true;
                }
                false
            })
            .await;
        let cancelled_at = cancelled_at
            .unwrap_or_else(|| panic!("{tf}: plan never started:\n{}", plan.log_text()));
        assert!(
            plan.error().starts_with("terraform plan: "),
            "{tf}: the cancelled plan answers with an error: {:?}\n{}",
            plan.error(),
            plan.log_text()
        );
        assert!(
            cancelled_at.elapsed() < Duration::from_secs(60),
            "{tf}: took {:?} to stop",
            cancelled_at.elapsed()
        );
        assert!(
            plan.log_text().contains("Interrupt received")
                || plan.log_text().contains("Stopping operation"),
            "{tf}: terraform saw an interrupt, not a kill:\n{}",
            plan.log_text()
        );
        // The session goes on.
        let again = session
            .request(request::Type::Parse(Default::default()))
            .await;
        assert!(again.error().is_empty(), "{tf}: {}", again.error());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_during_apply_returns_the_state() {
    for tf in terraform_versions() {
        let server = server(&tf);
        let mut session = server.session("").await;
        session.request(init(SLOW_APPLY)).await.assert_ok();
        let meta = metadata(WorkspaceTransition::Start, "dev", "alice");
        session
            .request(request::Type::Plan(PlanRequest {
                metadata: Some(meta.clone()),
                ..Default::default()
            }))
            .await
            .assert_ok();
        session.send(request::Type::Apply(ApplyRequest {
            metadata: Some(meta),
            state: Vec::new(),
        }));
        let mut cancelled_at = None;
        let apply = session
            .collect(|log, s| {
                if log.output.contains("(local-exec): sleeping") {
                    s.send(request::Type::Cancel(CancelRequest {}));
                    cancelled_at = Some(Instant::now());
                    return true;
                }
                false
            })
            .await;
        let cancelled_at = cancelled_at
            .unwrap_or_else(|| panic!("{tf}: provisioner never ran:\n{}", apply.log_text()));
        assert!(
            cancelled_at.elapsed() < Duration::from_secs(30),
            "{tf}: took {:?} to stop",
            cancelled_at.elapsed()
        );
        assert!(
            apply.error().starts_with("terraform apply: exit status 1"),
            "{tf}: {:?}\n{}",
            apply.error(),
            apply.log_text()
        );
        let state = apply.apply().state.clone();
        let instances: Vec<String> = state_instances(&state)
            .into_iter()
            .map(|(a, _)| a)
            .collect();
        assert!(
            instances.contains(&"terraform_data.first".to_string()),
            "{tf}: the state holds what was created before the cancel: {instances:?}"
        );

        // That state is what lets the next build clean up.
        let mut cleanup = server.session("").await;
        cleanup.request(init(SLOW_APPLY)).await.assert_ok();
        let meta = metadata(WorkspaceTransition::Destroy, "dev", "alice");
        cleanup
            .request(request::Type::Plan(PlanRequest {
                metadata: Some(meta.clone()),
                state: state.clone(),
                ..Default::default()
            }))
            .await
            .assert_ok();
        let destroyed = cleanup
            .request(request::Type::Apply(ApplyRequest {
                metadata: Some(meta),
                state,
            }))
            .await
            .assert_ok();
        assert!(
            state_instances(&destroyed.apply().state).is_empty(),
            "{tf}: destroy removed everything"
        );
    }
}

/// A stand-in for Terraform that ignores SIGINT while "planning", like upstream's
/// fake_cancel_hang.sh: only SIGKILL stops it.
const HANGING_TERRAFORM: &str = r#"#!/bin/sh
case "$1" in
  version) echo '{"terraform_version":"1.11.4","platform":"linux_amd64"}' ;;
  init) echo '{"@level":"info","@message":"init done","type":"log"}' ;;
  plan)
    trap 'echo "{\"@level\":\"info\",\"@message\":\"ignoring interrupt\"}"' INT
    echo '{"@level":"info","@message":"plan_start","type":"log"}'
    i=0
    while [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
    ;;
esac
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terraform_that_ignores_the_interrupt_is_killed_after_the_exit_timeout() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let fake_path = scratch.path().join("terraform");
    std::fs::write(&fake_path, HANGING_TERRAFORM).expect("write fake terraform");
    std::fs::set_permissions(&fake_path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let fake = Terraform {
        path: fake_path,
        version: "1.11.4".into(),
        origin: "PATH",
    };
    let server = ProvisionerServer::start_with(
        &fake,
        ServerOptions {
            without_provider: true,
            args: vec!["--exit-timeout", "2s"],
            ..Default::default()
        },
    );
    let mut session = server.session("").await;
    session
        .request(init("# the fake ignores this"))
        .await
        .assert_ok();
    session.send(request::Type::Plan(PlanRequest::default()));
    let mut cancelled_at = None;
    let plan = session
        .collect(|log, s| {
            if log.output == "plan_start" {
                s.send(request::Type::Cancel(CancelRequest {}));
                cancelled_at = Some(Instant::now());
                return true;
            }
            false
        })
        .await;
    let elapsed = cancelled_at.map(|t| t.elapsed()).unwrap_or_default();
    assert_eq!(
        plan.error(),
        "terraform plan: signal: killed",
        "{}",
        plan.log_text()
    );
    assert!(
        plan.log_text().contains("ignoring interrupt"),
        "SIGINT came first:\n{}",
        plan.log_text()
    );
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(30),
        "killed {elapsed:?} after the cancel (exit timeout 2s)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_shutdown_cancels_running_builds_and_answers_them() {
    let tf = &terraform_versions()[0];
    let server = server(tf);
    let mut session = server.session("").await;
    session.request(init(SLOW_APPLY)).await.assert_ok();
    session
        .request(request::Type::Plan(PlanRequest::default()))
        .await
        .assert_ok();
    session.send(request::Type::Apply(ApplyRequest::default()));
    let pid = server.pid().to_string();
    let apply = session
        .collect(|log, _| {
            if log.output.contains("(local-exec): sleeping") {
                // SIGTERM, as a service manager stops the server.
                let status = std::process::Command::new("kill")
                    .args(["-TERM", &pid])
                    .status()
                    .expect("kill");
                assert!(status.success());
                return true;
            }
            false
        })
        .await;
    assert!(
        apply.error().starts_with("terraform apply: "),
        "{:?}\n{}",
        apply.error(),
        apply.log_text()
    );
    let instances: Vec<String> = state_instances(&apply.apply().state)
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert!(
        instances.contains(&"terraform_data.first".to_string()),
        "{instances:?}"
    );
    // The stream then ends cleanly and the server exits.
    let rest = session.next().await;
    assert!(matches!(rest, Ok(None)), "{rest:?}");
}
