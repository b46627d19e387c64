//! Provider launches under load: start the binary as Terraform does (AutoMTLS), handshake,
//! `GetProviderSchema`, `Shutdown`, wait for the exit; again and again. Afterwards nothing may
//! be left: no provider process, no socket directory or other file in the provider's TMPDIR,
//! no file descriptors held by this test process beyond what it started with.
//!
//! Ignored by default (about a minute for 1,000 launches on a release build):
//!   scripts/load-provider            (release build, 1,000 launches, prints the figures)
//!   CODER_LOAD_LAUNCHES=200 cargo test -p terraform-provider-coder --test load_launches -- --ignored --nocapture

mod hardening_support;

use std::fs;
use std::time::{Duration, Instant};

use coder_proto::plugin::grpc_controller_client::GrpcControllerClient;
use coder_proto::{plugin, tfplugin6};
use hardening_support::{tls_channel, tls_connector, ClientIdentity, Provider, BIN};

fn open_fds() -> usize {
    fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Processes whose parent is this test process and that have not exited, with their command.
fn live_children() -> Vec<String> {
    let me = std::process::id();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let stat = fs::read_to_string(e.path().join("stat")).ok()?;
            // pid (comm) state ppid ...; comm may contain spaces, so split after the last ')'.
            let after = stat.rsplit_once(')')?.1;
            let mut fields = after.split_whitespace();
            let state = fields.next()?;
            let ppid: u32 = fields.next()?.parse().ok()?;
            (ppid == me && state != "Z").then_some(stat)
        })
        .collect()
}

/// Processes anywhere running our provider binary (a leak would outlive its parent).
fn provider_processes() -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let bin = fs::canonicalize(BIN).unwrap_or_else(|_| BIN.into());
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let exe = fs::read_link(e.path().join("exe")).ok()?;
            (exe == bin).then_some(pid)
        })
        .collect()
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn summary(name: &str, mut values: Vec<Duration>) -> String {
    values.sort();
    let total: Duration = values.iter().sum();
    let mean = total / u32::try_from(values.len().max(1)).unwrap_or(1);
    format!(
        "{name}: mean {} ms, p50 {} ms, p95 {} ms, p99 {} ms, max {} ms",
        ms(mean),
        ms(percentile(&values, 0.5)),
        ms(percentile(&values, 0.95)),
        ms(percentile(&values, 0.99)),
        ms(percentile(&values, 1.0)),
    )
}

#[tokio::test]
#[ignore = "load test: scripts/load-provider"]
async fn launches_leave_no_processes_sockets_or_files() {
    let launches: usize = std::env::var("CODER_LOAD_LAUNCHES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let tmpdir = tempfile::tempdir().expect("tempdir");
    // Terraform makes one certificate per provider it starts; making ours is not what is
    // measured, so a handful are made up front and used in turn.
    let identities: Vec<ClientIdentity> =
        (0..8).map(|_| ClientIdentity::terraform_like()).collect();
    let providers_before = provider_processes().len();

    // One launch first, so lazily opened descriptors (runtime, DNS, ...) are not counted as leaks.
    let mut warm_up = Provider::start(Some(&identities[0].pem), Some(tmpdir.path()));
    let channel = tls_channel(
        warm_up.socket(),
        tls_connector(&warm_up.server_cert_der(), Some(&identities[0])),
    )
    .await
    .expect("connect");
    GrpcControllerClient::new(channel)
        .shutdown(plugin::Empty {})
        .await
        .expect("shutdown");
    assert!(warm_up.wait_exit(Duration::from_secs(5)));
    drop(warm_up);
    let fds_before = open_fds();

    let mut to_handshake = Vec::with_capacity(launches);
    let mut to_schema = Vec::with_capacity(launches);
    let mut to_exit = Vec::with_capacity(launches);
    let mut whole = Vec::with_capacity(launches);
    let mut peak_rss_kib = 0u64;
    let started_all = Instant::now();
    for i in 0..launches {
        let identity = &identities[i % identities.len()];
        let started = Instant::now();
        let mut provider = Provider::start(Some(&identity.pem), Some(tmpdir.path()));
        let handshake_at = started.elapsed();
        let socket = provider.socket();
        let socket_dir = socket.parent().expect("socket directory").to_path_buf();
        assert!(
            socket_dir.starts_with(tmpdir.path()),
            "socket {} is not under TMPDIR",
            socket.display()
        );

        let channel = tls_channel(
            socket.clone(),
            tls_connector(&provider.server_cert_der(), Some(identity)),
        )
        .await
        .unwrap_or_else(|e| panic!("launch {i}: connect: {e}"));
        let schema = tfplugin6::provider_client::ProviderClient::new(channel.clone())
            .get_provider_schema(tfplugin6::get_provider_schema::Request {})
            .await
            .unwrap_or_else(|e| panic!("launch {i}: GetProviderSchema: {e}"))
            .into_inner();
        assert!(schema.resource_schemas.contains_key("coder_agent"));
        let schema_at = started.elapsed();
        if let Some(rss) = vm_hwm_kib(provider.child.id()) {
            peak_rss_kib = peak_rss_kib.max(rss);
        }

        GrpcControllerClient::new(channel)
            .shutdown(plugin::Empty {})
            .await
            .unwrap_or_else(|e| panic!("launch {i}: Shutdown: {e}"));
        assert!(
            provider.wait_exit(Duration::from_secs(5)),
            "launch {i}: the provider did not exit within 5 s of Shutdown"
        );
        let exited_at = started.elapsed();
        assert!(
            provider
                .child
                .try_wait()
                .ok()
                .flatten()
                .is_some_and(|s| s.success()),
            "launch {i}: the provider did not exit cleanly"
        );
        assert!(
            !socket_dir.exists(),
            "launch {i}: socket directory {} left behind",
            socket_dir.display()
        );
        drop(provider);

        to_handshake.push(handshake_at);
        to_schema.push(schema_at - handshake_at);
        to_exit.push(exited_at - schema_at);
        whole.push(exited_at);
    }
    let elapsed = started_all.elapsed();

    let leftovers: Vec<_> = fs::read_dir(tmpdir.path())
        .expect("read TMPDIR")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert!(leftovers.is_empty(), "left in TMPDIR: {leftovers:?}");
    let children = live_children();
    assert!(children.is_empty(), "child processes left: {children:?}");
    let providers_after = provider_processes().len();
    assert!(
        providers_after <= providers_before,
        "provider processes before {providers_before}, after {providers_after}"
    );
    // Give the runtime a moment to close connections of the last launch.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let fds_after = open_fds();
    assert!(
        fds_after <= fds_before + 2,
        "file descriptors before {fds_before}, after {fds_after}"
    );

    println!("launches: {launches} in {:.1} s", elapsed.as_secs_f64());
    println!("{}", summary("launch (spawn to exit)", whole));
    println!("{}", summary("spawn to handshake line", to_handshake));
    println!("{}", summary("TLS connect + GetProviderSchema", to_schema));
    println!("{}", summary("Shutdown to exit", to_exit));
    println!("provider peak RSS (VmHWM, max over launches): {peak_rss_kib} KiB");
    println!(
        "leftovers: TMPDIR entries 0, child processes 0, provider processes {providers_before} -> {providers_after}, test fds {fds_before} -> {fds_after}"
    );
}
