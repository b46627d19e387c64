//! The provisioner under load, over its real gRPC API with real Terraform:
//!
//! - 1,000 agents: a template with 1,000 `coder_agent`s, 1,000 `coder_app`s and 1,000
//!   `terraform_data` instances (each using its agent's token and init script) is planned and
//!   graphed (`thousand_agents_plan_and_graph_return_complete`, runs by default), and also
//!   applied and graphed again (`thousand_agents_apply_returns_complete`, ignored: Terraform
//!   takes minutes to apply 3,000 resources). Every Complete must arrive within the gRPC
//!   message limit and hold all 1,000 agents with their apps; the encoded size of each is
//!   printed (the figures behind `server::MAX_MESSAGE_SIZE`).
//! - `concurrent_builds_keep_memory_and_descriptors_flat` (ignored; `scripts/load-provisioner`
//!   runs it with release binaries): `CODER_LOAD_BUILDS` builds (default 200) of a small
//!   template, `CODER_LOAD_CONCURRENCY` sessions at a time (default 8), each a session with
//!   Init, Plan and Apply. The server's RSS and open file descriptors
//!   (`/proc/<pid>/status`, `/proc/<pid>/fd`), its session directories and its child
//!   processes are sampled as builds complete and printed as a table; afterwards no session
//!   directory, child process or extra descriptor may be left, and RSS must not keep growing.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use coder_proto::provisioner::{
    request, ApplyRequest, GraphRequest, GraphSource, InitRequest, PlanRequest, WorkspaceTransition,
};
use integration_tests::provisioner::{
    metadata, tar_of, wait_until, ProvisionerServer, ServerOptions, MAX_MESSAGE_SIZE,
};
use integration_tests::terraform_versions;
use prost::Message;

const AGENTS: usize = 1_000;

/// 1,000 agents, each with an app and a `terraform_data` that receives its token and init
/// script (as a VM would). Distinct resource names: agent names come from them.
fn thousand_agents_template() -> String {
    let mut tf = String::from(
        r#"
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

data "coder_workspace" "me" {}
"#,
    );
    for i in 0..AGENTS {
        tf.push_str(&format!(
            r#"
resource "coder_agent" "dev-{i}" {{
  os             = "linux"
  arch           = "amd64"
  startup_script = "echo agent {i}"
}}

resource "coder_app" "app-{i}" {{
  agent_id     = coder_agent.dev-{i}.id
  slug         = "app-{i}"
  display_name = "App {i}"
  url          = "http://localhost:{port}"
}}

resource "terraform_data" "host-{i}" {{
  count = data.coder_workspace.me.start_count
  input = {{
    token = coder_agent.dev-{i}.token
    init  = coder_agent.dev-{i}.init_script
  }}
}}
"#,
            port = 10_000 + i
        ));
    }
    tf
}

fn mib(bytes: usize) -> String {
    format!("{:.2} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Agents (by name) with their apps' slugs, from a conversion.
fn agents_and_apps(resources: &[coder_proto::provisioner::Resource]) -> BTreeMap<&str, Vec<&str>> {
    resources
        .iter()
        .flat_map(|r| r.agents.iter())
        .map(|a| {
            (
                a.name.as_str(),
                a.apps.iter().map(|app| app.slug.as_str()).collect(),
            )
        })
        .collect()
}

fn assert_all_agents(what: &str, resources: &[coder_proto::provisioner::Resource]) {
    let agents = agents_and_apps(resources);
    assert_eq!(agents.len(), AGENTS, "{what}: agents");
    for i in [0, 1, 499, AGENTS - 1] {
        let name = format!("dev-{i}");
        assert_eq!(
            agents.get(name.as_str()),
            Some(&vec![format!("app-{i}").as_str()]),
            "{what}: agent {name}"
        );
    }
    assert!(
        agents.values().all(|apps| apps.len() == 1),
        "{what}: every agent has its one app"
    );
}

/// Builds the 1,000-agent template through one session: Init, Plan, Graph of the plan and,
/// with `apply`, Apply and Graph of the state. Prints the encoded size of every Complete and
/// checks it is under the message limit and holds every agent with its app.
async fn thousand_agents(apply: bool) {
    let tf = &terraform_versions()[0];
    let server = ProvisionerServer::start(tf);
    // Every level is sent, so Terraform's per-resource progress keeps the stream busy during
    // a long apply; an empty level also leaves Terraform's own trace log (TF_LOG) off, which
    // at this size would double the time.
    let mut session = server.session("").await;
    let template = thousand_agents_template();
    let started = Instant::now();
    let mut sizes: Vec<(&str, usize)> = Vec::new();
    let mut timings: Vec<(&str, f64)> = Vec::new();
    let mut step = Instant::now();
    let mut lap = |what: &'static str, timings: &mut Vec<(&str, f64)>| {
        timings.push((what, step.elapsed().as_secs_f64()));
        step = Instant::now();
    };

    let init = session
        .request(request::Type::Init(InitRequest {
            template_source_archive: tar_of(&[("main.tf", &template)]),
            omit_module_files: true,
        }))
        .await
        .assert_ok();
    lap("init", &mut timings);
    sizes.push(("InitComplete", init.init().encoded_len()));
    let meta = metadata(WorkspaceTransition::Start, "big", "alice");
    let plan = session
        .request(request::Type::Plan(PlanRequest {
            metadata: Some(meta.clone()),
            ..Default::default()
        }))
        .await
        .assert_ok();
    lap("plan", &mut timings);
    sizes.push(("PlanComplete", plan.plan().encoded_len()));
    sizes.push(("  of which plan JSON", plan.plan().plan.len()));
    let plan_graph = session
        .request(request::Type::Graph(GraphRequest {
            source: GraphSource::SourcePlan.into(),
        }))
        .await
        .assert_ok();
    lap("graph (plan)", &mut timings);
    sizes.push(("GraphComplete (plan)", plan_graph.graph().encoded_len()));
    assert_all_agents("plan graph", &plan_graph.graph().resources);

    if apply {
        let applied = session
            .request(request::Type::Apply(ApplyRequest {
                metadata: Some(meta),
                state: Vec::new(),
            }))
            .await
            .assert_ok();
        lap("apply", &mut timings);
        sizes.push(("ApplyComplete", applied.apply().encoded_len()));
        sizes.push(("  of which state", applied.apply().state.len()));
        let state_graph = session
            .request(request::Type::Graph(GraphRequest {
                source: GraphSource::SourceState.into(),
            }))
            .await
            .assert_ok();
        lap("graph (state)", &mut timings);
        sizes.push(("GraphComplete (state)", state_graph.graph().encoded_len()));
        assert_all_agents("apply", &applied.apply().resources);
        assert_all_agents("state graph", &state_graph.graph().resources);

        // Applied: every agent has its token, and the state holds every instance.
        let state: serde_json::Value =
            serde_json::from_slice(&applied.apply().state).expect("state JSON");
        let resources = state["resources"].as_array().expect("resources");
        let count = |ty: &str| {
            resources
                .iter()
                .filter(|r| r["type"] == ty)
                .map(|r| r["instances"].as_array().map_or(0, Vec::len))
                .sum::<usize>()
        };
        assert_eq!(count("coder_agent"), AGENTS);
        assert_eq!(count("coder_app"), AGENTS);
        assert_eq!(count("terraform_data"), AGENTS);
        let tokens = applied
            .apply()
            .resources
            .iter()
            .flat_map(|r| r.agents.iter())
            .filter(|a| {
                matches!(&a.auth, Some(coder_proto::provisioner::agent::Auth::Token(t)) if !t.is_empty())
            })
            .count();
        assert_eq!(tokens, AGENTS, "every applied agent carries its token");
    }

    eprintln!(
        "{AGENTS} agents + apps + terraform_data on terraform {}: {:.1} s in all; template {}",
        tf.version,
        started.elapsed().as_secs_f64(),
        mib(template.len())
    );
    for (what, secs) in &timings {
        eprintln!("  {what:<24} {secs:>8.1} s");
    }
    for (what, size) in sizes {
        eprintln!("  {what:<24} {size:>12} bytes  {:>10}", mib(size));
        assert!(
            size < MAX_MESSAGE_SIZE,
            "{what} is {size} bytes, over the {MAX_MESSAGE_SIZE}-byte message limit"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_agents_plan_and_graph_return_complete() {
    thousand_agents(false).await;
}

/// Terraform's own apply time grows with the square of the resources in the state (1,200
/// bare `terraform_data` take ~40 s to apply here, 3,000 resources ~7 min), so the whole
/// build runs on demand: `scripts/load-provisioner`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long (Terraform applies 3,000 resources): scripts/load-provisioner runs it"]
async fn thousand_agents_apply_returns_complete() {
    thousand_agents(true).await;
}

/// One sample of the server process.
#[derive(Debug, Clone, Copy)]
struct Sample {
    builds: usize,
    rss_kib: u64,
    hwm_kib: u64,
    fds: usize,
    session_dirs: usize,
    children: usize,
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// Processes whose parent is `pid` (Terraform, and the providers it starts are its children).
fn children(pid: u32) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|stat| {
                    // pid (comm) state ppid ...; comm may hold spaces and parentheses.
                    let after = stat.rsplit_once(')')?.1;
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .count()
}

fn sample(server: &ProvisionerServer, builds: usize) -> Sample {
    let pid = server.pid();
    Sample {
        builds,
        rss_kib: status_kib(pid, "VmRSS:"),
        hwm_kib: status_kib(pid, "VmHWM:"),
        fds: fd_count(pid),
        session_dirs: server.session_dirs().len(),
        children: children(pid),
    }
}

const SMALL_TEMPLATE: &str = r#"
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

resource "coder_agent" "main" {
  os             = "linux"
  arch           = "amd64"
  startup_script = "echo hello"
}

resource "coder_app" "web" {
  agent_id = coder_agent.main.id
  slug     = "web"
  url      = "http://localhost:8080"
}

resource "terraform_data" "vm" {
  count = data.coder_workspace.me.start_count
  input = {
    token = coder_agent.main.token
    owner = data.coder_workspace_owner.me.name
  }
}
"#;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One build: a session with Init, Plan and Apply; the session ends when it is dropped.
async fn small_build(server: &ProvisionerServer, n: usize) {
    let mut session = server.session("").await;
    session
        .request(request::Type::Init(InitRequest {
            template_source_archive: tar_of(&[("main.tf", SMALL_TEMPLATE)]),
            omit_module_files: true,
        }))
        .await
        .assert_ok();
    let meta = metadata(WorkspaceTransition::Start, &format!("ws-{n}"), "load");
    session
        .request(request::Type::Plan(PlanRequest {
            metadata: Some(meta.clone()),
            ..Default::default()
        }))
        .await
        .assert_ok();
    let apply = session
        .request(request::Type::Apply(ApplyRequest {
            metadata: Some(meta),
            state: Vec::new(),
        }))
        .await
        .assert_ok();
    assert_eq!(
        apply
            .apply()
            .resources
            .iter()
            .flat_map(|r| r.agents.iter())
            .count(),
        1
    );
}

fn print_samples(samples: &[Sample]) {
    eprintln!(
        "| builds done | RSS (KiB) | peak RSS (KiB) | open fds | session dirs | child processes |"
    );
    eprintln!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    for s in samples {
        eprintln!(
            "| {} | {} | {} | {} | {} | {} |",
            s.builds, s.rss_kib, s.hwm_kib, s.fds, s.session_dirs, s.children
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "long: scripts/load-provisioner runs it"]
async fn concurrent_builds_keep_memory_and_descriptors_flat() {
    let builds = env_number("CODER_LOAD_BUILDS", 200);
    let concurrency = env_number("CODER_LOAD_CONCURRENCY", 8).max(1);
    let tf = &terraform_versions()[0];
    // CODER_LOAD_PLUGIN_CACHE=1 serves with `--plugin-cache-dir`. Every `terraform init` (no
    // lock file, unpacked mirror) unlinks and re-creates the cache entry, so another session's
    // plan or apply resolving its provider link in that moment failed with `could not read
    // package directory` (found by this test) until inits took the cache exclusively.
    let cache = tempfile::tempdir().expect("plugin cache dir");
    let cache_arg = cache.path().display().to_string();
    let mut args = Vec::new();
    if std::env::var("CODER_LOAD_PLUGIN_CACHE").is_ok_and(|v| v == "1") {
        args.extend(["--plugin-cache-dir", cache_arg.as_str()]);
    }
    let server = Arc::new(ProvisionerServer::start_with(
        tf,
        ServerOptions {
            args,
            ..Default::default()
        },
    ));
    let idle_before = sample(&server, 0);
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let samples = Arc::new(std::sync::Mutex::new(vec![idle_before]));
    // Sample every `every` completed builds (and at the end).
    let every = (builds / 20).max(1);

    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (server, next, done, samples) =
            (server.clone(), next.clone(), done.clone(), samples.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= builds {
                    return;
                }
                small_build(&server, n).await;
                let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
                if finished % every == 0 {
                    let s = sample(&server, finished);
                    if let Ok(mut all) = samples.lock() {
                        all.push(s);
                    }
                }
            }
        }));
    }
    for w in workers {
        w.await.expect("a build worker failed");
    }
    let elapsed = started.elapsed();

    // Sessions end after their stream closes; give the server a moment to remove them.
    let settled = wait_until(Duration::from_secs(30), || {
        server.session_dirs().is_empty() && children(server.pid()) == 0
    });
    let idle_after = sample(&server, builds);
    let mut samples = samples.lock().map(|s| s.clone()).unwrap_or_default();
    samples.push(idle_after);

    eprintln!(
        "{builds} builds (Init + Plan + Apply), {concurrency} at a time, terraform {}: {:.1} s, {:.2} builds/s",
        tf.version,
        elapsed.as_secs_f64(),
        builds as f64 / elapsed.as_secs_f64()
    );
    print_samples(&samples);
    eprintln!(
        "idle before: RSS {} KiB, {} fds; idle after: RSS {} KiB, {} fds, {} session dirs, {} children",
        idle_before.rss_kib,
        idle_before.fds,
        idle_after.rss_kib,
        idle_after.fds,
        idle_after.session_dirs,
        idle_after.children
    );

    assert!(
        settled,
        "session directories or processes left: {idle_after:?}"
    );
    assert_eq!(
        idle_after.fds, idle_before.fds,
        "open descriptors after the load differ from before"
    );
    // Flat memory: RSS in the second half of the run stays within a margin of the first
    // half's peak (allocator caches and Terraform's output buffers come and go; a leak per
    // build would grow steadily).
    let busy: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.builds > 0 && s.builds < builds)
        .collect();
    if busy.len() >= 4 {
        let (first, second) = busy.split_at(busy.len() / 2);
        let first_peak = first.iter().map(|s| s.rss_kib).max().unwrap_or(0);
        let second_peak = second.iter().map(|s| s.rss_kib).max().unwrap_or(0);
        eprintln!(
            "RSS peak, first half of the run: {first_peak} KiB; second half: {second_peak} KiB"
        );
        assert!(
            second_peak <= first_peak + first_peak / 4 + 4096,
            "RSS kept growing: {first_peak} KiB → {second_peak} KiB"
        );
    }
}

/// A request over the limit is refused by the server with a clear status (the client here
/// allows twice the limit, so the refusal is the server's), and the server keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_over_the_message_limit_are_refused() {
    use coder_proto::provisioner::provisioner_client::ProvisionerClient;
    use tonic::transport::{Endpoint, Uri};

    let tf = &terraform_versions()[0];
    let server = ProvisionerServer::start_with(
        tf,
        ServerOptions {
            without_provider: true,
            ..Default::default()
        },
    );
    let path = server.socket.clone();
    let channel = Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let path = path.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(path).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
            }
        }))
        .await
        .expect("connect");
    let mut client = ProvisionerClient::new(channel)
        .max_encoding_message_size(2 * MAX_MESSAGE_SIZE)
        .max_decoding_message_size(2 * MAX_MESSAGE_SIZE);

    // Files under the 10 MiB per-file cap, together over the message limit.
    let file = "x".repeat(10 * 1024 * 1024 - 1024);
    let count = MAX_MESSAGE_SIZE / file.len() + 1;
    let names: Vec<String> = (0..count).map(|i| format!("f{i}.txt")).collect();
    let files: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), file.as_str())).collect();
    let archive = tar_of(&files);
    assert!(archive.len() > MAX_MESSAGE_SIZE);

    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut stream = client
        .session(tokio_stream::wrappers::UnboundedReceiverStream::new(rx))
        .await
        .expect("session")
        .into_inner();
    for r#type in [
        request::Type::Config(Default::default()),
        request::Type::Init(InitRequest {
            template_source_archive: archive,
            omit_module_files: true,
        }),
    ] {
        tx.send(coder_proto::provisioner::Request {
            r#type: Some(r#type),
        })
        .expect("send");
    }
    // The call ends without an InitComplete: with the server's status, or (the session ends
    // quietly when its request stream fails) just ended; either way the server says why.
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(120), stream.message()).await {
            Ok(Ok(Some(response))) => {
                assert!(
                    matches!(
                        response.r#type,
                        Some(coder_proto::provisioner::response::Type::Log(_))
                    ),
                    "the oversized request was answered: {response:?}"
                );
            }
            Ok(Ok(None)) => break None,
            Ok(Err(status)) => break Some(status),
            Err(_) => panic!("no answer to the oversized request"),
        }
    };
    let limit = format!("the limit is: {MAX_MESSAGE_SIZE} bytes");
    if let Some(status) = &ended {
        eprintln!(
            "oversized request: {:?}: {}",
            status.code(),
            status.message()
        );
        assert_eq!(status.code(), tonic::Code::OutOfRange, "{status:?}");
        assert!(status.message().contains(&limit), "{status:?}");
    }
    assert!(
        wait_until(Duration::from_secs(10), || server
            .stderr_text()
            .contains(&limit)),
        "the server did not log the refusal:\n{}",
        server.stderr_text()
    );
    let refusal = server
        .stderr_text()
        .lines()
        .find(|l| l.contains(&limit))
        .map(str::to_string)
        .unwrap_or_default();
    eprintln!("server: {refusal}");
    assert!(
        refusal.contains("decoded message length too large"),
        "{refusal}"
    );

    // The server is still there for others.
    let mut session = server.session("").await;
    let parse = session
        .request(request::Type::Parse(Default::default()))
        .await;
    assert!(
        parse.error().contains("send an InitRequest"),
        "{}",
        parse.error()
    );
}
