//! Who may open a Session: the real `coder-provisioner serve` over a real TCP socket with TLS,
//! mutual TLS and a pre-shared key, each with a real gRPC client; plain TCP refused at startup
//! unless `--insecure`; the unix socket private (0600).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use coder_proto::provisioner::{request, InitRequest, ParseRequest, PlanRequest};
use integration_tests::provisioner::{
    provisioner_binary, sanitize, tar_of, wait_until, Client, ClientCredentials, ProvisionerServer,
    ServerOptions, Session,
};
use integration_tests::terraform_versions;

const PSK: &str = "k3y-8f2c4a9e1b7d5f3a6c0e";

/// A CA, a server certificate for `localhost` and a client certificate it issued, in PEM.
struct Pki {
    ca_pem: String,
    server_cert: String,
    server_key: String,
    client_cert: String,
    client_key: String,
}

fn ca(name: &str) -> (rcgen::Certificate, rcgen::Issuer<'static, rcgen::KeyPair>) {
    let key = rcgen::KeyPair::generate().expect("CA key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let cert = params.self_signed(&key).expect("CA certificate");
    (cert, rcgen::Issuer::new(params, key))
}

fn leaf(
    names: &[&str],
    usage: rcgen::ExtendedKeyUsagePurpose,
    issuer: &rcgen::Issuer<'_, rcgen::KeyPair>,
) -> (String, String) {
    let key = rcgen::KeyPair::generate().expect("leaf key");
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("leaf params");
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, issuer).expect("leaf certificate");
    (cert.pem(), key.serialize_pem())
}

fn new_pki(name: &str) -> Pki {
    let (ca_cert, issuer) = ca(name);
    let (server_cert, server_key) = leaf(
        &["localhost"],
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        &issuer,
    );
    let (client_cert, client_key) = leaf(
        &["control-plane"],
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        &issuer,
    );
    Pki {
        ca_pem: ca_cert.pem(),
        server_cert,
        server_key,
        client_cert,
        client_key,
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path.display().to_string()
}

/// Opens a session and asks for a Parse (no Terraform needed): Ok when the server answered,
/// Err with the gRPC status or connection error otherwise.
async fn parse_round_trip(client: Result<Client, String>) -> Result<(), String> {
    let mut client = client?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut stream = client
        .session(tokio_stream::wrappers::UnboundedReceiverStream::new(rx))
        .await
        .map_err(|s| format!("{:?}: {}", s.code(), s.message()))?
        .into_inner();
    for r#type in [
        request::Type::Config(Default::default()),
        request::Type::Parse(ParseRequest {}),
    ] {
        tx.send(coder_proto::provisioner::Request {
            r#type: Some(r#type),
        })
        .map_err(|_| "request stream closed".to_string())?;
    }
    match tokio::time::timeout(Duration::from_secs(30), stream.message()).await {
        Ok(Ok(Some(_))) => Ok(()),
        Ok(Ok(None)) => Err("stream ended".to_string()),
        Ok(Err(s)) => Err(format!("{:?}: {}", s.code(), s.message())),
        Err(_) => Err("no answer in 30 s".to_string()),
    }
}

/// A real build step through the session: Init and Plan of a `terraform_data` template.
async fn plan_through(mut session: Session) {
    session
        .request(request::Type::Init(InitRequest {
            template_source_archive: tar_of(&[("main.tf", "resource \"terraform_data\" \"a\" {}")]),
            omit_module_files: true,
        }))
        .await
        .assert_ok();
    let plan = session
        .request(request::Type::Plan(PlanRequest::default()))
        .await
        .assert_ok();
    let json: serde_json::Value = serde_json::from_slice(&plan.plan().plan).expect("plan JSON");
    assert_eq!(json["resource_changes"][0]["address"], "terraform_data.a");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_trusting_clients_and_refuses_the_rest() {
    let tf = &terraform_versions()[0];
    let pki = new_pki("provisioner test CA");
    let files = tempfile::tempdir().expect("tempdir");
    let cert = write(files.path(), "server.pem", &pki.server_cert);
    let key = write(files.path(), "server.key", &pki.server_key);
    let server = ProvisionerServer::start_with(
        tf,
        ServerOptions {
            without_provider: true,
            tcp: true,
            args: vec!["--tls-cert", &cert, "--tls-key", &key],
            client: ClientCredentials {
                tls_ca_pem: Some(pki.ca_pem.clone()),
                ..Default::default()
            },
            ..Default::default()
        },
    );
    assert!(
        server.stderr_text().contains("(TLS; terraform"),
        "{}",
        server.stderr_text()
    );
    plan_through(server.session("").await).await;

    // Plaintext gRPC to the TLS port gets no answer.
    let plain = parse_round_trip(server.client_with(&ClientCredentials::default()).await).await;
    assert!(plain.is_err(), "a plaintext client was served");
    // A client trusting another CA does not accept the server.
    let other = new_pki("someone else's CA");
    let err = parse_round_trip(
        server
            .client_with(&ClientCredentials {
                tls_ca_pem: Some(other.ca_pem),
                ..Default::default()
            })
            .await,
    )
    .await
    .expect_err("a client trusting another CA connected");
    assert!(err.contains("UnknownIssuer"), "{err}");
    // The server keeps serving after the failed handshakes.
    parse_round_trip(server.client_with(&server.credentials).await)
        .await
        .expect("the trusting client is still served");
    wait_until(Duration::from_secs(10), || {
        server.stderr_text().contains("TLS handshake failed")
    });
    let log = server.stderr_text();
    assert!(log.contains("TLS handshake failed"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_requires_a_client_certificate_from_the_ca() {
    let tf = &terraform_versions()[0];
    let pki = new_pki("provisioner test CA");
    let files = tempfile::tempdir().expect("tempdir");
    let cert = write(files.path(), "server.pem", &pki.server_cert);
    let key = write(files.path(), "server.key", &pki.server_key);
    let client_ca = write(files.path(), "clients.pem", &pki.ca_pem);
    let good = ClientCredentials {
        tls_ca_pem: Some(pki.ca_pem.clone()),
        tls_identity: Some((pki.client_cert.clone(), pki.client_key.clone())),
        ..Default::default()
    };
    let server = ProvisionerServer::start_with(
        tf,
        ServerOptions {
            without_provider: true,
            tcp: true,
            args: vec![
                "--tls-cert",
                &cert,
                "--tls-key",
                &key,
                "--tls-client-ca",
                &client_ca,
            ],
            client: good.clone(),
            ..Default::default()
        },
    );
    assert!(
        server.stderr_text().contains("(mutual TLS; terraform"),
        "{}",
        server.stderr_text()
    );
    plan_through(server.session("").await).await;

    // No client certificate.
    let anonymous = ClientCredentials {
        tls_ca_pem: Some(pki.ca_pem.clone()),
        ..Default::default()
    };
    // TLS 1.3 lets the client finish its side before the server checks its certificate, so
    // the refusal may reach the client as a closed connection rather than an alert.
    let err = parse_round_trip(server.client_with(&anonymous).await)
        .await
        .expect_err("a client without a certificate was served");
    eprintln!("no client certificate: {err}");
    // A certificate from another CA.
    let other = new_pki("rogue CA");
    let rogue = ClientCredentials {
        tls_ca_pem: Some(pki.ca_pem.clone()),
        tls_identity: Some((other.client_cert, other.client_key)),
        ..Default::default()
    };
    let err = parse_round_trip(server.client_with(&rogue).await)
        .await
        .expect_err("a client with a rogue certificate was served");
    eprintln!("rogue client certificate: {err}");
    parse_round_trip(server.client_with(&good).await)
        .await
        .expect("the good client is still served");
    // (The client's channel retries, so each refusal may be logged more than once; the
    // server's stderr is read on another thread.)
    let refused = |log: &str, reason: &str| {
        log.lines()
            .any(|l| l.contains("TLS handshake failed") && l.contains(reason))
    };
    let reasons = [
        "peer sent no certificates",
        "invalid peer certificate: UnknownIssuer",
    ];
    wait_until(Duration::from_secs(10), || {
        let log = server.stderr_text();
        reasons.iter().all(|r| refused(&log, r))
    });
    let log = server.stderr_text();
    for reason in reasons {
        assert!(refused(&log, reason), "{reason}: {log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pre_shared_key_is_required_on_every_call() {
    let tf = &terraform_versions()[0];
    let files = tempfile::tempdir().expect("tempdir");
    let key_file = write(files.path(), "psk", &format!("{PSK}\n"));
    let server = ProvisionerServer::start_with(
        tf,
        ServerOptions {
            without_provider: true,
            tcp: true,
            args: vec!["--psk-file", &key_file],
            client: ClientCredentials {
                psk: Some(PSK.to_string()),
                ..Default::default()
            },
            ..Default::default()
        },
    );
    assert!(
        server.stderr_text().contains("(pre-shared key; terraform"),
        "{}",
        server.stderr_text()
    );
    plan_through(server.session("").await).await;

    for (creds, expected) in [
        (
            ClientCredentials::default(),
            "Unauthenticated: missing credentials: send the pre-shared key as `authorization: Bearer <key>`",
        ),
        (
            ClientCredentials {
                psk: Some(format!("{PSK}0")),
                ..Default::default()
            },
            "Unauthenticated: wrong pre-shared key",
        ),
        (
            ClientCredentials {
                psk: Some(PSK[..PSK.len() - 1].to_string()),
                ..Default::default()
            },
            "Unauthenticated: wrong pre-shared key",
        ),
    ] {
        let err = parse_round_trip(server.client_with(&creds).await)
            .await
            .expect_err("served without the right key");
        assert_eq!(err, expected);
    }
    // The server's stderr is read on another thread: wait for the third refusal to arrive.
    wait_until(Duration::from_secs(10), || {
        server.stderr_text().matches("refused a call").count() >= 3
    });
    let log = server.stderr_text();
    assert_eq!(log.matches("refused a call").count(), 3, "{log}");
    assert!(!log.contains(PSK), "the server logged the key:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_pre_shared_key_together() {
    let tf = &terraform_versions()[0];
    let pki = new_pki("provisioner test CA");
    let files = tempfile::tempdir().expect("tempdir");
    let cert = write(files.path(), "server.pem", &pki.server_cert);
    let key = write(files.path(), "server.key", &pki.server_key);
    let key_file = write(files.path(), "psk", PSK);
    let tls_only = ClientCredentials {
        tls_ca_pem: Some(pki.ca_pem.clone()),
        ..Default::default()
    };
    let server = ProvisionerServer::start_with(
        tf,
        ServerOptions {
            without_provider: true,
            tcp: true,
            args: vec![
                "--tls-cert",
                &cert,
                "--tls-key",
                &key,
                "--psk-file",
                &key_file,
            ],
            client: ClientCredentials {
                psk: Some(PSK.to_string()),
                ..tls_only.clone()
            },
            ..Default::default()
        },
    );
    parse_round_trip(server.client_with(&server.credentials).await)
        .await
        .expect("TLS + key");
    let err = parse_round_trip(server.client_with(&tls_only).await)
        .await
        .expect_err("TLS without the key");
    assert!(
        err.starts_with("Unauthenticated: missing credentials"),
        "{err}"
    );
}

/// `serve` with `args`; its exit status and stderr, or `None` if it was still running after
/// `wait` (then it is killed).
fn run_serve(args: &[&str], wait: Duration) -> Option<(i32, String)> {
    let tf = &terraform_versions()[0];
    let mut cmd = Command::new(provisioner_binary());
    cmd.arg("serve").args(args).arg("--terraform").arg(&tf.path);
    sanitize(&mut cmd);
    let dir = tempfile::tempdir().expect("tempdir");
    let stderr_path = dir.path().join("stderr");
    let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
    cmd.arg("--work-dir").arg(dir.path().join("work"));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("spawn");
    let mut status = None;
    wait_until(wait, || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    });
    let text = || std::fs::read_to_string(&stderr_path).unwrap_or_default();
    match status {
        Some(s) => Some((s.code().unwrap_or(-1), text())),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            eprintln!("serve {args:?} kept running; stderr:\n{}", text());
            None
        }
    }
}

#[test]
fn plain_tcp_is_refused_at_startup_unless_insecure() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let addr = format!("127.0.0.1:{port}");
    let (code, stderr) =
        run_serve(&["--listen", &addr], Duration::from_secs(30)).expect("serve on plain TCP exits");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: refusing to serve on TCP {addr} without TLS or a pre-shared key"
        )) && stderr.contains("--insecure serves plain TCP anyway"),
        "{stderr}"
    );
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "something listens on {addr}"
    );

    // Half a TLS configuration, a short key, a missing file: usage errors naming the problem.
    let dir = tempfile::tempdir().expect("tempdir");
    let short = write(dir.path(), "short", "tiny");
    for (args, needle) in [
        (vec!["--tls-cert", "/nonexistent/cert.pem"], "--tls-key"),
        (
            vec!["--psk-file", short.as_str()],
            "the pre-shared key is 4 bytes; use at least 16",
        ),
        (
            vec!["--psk-file", "/nonexistent/psk"],
            "read pre-shared key /nonexistent/psk",
        ),
        (
            vec![
                "--tls-cert",
                "/nonexistent/c.pem",
                "--tls-key",
                "/nonexistent/k.pem",
            ],
            "read TLS certificate /nonexistent/c.pem",
        ),
        (
            vec!["--insecure", "--psk-file", short.as_str()],
            "cannot be used with",
        ),
    ] {
        let mut all = vec!["--listen", addr.as_str()];
        all.extend(args.iter().copied());
        let (code, stderr) =
            run_serve(&all, Duration::from_secs(30)).expect("serve with bad options exits");
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_tcp_serves_and_says_so() {
    let tf = &terraform_versions()[0];
    let server = ProvisionerServer::start_with(
        tf,
        ServerOptions {
            without_provider: true,
            tcp: true,
            args: vec!["--insecure"],
            ..Default::default()
        },
    );
    let log = server.stderr_text();
    assert!(
        log.contains("WARNING: --insecure: serving gRPC on plain TCP")
            && log.contains("(INSECURE: plain TCP, no TLS, no pre-shared key; terraform"),
        "{log}"
    );
    parse_round_trip(server.client_with(&ClientCredentials::default()).await)
        .await
        .expect("insecure TCP serves");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unix_socket_is_private() {
    let tf = &terraform_versions()[0];
    let server = ProvisionerServer::start_with(
        tf,
        ServerOptions {
            without_provider: true,
            ..Default::default()
        },
    );
    let meta = std::fs::symlink_metadata(&server.socket).expect("socket exists");
    assert!(std::os::unix::fs::FileTypeExt::is_socket(&meta.file_type()));
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(
        server
            .stderr_text()
            .contains("(unix socket, mode 0600; terraform"),
        "{}",
        server.stderr_text()
    );
    parse_round_trip(server.client_with(&ClientCredentials::default()).await)
        .await
        .expect("the owner connects");
}
