//! AutoMTLS. Terraform puts a throw-away client certificate in `PLUGIN_CLIENT_CERT` and presents it
//! on connect; we answer with a throw-away server certificate whose DER goes into the handshake.
//!
//! Terraform's certificate is ECDSA P-521 and marked CA:TRUE, which webpki refuses as a client leaf,
//! so instead of chain validation we pin it: the presented leaf must be byte-for-byte the one from
//! the environment, and its handshake signature is checked with aws-lc-rs (which, unlike ring,
//! verifies P-521/SHA-512).
//!
//! Everything else (randomness, key exchange, our own key) uses ring: aws-lc seeds its random
//! generator from CPU jitter on first use, which costs ~30 ms in every one of the several provider
//! processes Terraform starts per command. Verifying a signature needs no randomness.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{aws_lc_rs, ring, CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("PLUGIN_CLIENT_CERT does not hold a PEM certificate: {0}")]
    ClientCert(String),
    #[error("could not generate the server certificate: {0}")]
    ServerCert(#[from] rcgen::Error),
    #[error("could not build the TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

pub struct AutoMtls {
    pub config: Arc<ServerConfig>,
    pub server_cert_der: Vec<u8>,
}

#[derive(Debug)]
struct PinnedClientCert {
    der: Vec<u8>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "client certificate is not the one Terraform announced in PLUGIN_CLIENT_CERT"
                    .into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

fn crypto_provider() -> CryptoProvider {
    CryptoProvider {
        signature_verification_algorithms: aws_lc_rs::default_provider()
            .signature_verification_algorithms,
        ..ring::default_provider()
    }
}

/// Builds the server side of AutoMTLS for the client certificate PEM Terraform passed us.
pub fn auto_mtls(client_cert_pem: &str) -> Result<AutoMtls, TlsError> {
    let client = CertificateDer::from_pem_slice(client_cert_pem.as_bytes())
        .map_err(|e| TlsError::ClientCert(e.to_string()))?;
    let provider = crypto_provider();
    let verifier = PinnedClientCert {
        der: client.as_ref().to_vec(),
        algorithms: provider.signature_verification_algorithms,
    };

    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyAgreement,
    ];
    // Clock skew between the two processes is nil, but go-plugin backdates too.
    let now = std::time::SystemTime::now();
    params.not_before = (now - std::time::Duration::from_secs(30)).into();
    params.not_after = (now + std::time::Duration::from_secs(60 * 60 * 24 * 365 * 30)).into();
    let cert = params.self_signed(&key)?;
    let server_cert_der = cert.der().to_vec();

    let mut config = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(
            vec![CertificateDer::from(server_cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )?;
    // grpc-go refuses TLS peers that do not negotiate h2 via ALPN.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(AutoMtls {
        config: Arc::new(config),
        server_cert_der,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_pem() -> String {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("key");
        let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        params.self_signed(&key).expect("cert").pem()
    }

    #[test]
    fn builds_config_with_h2_and_a_server_cert() {
        let mtls = auto_mtls(&client_pem()).expect("auto mtls");
        assert_eq!(mtls.config.alpn_protocols, vec![b"h2".to_vec()]);
        assert!(!mtls.server_cert_der.is_empty());
    }

    #[test]
    fn garbage_client_cert_is_a_clear_error() {
        let err = auto_mtls("not a certificate").err().map(|e| e.to_string());
        assert!(err
            .is_some_and(|e| e.starts_with("PLUGIN_CLIENT_CERT does not hold a PEM certificate")));
    }

    #[test]
    fn only_the_pinned_certificate_is_accepted() {
        let pem = client_pem();
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).expect("der");
        let verifier = PinnedClientCert {
            der: der.as_ref().to_vec(),
            algorithms: crypto_provider().signature_verification_algorithms,
        };
        let now = UnixTime::now();
        assert!(verifier.verify_client_cert(&der, &[], now).is_ok());
        let other = CertificateDer::from_pem_slice(client_pem().as_bytes()).expect("der");
        assert!(verifier.verify_client_cert(&other, &[], now).is_err());
        assert!(verifier
            .supported_verify_schemes()
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    }
}
