//! Who may talk to the server. Whoever can open a `Session` runs Terraform with this machine's
//! credentials and reads the secrets builds carry, so a TCP listener needs TLS (server
//! certificate; with a client CA, mutual TLS), a pre-shared key, or both. A unix socket is
//! protected by its mode (0600) and may add either.
//!
//! The pre-shared key travels as gRPC metadata `authorization: Bearer <key>` on every call and
//! is compared in constant time (SHA-256 of both sides, then a branch-free comparison of the
//! digests, so neither content nor length leaks through timing).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use sha2::{Digest, Sha256};
use tonic::metadata::MetadataMap;
use tonic::Status;

/// Shorter keys are refused: a key is meant to be random bytes, not a password.
pub const MIN_PSK_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("read {what} {path}: {source}", path = .path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {problem}", path = .path.display())]
    Pem { path: PathBuf, problem: String },
    #[error("TLS configuration: {0}")]
    Tls(String),
    #[error(
        "{path}: the pre-shared key is {len} bytes; use at least {MIN_PSK_LEN} (e.g. `head -c 32 /dev/urandom | base64 > {path}`)",
        path = .path.display()
    )]
    ShortKey { path: PathBuf, len: usize },
    #[error("{path}: the pre-shared key must be one line of visible ASCII (it is sent as an HTTP/2 header)", path = .path.display())]
    KeyNotHeaderSafe { path: PathBuf },
}

/// The server's TLS settings, from PEM files.
pub fn load_tls(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<ServerConfig>, SecurityError> {
    let read = |what: &'static str, path: &Path| {
        std::fs::read(path).map_err(|source| SecurityError::Read {
            what,
            path: path.to_path_buf(),
            source,
        })
    };
    let pem = |path: &Path, problem: String| SecurityError::Pem {
        path: path.to_path_buf(),
        problem,
    };
    let cert_pem = read("TLS certificate", cert)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| pem(cert, format!("not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(pem(cert, "no CERTIFICATE block found".to_string()));
    }
    let key_pem = read("TLS private key", key)?;
    let private_key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        pem(
            key,
            format!("no usable private key (PKCS#8, PKCS#1 or SEC1 PEM): {e}"),
        )
    })?;

    let provider = Arc::new(ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| SecurityError::Tls(e.to_string()))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let ca_pem = read("TLS client CA", ca)?;
            let mut roots = RootCertStore::empty();
            let mut count = 0;
            for c in CertificateDer::pem_slice_iter(&ca_pem) {
                let c = c.map_err(|e| pem(ca, format!("not a PEM certificate: {e}")))?;
                roots
                    .add(c)
                    .map_err(|e| pem(ca, format!("unusable CA certificate: {e}")))?;
                count += 1;
            }
            if count == 0 {
                return Err(pem(ca, "no CERTIFICATE block found".to_string()));
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| SecurityError::Tls(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(chain, private_key).map_err(|e| {
        SecurityError::Tls(format!(
            "{} and {} do not make a usable certificate and key: {e}",
            cert.display(),
            key.display()
        ))
    })?;
    // gRPC clients (grpc-go among them) insist on h2 by ALPN.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// A pre-shared key; only its digest is kept.
#[derive(Clone)]
pub struct PresharedKey {
    digest: [u8; 32],
}

impl fmt::Debug for PresharedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PresharedKey(<redacted>)")
    }
}

impl PresharedKey {
    /// Reads the key from `path`: its content without surrounding whitespace. Warns when the
    /// file is readable by others than its owner.
    pub fn from_file(path: &Path) -> Result<PresharedKey, SecurityError> {
        let bytes = std::fs::read(path).map_err(|source| SecurityError::Read {
            what: "pre-shared key",
            path: path.to_path_buf(),
            source,
        })?;
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = std::fs::metadata(path) {
                let mode = meta.permissions().mode();
                if mode & 0o077 != 0 {
                    tracing::warn!(
                        path = %path.display(),
                        mode = format!("{:o}", mode & 0o777),
                        "the pre-shared key file is readable by other users; chmod 600 it"
                    );
                }
            }
        }
        PresharedKey::from_bytes(&bytes).map_err(|problem| match problem {
            KeyProblem::Short(len) => SecurityError::ShortKey {
                path: path.to_path_buf(),
                len,
            },
            KeyProblem::NotHeaderSafe => SecurityError::KeyNotHeaderSafe {
                path: path.to_path_buf(),
            },
        })
    }

    fn from_bytes(bytes: &[u8]) -> Result<PresharedKey, KeyProblem> {
        let key = bytes.trim_ascii();
        // An HTTP/2 header value: visible ASCII and inner spaces only.
        if !key.iter().all(|&b| b == b' ' || b.is_ascii_graphic()) {
            return Err(KeyProblem::NotHeaderSafe);
        }
        if key.len() < MIN_PSK_LEN {
            return Err(KeyProblem::Short(key.len()));
        }
        Ok(PresharedKey {
            digest: Sha256::digest(key).into(),
        })
    }

    /// Whether `candidate` is the key, in time independent of both.
    pub fn matches(&self, candidate: &[u8]) -> bool {
        let digest: [u8; 32] = Sha256::digest(candidate).into();
        let diff = digest
            .iter()
            .zip(self.digest.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        // black_box keeps the optimiser from turning the fold into an early exit.
        std::hint::black_box(diff) == 0
    }

    /// Checks a call's `authorization: Bearer <key>` metadata.
    pub fn check(&self, metadata: &MetadataMap) -> Result<(), Status> {
        let Some(value) = metadata.get("authorization") else {
            return Err(Status::unauthenticated(
                "missing credentials: send the pre-shared key as `authorization: Bearer <key>`",
            ));
        };
        let bytes = value.as_bytes();
        let candidate = match bytes.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case(b"bearer ") => &bytes[7..],
            _ => {
                return Err(Status::unauthenticated(
                    "authorization must be `Bearer <pre-shared key>`",
                ))
            }
        };
        if self.matches(candidate.trim_ascii()) {
            Ok(())
        } else {
            Err(Status::unauthenticated("wrong pre-shared key"))
        }
    }
}

enum KeyProblem {
    Short(usize),
    NotHeaderSafe,
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::metadata::MetadataValue;

    const KEY: &str = "0123456789abcdef-key";

    fn metadata(value: &str) -> MetadataMap {
        let mut m = MetadataMap::new();
        m.insert(
            "authorization",
            MetadataValue::try_from(value).expect("header value"),
        );
        m
    }

    #[test]
    fn the_key_is_checked_as_a_bearer_token() {
        let psk = PresharedKey::from_bytes(format!("{KEY}\n").as_bytes())
            .ok()
            .expect("key");
        assert!(psk.check(&metadata(&format!("Bearer {KEY}"))).is_ok());
        assert!(psk.check(&metadata(&format!("bearer {KEY}"))).is_ok());
        for (value, message) in [
            (format!("Bearer {KEY}x"), "wrong pre-shared key"),
            ("Bearer ".to_string(), "wrong pre-shared key"),
            (
                KEY.to_string(),
                "authorization must be `Bearer <pre-shared key>`",
            ),
            (
                format!("Basic {KEY}"),
                "authorization must be `Bearer <pre-shared key>`",
            ),
        ] {
            let status = psk.check(&metadata(&value)).expect_err(&value);
            assert_eq!(status.code(), tonic::Code::Unauthenticated, "{value}");
            assert_eq!(status.message(), message, "{value}");
        }
        let missing = psk.check(&MetadataMap::new()).expect_err("missing");
        assert_eq!(missing.code(), tonic::Code::Unauthenticated);
        assert!(missing.message().starts_with("missing credentials"));
    }

    #[test]
    fn short_or_unprintable_keys_are_refused() {
        assert!(matches!(
            PresharedKey::from_bytes(b"  short-key \n"),
            Err(KeyProblem::Short(9))
        ));
        assert!(matches!(
            PresharedKey::from_bytes(b"0123456789abcdef\x00"),
            Err(KeyProblem::NotHeaderSafe)
        ));
        assert!(matches!(
            PresharedKey::from_bytes("0123456789abcdéf".as_bytes()),
            Err(KeyProblem::NotHeaderSafe)
        ));
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let psk = PresharedKey::from_bytes(KEY.as_bytes()).ok().expect("key");
        assert_eq!(format!("{psk:?}"), "PresharedKey(<redacted>)");
    }

    #[test]
    fn tls_files_are_checked_with_the_file_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let cert_path = dir.path().join("cert.pem");
        let key_path = dir.path().join("key.pem");
        std::fs::write(&cert_path, cert.pem()).expect("write");
        std::fs::write(&key_path, key.serialize_pem()).expect("write");

        let config = load_tls(&cert_path, &key_path, None).expect("plain TLS");
        assert_eq!(config.alpn_protocols, vec![b"h2".to_vec()]);
        // The server's own certificate as the client CA: mutual TLS.
        load_tls(&cert_path, &key_path, Some(&cert_path)).expect("mutual TLS");

        let err = load_tls(&key_path, &key_path, None).expect_err("a key is no certificate");
        assert!(
            err.to_string()
                .contains("key.pem: no CERTIFICATE block found"),
            "{err}"
        );
        let err = load_tls(&cert_path, &cert_path, None).expect_err("a cert is no key");
        assert!(
            err.to_string().contains("cert.pem: no usable private key"),
            "{err}"
        );
        let missing = dir.path().join("missing.pem");
        let err = load_tls(&cert_path, &key_path, Some(&missing)).expect_err("missing CA");
        assert!(
            err.to_string().starts_with("read TLS client CA ")
                && err.to_string().contains("missing.pem"),
            "{err}"
        );
        let other = rcgen::KeyPair::generate().expect("key");
        let other_path = dir.path().join("other.pem");
        std::fs::write(&other_path, other.serialize_pem()).expect("write");
        let err = load_tls(&cert_path, &other_path, None).expect_err("mismatched key");
        assert!(
            err.to_string()
                .contains("do not make a usable certificate and key"),
            "{err}"
        );
    }
}
