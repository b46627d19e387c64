//! Harness for the provisioner's end-to-end tests: the real `coder-provisioner` binary, served
//! on a unix socket in a temporary directory, driven by a real gRPC client.
//!
//! [`ProvisionerServer::start`] runs `coder-provisioner serve` with a given Terraform and the
//! provider mirror's CLI configuration; [`ProvisionerServer::session`] opens a `Session` stream
//! and sends `Config`; [`Session::request`] sends one request and collects its logs and its
//! Complete. [`tar_of`] builds template archives.
//!
//! Over TCP ([`ServerOptions::tcp`]) the client speaks what [`ServerOptions::client`] says: TLS
//! trusting a CA (optionally with a client certificate) and/or a pre-shared key sent as
//! `authorization: Bearer <key>`. A TCP server started without `--tls-*` or `--psk-file` in
//! [`ServerOptions::args`] gets `--insecure`.
//!
//! Message sizes: the client accepts and sends messages up to [`MAX_MESSAGE_SIZE`], the
//! server's own limit (`coder_provisioner::server::MAX_MESSAGE_SIZE`), so a test sees the
//! server's refusal rather than the client's.
//!
//! Knob: `CODER_PROVISIONER_BIN` uses that binary instead of building one.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use coder_proto::provisioner::provisioner_client::ProvisionerClient;
use coder_proto::provisioner::{request, response, Config, Log, Request, Response};
use tokio::sync::mpsc::UnboundedSender;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint, Uri};

use crate::{mirror, Terraform};

/// How long a single request may take before a test gives up on it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// Largest gRPC message the harness's client sends or accepts: the server's limit
/// (`coder_provisioner::server::MAX_MESSAGE_SIZE`, 64 MiB, chosen from the 1,000-agent build's
/// measured sizes; this crate does not depend on the provisioner, so the value is repeated,
/// and `requests_over_the_message_limit_are_refused` checks the server's against it).
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024 * 1024;

/// How the harness's client authenticates to a TCP server.
#[derive(Clone, Default)]
pub struct ClientCredentials {
    /// Speak TLS, trusting this CA certificate (PEM) for the server, name `localhost`.
    pub tls_ca_pem: Option<String>,
    /// Present this certificate chain and key (PEM) for mutual TLS.
    pub tls_identity: Option<(String, String)>,
    /// Send `authorization: Bearer <key>` on every call.
    pub psk: Option<String>,
}

/// Adds the pre-shared key, when there is one, to every call.
#[derive(Clone)]
pub struct AuthHeader(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl tonic::service::Interceptor for AuthHeader {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// The harness's gRPC client.
pub type Client = ProvisionerClient<InterceptedService<Channel, AuthHeader>>;

/// The `coder-provisioner` executable: `CODER_PROVISIONER_BIN`, or built once per test process
/// with the cargo that runs the tests (same profile, `CARGO_TARGET_DIR` honoured).
pub fn provisioner_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| match std::env::var_os("CODER_PROVISIONER_BIN") {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            assert!(
                p.is_file(),
                "CODER_PROVISIONER_BIN={} is not a file",
                p.display()
            );
            std::path::absolute(&p).unwrap_or(p)
        }
        _ => build_provisioner(),
    })
}

fn build_provisioner() -> PathBuf {
    crate::workspace_binary("coder-provisioner")
}

/// Removes what could change Terraform's or the provider's behaviour from a command's
/// environment, as the Terraform harness does.
pub fn sanitize(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if key.starts_with("TF_")
            || key.starts_with("CODER_")
            || key.starts_with("CHECKPOINT_")
            || key == "TERRAFORM_CONFIG"
        {
            cmd.env_remove(key);
        }
    }
}

/// A running `coder-provisioner serve` on a private unix socket (or TCP, see
/// [`ServerOptions::tcp`]).
pub struct ProvisionerServer {
    child: Child,
    /// The socket path (unused in TCP mode).
    pub socket: PathBuf,
    /// `host:port` the server reported, in TCP mode.
    pub tcp_addr: Option<String>,
    /// The server's work root (session directories live below it).
    pub work_dir: PathBuf,
    /// Everything the server wrote to stderr so far.
    pub stderr: Arc<Mutex<String>>,
    /// What [`ProvisionerServer::client`] authenticates with.
    pub credentials: ClientCredentials,
    dir: tempfile::TempDir,
}

/// A step run on the work directory before the server starts.
pub type PrepareWorkDir = Box<dyn FnOnce(&Path)>;

/// Options for [`ProvisionerServer::start_with`].
#[derive(Default)]
pub struct ServerOptions<'a> {
    /// Extra environment of the server process (after sanitising).
    pub env: Vec<(&'a str, &'a str)>,
    /// Extra `serve` arguments, e.g. `--exit-timeout 2s`.
    pub args: Vec<&'a str>,
    /// Leave the provider mirror out (templates with built-in resources only).
    pub without_provider: bool,
    /// Listen on `127.0.0.1:0` instead of a unix socket.
    pub tcp: bool,
    /// How the client authenticates (TLS, pre-shared key); pass the matching `--tls-*` /
    /// `--psk-file` in `args`.
    pub client: ClientCredentials,
    /// Called with the work directory before the server starts (e.g. to plant leftovers).
    pub prepare_work_dir: Option<PrepareWorkDir>,
}

impl ProvisionerServer {
    /// Starts a server using `terraform` and the provider mirror (which builds the provider).
    pub fn start(terraform: &Terraform) -> ProvisionerServer {
        ProvisionerServer::start_with(terraform, ServerOptions::default())
    }

    pub fn start_with(terraform: &Terraform, opts: ServerOptions<'_>) -> ProvisionerServer {
        let binary = provisioner_binary();
        let dir = tempfile::Builder::new()
            .prefix("coder-prov-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
        let socket = dir.path().join("p.sock");
        let work_dir = dir.path().join("work");
        if let Some(prepare) = opts.prepare_work_dir {
            std::fs::create_dir_all(&work_dir).expect("create work dir");
            prepare(&work_dir);
        }
        let listen = if opts.tcp {
            "127.0.0.1:0".to_string()
        } else {
            format!("unix://{}", socket.display())
        };
        let mut cmd = Command::new(binary);
        cmd.arg("serve")
            .arg("--listen")
            .arg(listen)
            .arg("--terraform")
            .arg(&terraform.path)
            .arg("--work-dir")
            .arg(&work_dir);
        if !opts.without_provider {
            cmd.arg("--cli-config").arg(&mirror().cli_config);
        }
        cmd.args(&opts.args);
        let secured = opts.args.iter().any(|a| {
            ["--tls-cert", "--psk-file", "--insecure"]
                .iter()
                .any(|o| a.starts_with(o))
        });
        if opts.tcp && !secured {
            cmd.arg("--insecure");
        }
        sanitize(&mut cmd);
        cmd.env("RUST_LOG", "info");
        cmd.envs(opts.env.iter().copied());
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));

        let stderr = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<String>();
        if let Some(pipe) = child.stderr.take() {
            let log = stderr.clone();
            std::thread::spawn(move || {
                let mut ready = Some(ready_tx);
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    // Recorded before the ready signal, so a test sees the line once started.
                    if let Ok(mut log) = log.lock() {
                        log.push_str(&line);
                        log.push('\n');
                    }
                    // "coder-provisioner listening on <addr> (<protection>; terraform ...)"
                    if let Some(rest) = line.split("coder-provisioner listening on ").nth(1) {
                        if let Some(tx) = ready.take() {
                            let addr = rest.split(' ').next().unwrap_or_default();
                            let _ = tx.send(addr.to_string());
                        }
                    }
                }
            });
        }
        let mut server = ProvisionerServer {
            child,
            socket,
            tcp_addr: None,
            work_dir,
            stderr,
            credentials: opts.client,
            dir,
        };
        match ready_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => {
                if opts.tcp {
                    server.tcp_addr = Some(addr);
                }
            }
            Err(_) => {
                let _ = server.child.kill();
                let _ = server.child.wait();
                panic!(
                    "coder-provisioner did not start listening:\n{}",
                    server.stderr_text()
                );
            }
        }
        server
    }

    /// The server's stderr so far.
    pub fn stderr_text(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A directory for the test's own files, removed with the server.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// A gRPC client on the server's socket, authenticating as [`ServerOptions::client`] said.
    pub async fn client(&self) -> Client {
        self.client_with(&self.credentials.clone())
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the provisioner: {e}"))
    }

    /// A gRPC client with other credentials (e.g. a wrong key), or the connection error.
    pub async fn client_with(&self, creds: &ClientCredentials) -> Result<Client, String> {
        let channel = match &self.tcp_addr {
            Some(addr) => connect_tcp(addr, creds).await?,
            None => {
                let path = self.socket.clone();
                // The URI is required by the API but unused: the connector dials the socket.
                Endpoint::from_static("http://localhost")
                    .connect_with_connector(tower::service_fn(move |_: Uri| {
                        let path = path.clone();
                        async move {
                            let stream = tokio::net::UnixStream::connect(path).await?;
                            Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
                        }
                    }))
                    .await
                    .map_err(|e| format!("{}: {e}", self.socket.display()))?
            }
        };
        let header = match &creds.psk {
            Some(key) => Some(
                format!("Bearer {key}")
                    .parse()
                    .map_err(|e| format!("the key is no header value: {e}"))?,
            ),
            None => None,
        };
        Ok(
            ProvisionerClient::with_interceptor(channel, AuthHeader(header))
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
        )
    }

    /// Opens a session and sends `Config` with `log_level` (`""` for upstream's default).
    pub async fn session(&self, log_level: &str) -> Session {
        Session::open(&mut self.client().await, log_level).await
    }

    /// Session directories currently under the work root.
    pub fn session_dirs(&self) -> Vec<PathBuf> {
        std::fs::read_dir(&self.work_dir)
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    }
}

impl Drop for ProvisionerServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one request produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub logs: Vec<Log>,
    pub complete: response::Type,
}

impl Outcome {
    /// All log output, one line per log.
    pub fn log_text(&self) -> String {
        self.logs
            .iter()
            .map(|l| format!("{:?}: {}", l.level(), l.output))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The Complete's `error` field.
    pub fn error(&self) -> &str {
        match &self.complete {
            response::Type::Parse(c) => &c.error,
            response::Type::Init(c) => &c.error,
            response::Type::Plan(c) => &c.error,
            response::Type::Graph(c) => &c.error,
            response::Type::Apply(c) => &c.error,
            _ => "",
        }
    }

    /// Panics with the logs unless the request succeeded.
    #[track_caller]
    pub fn assert_ok(self) -> Self {
        if !self.error().is_empty() {
            panic!(
                "request failed: {}\n--- logs ---\n{}",
                self.error(),
                self.log_text()
            );
        }
        self
    }

    pub fn init(&self) -> &coder_proto::provisioner::InitComplete {
        match &self.complete {
            response::Type::Init(c) => c,
            other => panic!("expected InitComplete, got {other:?}"),
        }
    }

    pub fn parse(&self) -> &coder_proto::provisioner::ParseComplete {
        match &self.complete {
            response::Type::Parse(c) => c,
            other => panic!("expected ParseComplete, got {other:?}"),
        }
    }

    pub fn plan(&self) -> &coder_proto::provisioner::PlanComplete {
        match &self.complete {
            response::Type::Plan(c) => c,
            other => panic!("expected PlanComplete, got {other:?}"),
        }
    }

    pub fn graph(&self) -> &coder_proto::provisioner::GraphComplete {
        match &self.complete {
            response::Type::Graph(c) => c,
            other => panic!("expected GraphComplete, got {other:?}"),
        }
    }

    pub fn apply(&self) -> &coder_proto::provisioner::ApplyComplete {
        match &self.complete {
            response::Type::Apply(c) => c,
            other => panic!("expected ApplyComplete, got {other:?}"),
        }
    }
}

/// One open `Session` stream.
pub struct Session {
    tx: UnboundedSender<Request>,
    rx: tonic::Streaming<Response>,
}

impl Session {
    /// Opens the stream and sends `Config`.
    pub async fn open(client: &mut Client, log_level: &str) -> Session {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let session = Session {
            tx,
            rx: client
                .session(UnboundedReceiverStream::new(rx))
                .await
                .unwrap_or_else(|e| panic!("Session call failed: {e}"))
                .into_inner(),
        };
        session.send(request::Type::Config(Config {
            provisioner_log_level: log_level.to_string(),
            ..Default::default()
        }));
        session
    }

    /// Sends a request without waiting (e.g. a Cancel).
    pub fn send(&self, r#type: request::Type) {
        self.tx
            .send(Request {
                r#type: Some(r#type),
            })
            .unwrap_or_else(|_| panic!("the session's request stream is closed"));
    }

    /// The next message, or `Err(status)` when the call ended with an error; `Ok(None)` at the
    /// end of the stream.
    pub async fn next(&mut self) -> Result<Option<Response>, tonic::Status> {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.rx.message()).await {
            Ok(result) => result,
            Err(_) => panic!("no message from the provisioner for {REQUEST_TIMEOUT:?}"),
        }
    }

    /// Collects logs until a Complete arrives. `on_log` sees each log as it comes (to send a
    /// Cancel at the right moment); it returns true to stop watching.
    pub async fn collect(&mut self, mut on_log: impl FnMut(&Log, &Session) -> bool) -> Outcome {
        let mut logs = Vec::new();
        let mut watching = true;
        loop {
            match self.next().await {
                Ok(Some(Response {
                    r#type: Some(response::Type::Log(log)),
                })) => {
                    if watching && on_log(&log, self) {
                        watching = false;
                    }
                    logs.push(log);
                }
                Ok(Some(Response {
                    r#type: Some(complete),
                })) => return Outcome { logs, complete },
                Ok(Some(Response { r#type: None })) => {}
                Ok(None) => panic!(
                    "session ended before the Complete; logs:\n{}",
                    Outcome {
                        logs,
                        complete: response::Type::Log(Log::default())
                    }
                    .log_text()
                ),
                Err(status) => panic!("session failed: {status}"),
            }
        }
    }

    /// Sends a request and collects its logs and Complete.
    pub async fn request(&mut self, r#type: request::Type) -> Outcome {
        self.send(r#type);
        self.collect(|_, _| false).await
    }

    /// Closes the request side; the server ends the session.
    pub fn close(self) -> tonic::Streaming<Response> {
        self.rx
    }
}

/// A channel to `addr` over TCP, with TLS when `creds` has a CA.
async fn connect_tcp(addr: &str, creds: &ClientCredentials) -> Result<Channel, String> {
    let endpoint =
        Endpoint::from_shared(format!("http://{addr}")).map_err(|e| format!("{addr}: {e}"))?;
    let Some(ca) = &creds.tls_ca_pem else {
        return endpoint.connect().await.map_err(|e| format!("{addr}: {e}"));
    };
    let connector = tls_connector(ca, creds.tls_identity.as_ref())?;
    let addr = addr.to_string();
    let target = addr.clone();
    endpoint
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let (connector, target) = (connector.clone(), target.clone());
            async move {
                let tcp = tokio::net::TcpStream::connect(&target).await?;
                let name = rustls::pki_types::ServerName::try_from("localhost")
                    .map_err(std::io::Error::other)?;
                let tls = connector.connect(name, tcp).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
            }
        }))
        .await
        .map_err(|e| {
            // tonic's error hides the TLS alert in its source chain.
            let mut text = format!("{addr}: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            text
        })
}

fn tls_connector(
    ca_pem: &str,
    identity: Option<&(String, String)>,
) -> Result<tokio_rustls::TlsConnector, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        let cert = cert.map_err(|e| format!("CA PEM: {e}"))?;
        roots.add(cert).map_err(|e| format!("CA: {e}"))?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots);
    let mut config = match identity {
        None => builder.with_no_client_auth(),
        Some((chain, key)) => {
            let chain = CertificateDer::pem_slice_iter(chain.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("client certificate PEM: {e}"))?;
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes())
                .map_err(|e| format!("client key PEM: {e}"))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("client certificate: {e}"))?
        }
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// A tar archive of `(path, contents)` files, as `coder templates push` would upload.
pub fn tar_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, contents) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, path, contents.as_bytes())
            .unwrap_or_else(|e| panic!("cannot archive {path}: {e}"));
    }
    builder
        .into_inner()
        .unwrap_or_else(|e| panic!("cannot finish archive: {e}"))
}

/// Waits until `check` holds, polling for up to `limit`.
pub fn wait_until(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}

/// The seeds' Docker template with `terraform_data` standing in for the container (ephemeral:
/// `count = start_count`) and the home volume (persistent). `image_registry` is an admin
/// variable (sensitive), `image_name` a user one.
pub const WORKSPACE_TEMPLATE: &str = r#"
terraform {
  required_providers {
    coder = {
      source  = "coder/coder"
      version = ">= 2.0.0"
    }
  }
}

variable "image_registry" {
  description = "Registry the workspace images are pulled from"
  type        = string
  default     = "docker.io/codercom"
  sensitive   = true
}

variable "image_name" {
  description = "Workspace image"
  type        = string
  default     = "enterprise-base:ubuntu"
}

provider "coder" {}

data "coder_provisioner" "me" {}
data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

resource "coder_agent" "main" {
  arch           = data.coder_provisioner.me.arch
  os             = "linux"
  startup_script = "echo starting"

  metadata {
    display_name = "CPU Usage"
    key          = "cpu_usage"
    script       = "coder stat cpu"
    interval     = 10
    timeout      = 1
  }
}

resource "coder_app" "code_server" {
  agent_id     = coder_agent.main.id
  slug         = "code-server"
  display_name = "code-server"
  url          = "http://localhost:13337/?folder=/home/coder"
  share        = "owner"

  healthcheck {
    url       = "http://localhost:13337/healthz"
    interval  = 5
    threshold = 6
  }
}

# Persistent, like docker_volume.home_volume.
resource "terraform_data" "home_volume" {
  input = {
    name = "coder-${data.coder_workspace.me.id}-home"
  }
  lifecycle {
    ignore_changes = all
  }
}

# Ephemeral, like docker_container.workspace.
resource "terraform_data" "workspace" {
  count = data.coder_workspace.me.start_count
  input = {
    image      = "${var.image_registry}/${var.image_name}"
    name       = "coder-${data.coder_workspace_owner.me.name}-${lower(data.coder_workspace.me.name)}"
    entrypoint = coder_agent.main.init_script
    env        = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
    volume     = terraform_data.home_volume.output.name
  }
}
"#;

/// Build metadata for a workspace `name` owned by `owner`.
pub fn metadata(
    transition: coder_proto::provisioner::WorkspaceTransition,
    name: &str,
    owner: &str,
) -> coder_proto::provisioner::Metadata {
    coder_proto::provisioner::Metadata {
        coder_url: "https://coder.example.com".into(),
        workspace_transition: transition.into(),
        workspace_name: name.into(),
        workspace_owner: owner.into(),
        workspace_owner_email: format!("{owner}@example.com"),
        workspace_id: format!("0f0e0d0c-0000-4000-8000-{:012x}", fnv(name)),
        workspace_owner_id: format!("0a0b0c0d-0000-4000-8000-{:012x}", fnv(owner)),
        template_name: "docker-like".into(),
        ..Default::default()
    }
}

/// A small stable hash for ids in tests.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    }) & 0xffff_ffff_ffff
}

/// `(type.name, instance attributes)` of every resource instance in a raw state file.
pub fn state_instances(state: &[u8]) -> Vec<(String, serde_json::Value)> {
    let json: serde_json::Value = serde_json::from_slice(state).unwrap_or_else(|e| {
        panic!(
            "state is not JSON ({e}): {}",
            String::from_utf8_lossy(state)
        )
    });
    let mut out = Vec::new();
    for r in json["resources"].as_array().into_iter().flatten() {
        let address = format!(
            "{}{}.{}",
            if r["mode"] == "data" { "data." } else { "" },
            r["type"].as_str().unwrap_or(""),
            r["name"].as_str().unwrap_or("")
        );
        for i in r["instances"].as_array().into_iter().flatten() {
            out.push((address.clone(), i["attributes"].clone()));
        }
    }
    out
}
