//! The gRPC `provisioner.Provisioner` service: each `Session` call runs one
//! [`crate::session`] on its own task. Served over TCP (`host:port`) or a unix socket
//! (`unix:///path`, mode 0600: whoever can connect can run Terraform with our credentials).
//! TCP needs TLS or a pre-shared key ([`security`]); the CLI refuses plain TCP unless told
//! `--insecure`.

mod incoming;
pub mod security;

use std::fmt;
use std::future::Future;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use coder_proto::provisioner::provisioner_server::{Provisioner, ProvisionerServer};
use coder_proto::provisioner::{Request as ProtoRequest, Response as ProtoResponse};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::codegen::BoxStream;
use tonic::{Request, Response, Status, Streaming};

pub use security::{load_tls, PresharedKey, SecurityError};

use crate::session::{self, SessionOptions};

/// Largest gRPC message accepted or sent, either way: 64 MiB.
///
/// Measured (`tests/tests/provisioner_load.rs`): a build of 1,000 agents, each with an app
/// and a `terraform_data` holding its token and init script, sends a 4.3 MiB PlanComplete
/// (the plan JSON), a 7.2 MiB ApplyComplete (6.7 MiB of it the state, which the next
/// PlanRequest carries back) and GraphCompletes of 0.3 MiB. Sizes grow linearly, so 64 MiB
/// leaves ~8x headroom over that extreme template, while bounding what one client can make
/// the server hold per message (256 MiB before, ~4 GiB for 8 concurrent sessions at worst
/// with the copies decoding makes). InitComplete stays small: module files above 4 MiB go
/// ahead in `DataUpload`/`ChunkPiece` messages. A request over the limit ends its call with
/// OUT_OF_RANGE; a response over it (a plan of ~8,000+ such agents) fails the same way.
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024 * 1024;

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    /// `host:port`, e.g. `127.0.0.1:8080` or `localhost:0`.
    Tcp(String),
    /// `unix:///absolute/path` (or `unix:relative/path`).
    Unix(PathBuf),
}

impl FromStr for ListenAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<ListenAddr, String> {
        if let Some(rest) = s.strip_prefix("unix:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(format!("{s:?}: a unix socket address needs a path, e.g. unix:///run/coder-provisioner.sock"));
            }
            return Ok(ListenAddr::Unix(PathBuf::from(path)));
        }
        match s.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                Ok(ListenAddr::Tcp(s.to_string()))
            }
            _ => Err(format!(
                "{s:?} is not a listen address: use host:port (e.g. 127.0.0.1:9090) or unix:///path/to/socket"
            )),
        }
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenAddr::Tcp(a) => f.write_str(a),
            ListenAddr::Unix(p) => write!(f, "unix://{}", p.display()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("{path} exists and is not a socket; refusing to replace it", path = .0.display())]
    NotASocket(PathBuf),
    #[error("serve gRPC: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// How connections are authenticated, besides the unix socket's mode.
#[derive(Debug, Clone, Default)]
pub struct Security {
    /// TLS (with a client CA in it: mutual TLS).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Every call must carry `authorization: Bearer <key>`.
    pub psk: Option<PresharedKey>,
}

impl Security {
    /// Neither TLS nor a key: only acceptable on a unix socket, or when told `--insecure`.
    pub fn is_open(&self) -> bool {
        self.tls.is_none() && self.psk.is_none()
    }
}

/// The `Provisioner` service.
#[derive(Debug, Clone)]
pub struct ProvisionerService {
    options: Arc<SessionOptions>,
}

impl ProvisionerService {
    pub fn new(options: Arc<SessionOptions>) -> ProvisionerService {
        ProvisionerService { options }
    }

    /// The tonic server wrapper, with our message size limits.
    pub fn into_server(self) -> ProvisionerServer<ProvisionerService> {
        ProvisionerServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE)
    }
}

/// Refuses calls without the pre-shared key (when one is set) with UNAUTHENTICATED, before the
/// call reaches the service.
#[derive(Clone)]
struct KeyCheck(Option<PresharedKey>);

impl tonic::service::Interceptor for KeyCheck {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some(key) = &self.0 else {
            return Ok(request);
        };
        match key.check(request.metadata()) {
            Ok(()) => Ok(request),
            Err(status) => {
                let peer = request
                    .remote_addr()
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| "unix socket".to_string());
                tracing::warn!(%peer, reason = status.message(), "refused a call");
                Err(status)
            }
        }
    }
}

#[tonic::async_trait]
impl Provisioner for ProvisionerService {
    async fn session(
        &self,
        request: Request<Streaming<ProtoRequest>>,
    ) -> Result<Response<BoxStream<ProtoResponse>>, Status> {
        let requests = request.into_inner();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let options = self.options.clone();
        tokio::spawn(async move {
            // The outcome is logged by the session and, for protocol errors, sent as the
            // call's status.
            let _ = session::run(options, requests, tx).await;
        });
        Ok(Response::new(Box::pin(UnboundedReceiverStream::new(rx))))
    }
}

/// A bound listener, so callers can learn the address (port 0) before serving.
pub enum Listener {
    Tcp(tokio::net::TcpListener),
    Unix(tokio::net::UnixListener, PathBuf),
}

impl Listener {
    /// Binds `addr`. A unix socket gets mode 0600; a stale socket file from an earlier run is
    /// replaced, any other file is not.
    pub async fn bind(addr: &ListenAddr) -> Result<Listener, ServeError> {
        let listen_err = |source| ServeError::Listen {
            addr: addr.to_string(),
            source,
        };
        match addr {
            ListenAddr::Tcp(a) => Ok(Listener::Tcp(
                tokio::net::TcpListener::bind(a.as_str())
                    .await
                    .map_err(listen_err)?,
            )),
            ListenAddr::Unix(path) => {
                use std::os::unix::fs::FileTypeExt;
                if let Ok(meta) = std::fs::symlink_metadata(path) {
                    if !meta.file_type().is_socket() {
                        return Err(ServeError::NotASocket(path.clone()));
                    }
                    std::fs::remove_file(path).map_err(listen_err)?;
                }
                let listener = tokio::net::UnixListener::bind(path).map_err(listen_err)?;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                    .map_err(listen_err)?;
                Ok(Listener::Unix(listener, path.clone()))
            }
        }
    }

    /// The address actually bound (with the real port for `:0`).
    pub fn local_addr(&self) -> String {
        match self {
            Listener::Tcp(l) => l
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "?".to_string()),
            Listener::Unix(_, p) => format!("unix://{}", p.display()),
        }
    }
}

/// Serves `service` on `listener` until `shutdown` completes; then cancels running
/// requests (Terraform is interrupted and its state returned) and waits for sessions to
/// send their last answers.
pub async fn serve(
    listener: Listener,
    service: ProvisionerService,
    security: Security,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let sessions_shutdown = service.options.shutdown.clone();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: cancelling running requests");
        sessions_shutdown.cancel();
    };
    let service = tonic::service::interceptor::InterceptedService::new(
        service.into_server(),
        KeyCheck(security.psk),
    );
    let router = tonic::transport::Server::builder().add_service(service);
    match listener {
        Listener::Tcp(l) => {
            router
                .serve_with_incoming_shutdown(incoming::incoming(l, security.tls), signal)
                .await?
        }
        Listener::Unix(l, path) => {
            let result = router
                .serve_with_incoming_shutdown(incoming::incoming(l, security.tls), signal)
                .await;
            let _ = std::fs::remove_file(&path);
            result?
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_listen_addresses() {
        assert_eq!(
            "unix:///run/p.sock".parse::<ListenAddr>(),
            Ok(ListenAddr::Unix(PathBuf::from("/run/p.sock")))
        );
        assert_eq!(
            "unix:p.sock".parse::<ListenAddr>(),
            Ok(ListenAddr::Unix(PathBuf::from("p.sock")))
        );
        assert_eq!(
            "127.0.0.1:9090".parse::<ListenAddr>(),
            Ok(ListenAddr::Tcp("127.0.0.1:9090".into()))
        );
        assert_eq!(
            "[::1]:0".parse::<ListenAddr>(),
            Ok(ListenAddr::Tcp("[::1]:0".into()))
        );
        assert!("9090".parse::<ListenAddr>().is_err());
        assert!("unix://".parse::<ListenAddr>().is_err());
        assert!("host:port".parse::<ListenAddr>().is_err());
    }

    #[tokio::test]
    async fn unix_sockets_are_private_and_never_replace_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.sock");
        let listener = Listener::bind(&ListenAddr::Unix(path.clone()))
            .await
            .expect("bind");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        drop(listener);
        // A leftover socket is replaced.
        Listener::bind(&ListenAddr::Unix(path.clone()))
            .await
            .expect("rebind");
        let file = dir.path().join("file");
        std::fs::write(&file, "x").expect("write");
        assert!(matches!(
            Listener::bind(&ListenAddr::Unix(file)).await,
            Err(ServeError::NotASocket(_))
        ));
    }
}
