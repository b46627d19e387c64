//! Faults around a build, over the real gRPC API with real Terraform: Terraform SIGKILLed in
//! the middle of an apply, the client going away mid-build, Cancel racing the end of a request,
//! and a corrupt state in the request. (Cancelling a running request is in
//! provisioner_cancel.rs.)

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use coder_proto::provisioner::{
    request, response, ApplyRequest, CancelRequest, Config, GraphRequest, GraphSource, InitRequest,
    ParseRequest, PlanRequest, Request, Response, VariableValue, WorkspaceTransition,
};
use integration_tests::provisioner::{
    metadata, state_instances, tar_of, wait_until, ProvisionerServer, ServerOptions,
};
use integration_tests::{terraform_versions, Terraform};
use tokio::sync::mpsc::UnboundedSender;
use tokio_stream::wrappers::UnboundedReceiverStream;

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

const SMALL: &str = r#"resource "terraform_data" "a" {}"#;

fn server(tf: &Terraform, args: Vec<&str>) -> ProvisionerServer {
    ProvisionerServer::start_with(
        tf,
        ServerOptions {
            without_provider: true,
            args,
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

fn plan(transition: WorkspaceTransition, state: Vec<u8>) -> request::Type {
    request::Type::Plan(PlanRequest {
        metadata: Some(metadata(transition, "dev", "alice")),
        state,
        ..Default::default()
    })
}

fn apply(transition: WorkspaceTransition, state: Vec<u8>) -> request::Type {
    request::Type::Apply(ApplyRequest {
        metadata: Some(metadata(transition, "dev", "alice")),
        state,
    })
}

fn addresses(state: &[u8]) -> Vec<String> {
    state_instances(state).into_iter().map(|(a, _)| a).collect()
}

/// `(pid, command name, command line)` of every live process below `root`.
fn descendants(root: u32) -> Vec<(u32, String, String)> {
    let mut parent_of = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_string();
        let mut rest = stat[close + 1..].split_whitespace();
        let state = rest.next().unwrap_or("");
        let ppid = rest.next().and_then(|p| p.parse::<u32>().ok()).unwrap_or(0);
        if state == "Z" || state == "X" {
            continue;
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        parent_of.push((pid, ppid, comm, cmdline));
    }
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for (pid, ppid, comm, cmdline) in &parent_of {
            if *ppid == parent {
                found.push((*pid, comm.clone(), cmdline.trim().to_string()));
                frontier.push(*pid);
            }
        }
    }
    found
}

/// `pid` is a live process (not a zombie waiting to be reaped).
fn is_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        })
        .unwrap_or(false)
}

fn kill(signal: &str, pid: u32) {
    let status = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} {pid} failed");
}

// ---------------------------------------------------------------------------------------------
// a. Terraform SIGKILLed during apply
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terraform_killed_during_apply_answers_with_the_state_it_wrote() {
    for tf in terraform_versions() {
        let server = server(&tf, Vec::new());
        let mut session = server.session("").await;
        session.request(init(SLOW_APPLY)).await.assert_ok();
        session
            .request(plan(WorkspaceTransition::Start, Vec::new()))
            .await
            .assert_ok();
        session.send(apply(WorkspaceTransition::Start, Vec::new()));
        let server_pid = server.pid();
        let mut killed = None;
        let mut running_then = Vec::new();
        let outcome = session
            .collect(|log, _| {
                if !log.output.contains("(local-exec): sleeping") {
                    return false;
                }
                // The apply is sleeping in its provisioner: kill Terraform itself, as an OOM
                // killer would, with no chance to write anything more.
                let procs = descendants(server_pid);
                let terraform = procs
                    .iter()
                    .find(|(_, comm, cmdline)| comm == "terraform" && cmdline.contains(" apply "))
                    .unwrap_or_else(|| panic!("no terraform apply below the server: {procs:?}"));
                kill("-KILL", terraform.0);
                killed = Some(Instant::now());
                running_then = procs;
                true
            })
            .await;
        let killed = killed.unwrap_or_else(|| panic!("{tf}: never slept:\n{}", outcome.log_text()));
        let answered_after = killed.elapsed();
        assert_eq!(
            outcome.error(),
            "terraform apply: signal: killed",
            "{tf}:\n{}",
            outcome.log_text()
        );
        assert!(
            answered_after < Duration::from_secs(10),
            "{tf}: answered {answered_after:?} after the kill"
        );
        // What Terraform wrote before it died: `first`, not the unfinished `sleepy`.
        let state = outcome.apply().state.clone();
        assert_eq!(
            addresses(&state),
            vec!["terraform_data.first"],
            "{tf}: {}",
            String::from_utf8_lossy(&state)
        );
        // Nothing it started lives on: the provisioner's `sleep 60`, orphaned by the kill
        // (and so no longer below the server), was in Terraform's process group.
        assert!(
            running_then
                .iter()
                .any(|(_, _, cmdline)| cmdline.contains("sleep 60")),
            "{tf}: {running_then:?}"
        );
        let alive = || -> Vec<(u32, String, String)> {
            running_then
                .iter()
                .filter(|(pid, _, _)| is_alive(*pid))
                .cloned()
                .collect()
        };
        assert!(
            wait_until(Duration::from_secs(5), || alive().is_empty()),
            "{tf}: left running: {:?}",
            alive()
        );
        // The state is usable: the same session destroys what it records.
        session
            .request(plan(WorkspaceTransition::Destroy, state.clone()))
            .await
            .assert_ok();
        let destroyed = session
            .request(apply(WorkspaceTransition::Destroy, state))
            .await
            .assert_ok();
        assert!(addresses(&destroyed.apply().state).is_empty(), "{tf}");
        eprintln!(
            "[faults] {tf}: SIGKILL during apply answered after {:.0} ms with the state of 1 \
             resource",
            answered_after.as_secs_f64() * 1000.0
        );
    }
}

// ---------------------------------------------------------------------------------------------
// b. The client goes away mid-build
// ---------------------------------------------------------------------------------------------

/// Stands in for Terraform: runs the real one for everything, but for `apply` it sits in
/// between and ignores the SIGINT the provisioner sends to it, so only the kill after the exit
/// timeout (which goes to the whole process group) ends the apply.
fn interrupt_ignoring_wrapper(dir: &Path, real: &Path) -> Terraform {
    let script = format!(
        r#"#!/bin/sh
if [ "$1" != apply ]; then exec "{real}" "$@"; fi
"{real}" "$@" &
child=$!
trap 'echo "{{\"@level\":\"info\",\"@message\":\"wrapper ignoring interrupt\"}}"' INT
while :; do
  wait $child
  status=$?
  kill -0 $child 2>/dev/null || exit $status
done
"#,
        real = real.display()
    );
    let path = dir.join("terraform");
    std::fs::write(&path, script).expect("write wrapper");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    Terraform {
        path,
        version: "wrapped".into(),
        origin: "test",
    }
}

/// What ran below the server when the client left.
type Processes = Vec<(u32, String, String)>;

/// Starts a sleeping apply, then drops the whole stream (requests and responses) as a client
/// that crashed or lost its connection does. Returns when, and what was running then.
async fn drop_client_during_apply(server: &ProvisionerServer) -> (Instant, Processes) {
    let mut session = server.session("").await;
    session.request(init(SLOW_APPLY)).await.assert_ok();
    session
        .request(plan(WorkspaceTransition::Start, Vec::new()))
        .await
        .assert_ok();
    session.send(apply(WorkspaceTransition::Start, Vec::new()));
    loop {
        match session.next().await {
            Ok(Some(Response {
                r#type: Some(response::Type::Log(log)),
            })) if log.output.contains("(local-exec): sleeping") => break,
            Ok(Some(Response {
                r#type: Some(response::Type::Log(_)),
            })) => continue,
            other => panic!("the apply ended before it slept: {other:?}"),
        }
    }
    let running = descendants(server.pid());
    assert!(
        running.iter().any(|(_, comm, _)| comm == "terraform")
            && running.iter().any(|(_, _, cmd)| cmd.contains("sleep 60")),
        "terraform and its provisioner are running: {running:?}"
    );
    drop(session);
    (Instant::now(), running)
}

/// After a client went away: Terraform and everything it started are gone (also what an
/// interrupted provisioner orphaned), the session directory is removed, and the server serves
/// a new session.
async fn assert_cleaned_up_and_serving(
    tf: &str,
    server: &ProvisionerServer,
    running: &Processes,
    limit: Duration,
) {
    let dropped = Instant::now();
    let alive = || -> Processes {
        running
            .iter()
            .filter(|(pid, _, _)| is_alive(*pid))
            .cloned()
            .collect()
    };
    assert!(
        wait_until(limit, || alive().is_empty()),
        "{tf}: still running {limit:?} after the client left: {:?}\n{}",
        alive(),
        server.stderr_text()
    );
    assert!(
        wait_until(Duration::from_secs(10), || server.session_dirs().is_empty()),
        "{tf}: session directories left: {:?}",
        server.session_dirs()
    );
    eprintln!(
        "[faults] {tf}: cleaned up {:.1} s after the client left",
        dropped.elapsed().as_secs_f64()
    );
    let mut next = server.session("").await;
    next.request(init(SMALL)).await.assert_ok();
    let planned = next
        .request(plan(WorkspaceTransition::Start, Vec::new()))
        .await
        .assert_ok();
    assert!(!planned.plan().plan.is_empty(), "{tf}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_gone_mid_apply_interrupts_terraform_and_cleans_up() {
    for tf in terraform_versions() {
        let server = server(&tf, Vec::new());
        let (dropped, running) = drop_client_during_apply(&server).await;
        // Terraform stops on the interrupt, well before the (default, 5 minute) exit timeout,
        // and long before the provisioner's `sleep 60` would end by itself.
        assert_cleaned_up_and_serving(&tf.to_string(), &server, &running, Duration::from_secs(20))
            .await;
        let stopped = dropped.elapsed();
        let log = server.stderr_text();
        assert!(log.contains("interrupting terraform"), "{tf}: {log}");
        assert!(!log.contains("killing it"), "{tf}: {log}");
        eprintln!(
            "[faults] {tf}: client dropped mid-apply; terraform interrupted and the session \
             gone within {:.1} s",
            stopped.as_secs_f64()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_gone_mid_apply_kills_a_terraform_that_ignores_the_interrupt() {
    let tf = &terraform_versions()[0];
    let scratch = tempfile::tempdir().expect("tempdir");
    let wrapped = interrupt_ignoring_wrapper(scratch.path(), &tf.path);
    let server = server(&wrapped, vec!["--exit-timeout", "2s"]);
    let (dropped, running) = drop_client_during_apply(&server).await;
    assert_cleaned_up_and_serving(&tf.to_string(), &server, &running, Duration::from_secs(20))
        .await;
    let gone_after = dropped.elapsed();
    let log = server.stderr_text();
    let interrupted = log
        .find("interrupting terraform")
        .unwrap_or_else(|| panic!("no interrupt: {log}"));
    let killed = log
        .find("did not exit after interrupt; killing it")
        .unwrap_or_else(|| panic!("no kill: {log}"));
    assert!(interrupted < killed, "SIGINT first, then the kill:\n{log}");
    assert!(
        gone_after >= Duration::from_secs(2),
        "killed after {gone_after:?}, before the 2 s exit timeout"
    );
    eprintln!(
        "[faults] {tf}: client dropped mid-apply with SIGINT ignored; killed and cleaned up \
         {:.1} s later (exit timeout 2 s)",
        gone_after.as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------
// c. Cancel racing the end of a request
// ---------------------------------------------------------------------------------------------

/// A session on a raw stream whose request sender can be handed to a task, so a Cancel can be
/// sent at a chosen moment while the responses are read.
struct RawSession {
    tx: UnboundedSender<Request>,
    rx: tonic::Streaming<Response>,
}

/// How long a test waits for any one message before calling it a hang.
const HANG: Duration = Duration::from_secs(120);

impl RawSession {
    async fn open(server: &ProvisionerServer) -> RawSession {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let rx = server
            .client()
            .await
            .session(UnboundedReceiverStream::new(rx))
            .await
            .expect("Session call")
            .into_inner();
        let session = RawSession { tx, rx };
        session.send(request::Type::Config(Config::default()));
        session
    }

    fn send(&self, kind: request::Type) {
        self.tx
            .send(Request { r#type: Some(kind) })
            .expect("request stream open");
    }

    /// Sends `kind`, and a Cancel `delay` later from another task; returns the first
    /// non-log message (which must be the request's Complete).
    async fn race(&mut self, kind: request::Type, delay: Duration) -> response::Type {
        self.send(kind);
        let tx = self.tx.clone();
        let cancel = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = tx.send(Request {
                r#type: Some(request::Type::Cancel(CancelRequest {})),
            });
        });
        let complete = self.complete().await;
        cancel.await.expect("cancel task");
        complete
    }

    async fn complete(&mut self) -> response::Type {
        loop {
            match tokio::time::timeout(HANG, self.rx.message()).await {
                Err(_) => panic!("no answer for {HANG:?}: the session hangs"),
                Ok(Err(status)) => panic!("protocol error: {status}"),
                Ok(Ok(None)) => panic!("the session ended before the Complete"),
                Ok(Ok(Some(Response {
                    r#type: Some(response::Type::Log(_)),
                }))) => continue,
                Ok(Ok(Some(Response { r#type: Some(t) }))) => return t,
                Ok(Ok(Some(Response { r#type: None }))) => panic!("a response without a type"),
            }
        }
    }
}

fn kind_name(t: &response::Type) -> &'static str {
    match t {
        response::Type::Log(_) => "log",
        response::Type::Parse(_) => "parse",
        response::Type::Init(_) => "init",
        response::Type::Plan(_) => "plan",
        response::Type::Apply(_) => "apply",
        response::Type::Graph(_) => "graph",
        response::Type::DataUpload(_) => "data_upload",
        response::Type::ChunkPiece(_) => "chunk_piece",
    }
}

fn error_of(t: &response::Type) -> &str {
    match t {
        response::Type::Parse(c) => &c.error,
        response::Type::Init(c) => &c.error,
        response::Type::Plan(c) => &c.error,
        response::Type::Graph(c) => &c.error,
        response::Type::Apply(c) => &c.error,
        _ => "",
    }
}

/// Each apply changes `input`, so every build does work.
const COUNTER: &str = r#"
variable "n" {
  type = string
}

resource "terraform_data" "counter" {
  input = var.n
}
"#;

#[derive(Default, Debug)]
struct Tally {
    /// Requests that finished before the cancel took effect.
    finished: usize,
    /// Requests the cancel cut short (their Complete carries an error).
    cancelled: usize,
    /// The longest time one request took, cancel included.
    slowest: Duration,
}

fn counter_plan(n: usize, state: &[u8]) -> request::Type {
    request::Type::Plan(PlanRequest {
        metadata: Some(metadata(WorkspaceTransition::Start, "dev", "alice")),
        variable_values: vec![VariableValue {
            name: "n".into(),
            value: n.to_string(),
            sensitive: false,
        }],
        state: state.to_vec(),
        ..Default::default()
    })
}

/// Sends `req` without a Cancel; its Complete must carry no error.
async fn uncancelled(session: &mut RawSession, req: request::Type) -> (response::Type, Duration) {
    session.send(req);
    let started = Instant::now();
    let done = session.complete().await;
    assert_eq!(error_of(&done), "", "uncancelled {}", kind_name(&done));
    (done, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_racing_the_end_of_requests_gets_exactly_one_complete_each() {
    /// Races per request kind and Terraform version.
    const ROUNDS: usize = 40;
    /// The Cancel goes out at 0 … 1.6 times the request's usual duration: before Terraform
    /// starts, while it runs, right as it finishes and just after.
    const LAST_FRACTION: f64 = 1.6;
    for tf in terraform_versions() {
        let server = server(&tf, Vec::new());
        let mut session = RawSession::open(&server).await;
        let graph = || {
            request::Type::Graph(GraphRequest {
                source: GraphSource::SourcePlan.into(),
            })
        };

        // Usual durations, and a workspace with state to build on.
        let (_, init_usual) = uncancelled(&mut session, init(COUNTER)).await;
        let (_, plan_usual) = uncancelled(&mut session, counter_plan(0, &[])).await;
        let (_, graph_usual) = uncancelled(&mut session, graph()).await;
        let (applied, apply_usual) =
            uncancelled(&mut session, apply(WorkspaceTransition::Start, Vec::new())).await;
        let mut state = match applied {
            response::Type::Apply(a) => a.state,
            other => panic!("{other:?}"),
        };
        let (_, parse_usual) =
            uncancelled(&mut session, request::Type::Parse(ParseRequest {})).await;

        let kinds = ["init", "plan", "graph", "apply", "parse"];
        let usual = [
            init_usual,
            plan_usual,
            graph_usual,
            apply_usual,
            parse_usual,
        ];
        let mut tallies: Vec<Tally> = kinds.iter().map(|_| Tally::default()).collect();
        for (k, kind) in kinds.iter().enumerate() {
            for round in 0..ROUNDS {
                let fraction = LAST_FRACTION * round as f64 / (ROUNDS - 1) as f64;
                let delay = usual[k].mul_f64(fraction);
                let n = k * ROUNDS + round + 1;
                let req = match *kind {
                    "init" => init(COUNTER),
                    "plan" => counter_plan(n, &state),
                    "graph" => graph(),
                    "apply" => {
                        // An apply uses up its plan: plan again first, uncancelled.
                        uncancelled(&mut session, counter_plan(n, &state)).await;
                        apply(WorkspaceTransition::Start, state.clone())
                    }
                    _ => request::Type::Parse(ParseRequest {}),
                };
                let started = Instant::now();
                let done = session.race(req, delay).await;
                let took = started.elapsed();
                assert_eq!(
                    kind_name(&done),
                    *kind,
                    "{tf}: round {round}: the answer to {kind} is not its Complete"
                );
                let tally = &mut tallies[k];
                tally.slowest = tally.slowest.max(took);
                if error_of(&done).is_empty() {
                    tally.finished += 1;
                } else {
                    tally.cancelled += 1;
                }
                if let response::Type::Apply(a) = &done {
                    // A cancelled apply still answers with the state there is.
                    assert!(
                        serde_json::from_slice::<serde_json::Value>(&a.state).is_ok(),
                        "{tf}: round {round}: apply state: {:?}",
                        String::from_utf8_lossy(&a.state)
                    );
                    state = a.state.clone();
                }
            }
            // The next kind needs an initialized directory and a plan: restore them.
            match *kind {
                "init" => {
                    uncancelled(&mut session, init(COUNTER)).await;
                    uncancelled(&mut session, counter_plan(0, &state)).await;
                }
                "plan" => {
                    uncancelled(&mut session, counter_plan(0, &state)).await;
                }
                _ => {}
            }
        }

        // The session is still usable: a full build without a Cancel succeeds.
        uncancelled(&mut session, init(COUNTER)).await;
        uncancelled(&mut session, counter_plan(0, &state)).await;
        uncancelled(&mut session, graph()).await;
        uncancelled(&mut session, apply(WorkspaceTransition::Start, state)).await;
        // And nothing extra is left on the stream: closing the requests ends it cleanly.
        let RawSession { tx, mut rx } = session;
        drop(tx);
        let rest = tokio::time::timeout(HANG, rx.message())
            .await
            .expect("stream end");
        assert!(
            matches!(rest, Ok(None)),
            "{tf}: after the last Complete: {rest:?}"
        );
        for (k, t) in tallies.iter().enumerate() {
            assert_eq!(t.finished + t.cancelled, ROUNDS);
            eprintln!(
                "[faults] {tf}: {} ×{ROUNDS}, Cancel at 0–{LAST_FRACTION}× its usual {:.0} ms: \
                 {} finished, {} cancelled, slowest {:.0} ms",
                kinds[k],
                usual[k].as_secs_f64() * 1000.0,
                t.finished,
                t.cancelled,
                t.slowest.as_secs_f64() * 1000.0
            );
        }
        // The sweep crossed the end of each Terraform request: some were cut short, some not.
        for k in 0..4 {
            assert!(
                tallies[k].finished > 0 && tallies[k].cancelled > 0,
                "{tf}: {}: {:?}",
                kinds[k],
                tallies[k]
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// d. A corrupt state in the request
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_states_are_refused_before_terraform_runs() {
    let tf = &terraform_versions()[0];
    let server = server(tf, Vec::new());
    let mut session = server.session("").await;
    session.request(init(SMALL)).await.assert_ok();
    session
        .request(plan(WorkspaceTransition::Start, Vec::new()))
        .await
        .assert_ok();
    let good = session
        .request(apply(WorkspaceTransition::Start, Vec::new()))
        .await
        .assert_ok()
        .apply()
        .state
        .clone();
    assert_eq!(addresses(&good), vec!["terraform_data.a"]);
    let cut = &good[..good.len() * 2 / 3];
    let edited = |edit: &dyn Fn(&mut serde_json::Value)| -> Vec<u8> {
        let mut json: serde_json::Value = serde_json::from_slice(&good).expect("state JSON");
        edit(&mut json);
        serde_json::to_vec_pretty(&json).expect("serialize")
    };
    let newer = edited(&|j| j["version"] = 5.into());
    let string_version = edited(&|j| j["version"] = "4".into());
    let bad_resources = edited(&|j| {
        let resources = j["resources"].take();
        j["resources"] = serde_json::json!({ "x": resources });
    });

    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        (
            "truncated",
            cut.to_vec(),
            "the state looks truncated".into(),
        ),
        (
            "not JSON",
            b"<html><body>502 Bad Gateway</body></html>\n".to_vec(),
            "it is not valid JSON: expected value at line 1 column 1".into(),
        ),
        (
            "newer format",
            newer,
            "its format version 5 is newer than any this Terraform reads (up to 4)".into(),
        ),
        (
            "version as text",
            string_version,
            "its \"version\" is a string; the state format version must be a positive whole number"
                .into(),
        ),
        (
            "resources of the wrong type",
            bad_resources,
            "\"resources\" is an object; Terraform expects an array".into(),
        ),
        (
            "an array",
            b"[]".to_vec(),
            "its top level is an array, not an object".into(),
        ),
    ];
    for (what, state, says) in &cases {
        let started = Instant::now();
        let refused = session
            .request(plan(WorkspaceTransition::Start, state.clone()))
            .await;
        let error = refused.error();
        assert!(
            error.starts_with(
                "PlanRequest.state is not a state Terraform can read, so Terraform was not run: "
            ) && error.contains(says.as_str()),
            "{what}: {error}"
        );
        // Terraform did not run: it logs nothing, and the answer is immediate.
        assert!(refused.logs.is_empty(), "{what}:\n{}", refused.log_text());
        assert!(refused.plan().plan.is_empty(), "{what}");
        eprintln!(
            "[faults] corrupt state ({what}) refused in {:.1} ms: {error}",
            started.elapsed().as_secs_f64() * 1000.0
        );
    }

    // A destroy with a corrupt state is refused the same way (not taken for "no state").
    let refused = session
        .request(plan(WorkspaceTransition::Destroy, cut.to_vec()))
        .await;
    assert!(
        refused.error().contains("the state looks truncated"),
        "{}",
        refused.error()
    );

    // The corrupt bytes never reached the work directory: a plan with the good state sees
    // the resource as it is (no changes), and the apply checks its state the same way.
    let replanned = session
        .request(plan(WorkspaceTransition::Start, good.clone()))
        .await
        .assert_ok();
    let json: serde_json::Value =
        serde_json::from_slice(&replanned.plan().plan).expect("plan JSON");
    assert_eq!(
        json["resource_changes"][0]["change"]["actions"],
        serde_json::json!(["no-op"]),
        "{json}"
    );
    for (what, state, says) in &cases {
        let refused = session
            .request(apply(WorkspaceTransition::Start, state.clone()))
            .await;
        let error = refused.error();
        assert!(
            error.starts_with(
                "ApplyRequest.state is not a state Terraform can read, so Terraform was not run: "
            ) && error.contains(says.as_str()),
            "{what}: {error}"
        );
        assert!(refused.logs.is_empty(), "{what}:\n{}", refused.log_text());
        // The answer carries the state the plan was made with, never nothing.
        assert_eq!(refused.apply().state, good, "{what}");
    }
    // The plan was kept: the apply goes through once the state is right.
    let applied = session
        .request(apply(WorkspaceTransition::Start, good.clone()))
        .await
        .assert_ok();
    assert_eq!(addresses(&applied.apply().state), vec!["terraform_data.a"]);
}
