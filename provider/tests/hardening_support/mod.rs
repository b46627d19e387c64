//! A stand-in for Terraform's side of go-plugin, for the security and load tests: it makes
//! Terraform-shaped client certificates, starts the provider binary the way Terraform does
//! (cookie, protocol versions, `PLUGIN_CLIENT_CERT`), reads the handshake, and connects over
//! the unix socket with TLS presenting whatever certificate a test chooses.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::ClientConfig;
use tokio::net::UnixStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint};

pub const BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-coder");
pub const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// A client certificate and its key, shaped like the one Terraform makes for every provider
/// it starts (go-plugin's `generateCert`: ECDSA P-521, self-signed, CA:TRUE, SAN localhost).
pub struct ClientIdentity {
    pub pem: String,
    pub der: Vec<u8>,
    pub key_der: Vec<u8>,
}

impl ClientIdentity {
    pub fn terraform_like() -> ClientIdentity {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("P-521 key");
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "HashiCorp");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        let cert = params.self_signed(&key).expect("self-signed certificate");
        ClientIdentity {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        }
    }
}

/// One provider process started the way Terraform starts it; killed on drop.
pub struct Provider {
    pub child: Child,
    pub handshake: String,
}

impl Provider {
    /// Starts the provider with `client_cert` in `PLUGIN_CLIENT_CERT` (AutoMTLS) or none,
    /// and `tmpdir` as its `TMPDIR` (where its socket directory goes).
    pub fn start(client_cert: Option<&str>, tmpdir: Option<&Path>) -> Provider {
        let mut cmd = Command::new(BIN);
        cmd.env_remove("PLUGIN_CLIENT_CERT")
            .env_remove("PLUGIN_UNIX_SOCKET_DIR")
            .env_remove("CODER_PROVIDER_PROTOCOL_VERSION")
            .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(pem) = client_cert {
            cmd.env("PLUGIN_CLIENT_CERT", pem);
        }
        if let Some(dir) = tmpdir {
            cmd.env("TMPDIR", dir);
        }
        let mut child = cmd.spawn().expect("start the provider");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the handshake line");
        Provider {
            child,
            handshake: line.trim_end().to_string(),
        }
    }

    fn field(&self, index: usize) -> &str {
        self.handshake.split('|').nth(index).unwrap_or("")
    }

    pub fn protocol_version(&self) -> &str {
        self.field(1)
    }

    pub fn socket(&self) -> PathBuf {
        PathBuf::from(self.field(3))
    }

    /// The server certificate from handshake field 6 (go-plugin: base64 without padding).
    pub fn server_cert_der(&self) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(self.field(5))
            .expect("handshake field 6 is base64 DER")
    }

    /// Waits up to `limit` for the process to exit; true when it did.
    pub fn wait_exit(&mut self, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        false
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TLS client that trusts exactly the provider's announced server certificate (as
/// go-plugin's client does) and presents `identity`, or no certificate at all.
pub fn tls_connector(server_cert_der: &[u8], identity: Option<&ClientIdentity>) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(server_cert_der.to_vec()))
        .expect("the server certificate is usable as a root");
    // aws-lc-rs: it can sign with Terraform's P-521 key.
    let builder = ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots);
    let mut config = match identity {
        Some(id) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from(id.der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key_der.clone())),
            )
            .expect("client certificate"),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    TlsConnector::from(Arc::new(config))
}

/// Connects to `socket` and completes the TLS handshake as the client sees it.
pub async fn tls_connect(
    socket: &Path,
    connector: &TlsConnector,
) -> std::io::Result<TlsStream<UnixStream>> {
    let stream = UnixStream::connect(socket).await?;
    let name = ServerName::try_from("localhost").expect("server name");
    connector.connect(name, stream).await
}

/// A gRPC channel over TLS on the provider's unix socket.
pub async fn tls_channel(
    socket: PathBuf,
    connector: TlsConnector,
) -> Result<Channel, tonic::transport::Error> {
    Endpoint::try_from("http://localhost")
        .expect("endpoint")
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector(tower::service_fn(move |_| {
            let socket = socket.clone();
            let connector = connector.clone();
            async move { tls_connect(&socket, &connector).await.map(TokioIo::new) }
        }))
        .await
}

/// A gRPC channel in plaintext on the provider's unix socket.
pub async fn plain_channel(socket: PathBuf) -> Result<Channel, tonic::transport::Error> {
    Endpoint::try_from("http://localhost")
        .expect("endpoint")
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector(tower::service_fn(move |_| {
            let socket = socket.clone();
            async move { UnixStream::connect(socket).await.map(TokioIo::new) }
        }))
        .await
}
