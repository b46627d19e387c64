//! AutoMTLS. Terraform puts a throw-away client certificate in `PLUGIN_CLIENT_CERT` and presents it
//! on connect; we answer with a throw-away server certificate whose DER goes into the handshake.
//!
//! Terraform's certificate is ECDSA P-521 and marked CA:TRUE, which webpki refuses as a client leaf,
//! so instead of chain validation we pin it: the presented leaf must be byte-for-byte the one from
//! the environment, and its handshake signature is checked.
//!
//! All the cryptography is ring's (randomness, key exchange, our own P-256 key, signature
//! verification) except ECDSA P-521/SHA-512, which ring cannot verify: that one algorithm comes
//! from RustCrypto's pure-Rust `p521` ([`EcdsaP521Sha512`]). Verifying needs no randomness, and
//! unlike aws-lc-rs (which we used before) it brings no C library into the build.

use std::sync::{Arc, OnceLock};

use p521::ecdsa::signature::Verifier;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{ring, CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{
    alg_id, AlgorithmIdentifier, CertificateDer, InvalidSignature, PrivateKeyDer,
    PrivatePkcs8KeyDer, SignatureVerificationAlgorithm, UnixTime,
};
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

/// ECDSA on P-521 with SHA-512 (`ecdsa-with-SHA512` over a `secp521r1` key), what go-plugin's
/// client certificate signs the TLS handshake with.
#[derive(Debug)]
struct EcdsaP521Sha512;

impl SignatureVerificationAlgorithm for EcdsaP521Sha512 {
    /// `public_key` is the SubjectPublicKeyInfo's bit string, an uncompressed SEC1 point (ring
    /// accepts only that form for the other curves, and Go only writes it); `signature` is the
    /// DER `Ecdsa-Sig-Value` TLS and X.509 carry.
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        if public_key.first() != Some(&0x04) {
            return Err(InvalidSignature);
        }
        let key =
            p521::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(|_| InvalidSignature)?;
        let signature =
            p521::ecdsa::Signature::from_der(signature).map_err(|_| InvalidSignature)?;
        // Hashes `message` with SHA-512 and rejects high/zero scalars as the ecdsa crate does.
        key.verify(message, &signature)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_P521
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_SHA512
    }

    fn fips(&self) -> bool {
        false
    }
}

static ECDSA_P521_SHA512: &dyn SignatureVerificationAlgorithm = &EcdsaP521Sha512;
static ECDSA_P521_SHA512_ONLY: [&dyn SignatureVerificationAlgorithm; 1] = [ECDSA_P521_SHA512];

type SchemeMapping = (
    SignatureScheme,
    &'static [&'static dyn SignatureVerificationAlgorithm],
);

/// ring's verification algorithms and scheme mapping (ECDSA P-256/P-384, Ed25519, RSA-PSS and
/// RSA PKCS#1, which grpc-go's crypto/tls may offer) plus ECDSA P-521/SHA-512, advertised right
/// after the other ECDSA schemes. Built once per process; rustls wants `'static` slices.
fn supported_algorithms() -> WebPkiSupportedAlgorithms {
    static TABLES: OnceLock<(
        Vec<&'static dyn SignatureVerificationAlgorithm>,
        Vec<SchemeMapping>,
    )> = OnceLock::new();
    let (all, mapping) = TABLES.get_or_init(|| {
        let ring = ring::default_provider().signature_verification_algorithms;
        let mut all = ring.all.to_vec();
        all.push(ECDSA_P521_SHA512);
        let mut mapping: Vec<SchemeMapping> = ring
            .mapping
            .iter()
            .filter(|(scheme, _)| *scheme != SignatureScheme::ECDSA_NISTP521_SHA512)
            .copied()
            .collect();
        let after_ecdsa = mapping
            .iter()
            .rposition(|(scheme, _)| {
                matches!(
                    scheme,
                    SignatureScheme::ECDSA_NISTP256_SHA256 | SignatureScheme::ECDSA_NISTP384_SHA384
                )
            })
            .map_or(0, |i| i + 1);
        mapping.insert(
            after_ecdsa,
            (
                SignatureScheme::ECDSA_NISTP521_SHA512,
                &ECDSA_P521_SHA512_ONLY,
            ),
        );
        (all, mapping)
    });
    WebPkiSupportedAlgorithms { all, mapping }
}

fn crypto_provider() -> CryptoProvider {
    CryptoProvider {
        signature_verification_algorithms: supported_algorithms(),
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
    use p521::ecdsa::signature::Signer as _;
    use p521::elliptic_curve::rand_core::OsRng;
    use p521::pkcs8::DecodePrivateKey;
    use rustls::client::ResolvesClientCert;
    use rustls::pki_types::ServerName;
    use rustls::sign::CertifiedKey;
    use rustls::{ClientConfig, ClientConnection, ServerConnection, SupportedProtocolVersion};

    /// Shaped like the certificate go-plugin makes for Terraform (P-521, SHA-512, CA:TRUE).
    const TERRAFORM_CERT: &str = include_str!("../../tests/fixtures/terraform-client-p521.pem");
    const TERRAFORM_KEY: &str = include_str!("../../tests/fixtures/terraform-client-p521.key");

    fn client_pem() -> String {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("key");
        let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        params.self_signed(&key).expect("cert").pem()
    }

    fn terraform_key() -> p521::ecdsa::SigningKey {
        let der = PrivatePkcs8KeyDer::from_pem_slice(TERRAFORM_KEY.as_bytes()).expect("key PEM");
        let secret = p521::SecretKey::from_pkcs8_der(der.secret_pkcs8_der()).expect("P-521 key");
        p521::ecdsa::SigningKey::from_bytes(&secret.to_bytes()).expect("signing key")
    }

    fn uncompressed(key: &p521::ecdsa::SigningKey) -> Vec<u8> {
        p521::ecdsa::VerifyingKey::from(key)
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    fn der_signature(key: &p521::ecdsa::SigningKey, message: &[u8]) -> Vec<u8> {
        let signature: p521::ecdsa::Signature = key.sign(message);
        signature.to_der().as_bytes().to_vec()
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
    }

    #[test]
    fn a_p521_signature_verifies_and_a_tampered_one_does_not() {
        let key = p521::ecdsa::SigningKey::random(&mut OsRng);
        let public = uncompressed(&key);
        let message = b"TLS 1.3, client CertificateVerify";
        let signature = der_signature(&key, message);
        let alg = ECDSA_P521_SHA512;
        assert!(alg.verify_signature(&public, message, &signature).is_ok());

        // Another message, a flipped bit in the signature, another key: all refused.
        assert!(alg
            .verify_signature(&public, b"TLS 1.3, client CertificateVerifz", &signature)
            .is_err());
        let mut flipped = signature.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(alg.verify_signature(&public, message, &flipped).is_err());
        let stranger = uncompressed(&p521::ecdsa::SigningKey::random(&mut OsRng));
        assert!(alg
            .verify_signature(&stranger, message, &signature)
            .is_err());

        // Malformed inputs are refused, not panicked on.
        assert!(alg.verify_signature(&public, message, &[]).is_err());
        assert!(alg
            .verify_signature(&public, message, &signature[..signature.len() - 1])
            .is_err());
        assert!(alg
            .verify_signature(&public[..10], message, &signature)
            .is_err());
        let compressed = p521::ecdsa::VerifyingKey::from(&key).to_encoded_point(true);
        assert!(alg
            .verify_signature(compressed.as_bytes(), message, &signature)
            .is_err());
    }

    #[test]
    fn p521_is_advertised_next_to_rings_schemes() {
        let algorithms = crypto_provider().signature_verification_algorithms;
        let schemes = algorithms.supported_schemes();
        for scheme in [
            SignatureScheme::ECDSA_NISTP256_SHA256,
            SignatureScheme::ECDSA_NISTP384_SHA384,
            SignatureScheme::ECDSA_NISTP521_SHA512,
            SignatureScheme::ED25519,
            SignatureScheme::RSA_PSS_SHA256,
            SignatureScheme::RSA_PSS_SHA384,
            SignatureScheme::RSA_PSS_SHA512,
            SignatureScheme::RSA_PKCS1_SHA256,
            SignatureScheme::RSA_PKCS1_SHA384,
            SignatureScheme::RSA_PKCS1_SHA512,
        ] {
            assert!(schemes.contains(&scheme), "{scheme:?} not advertised");
        }
        let ecdsa = schemes
            .iter()
            .position(|s| *s == SignatureScheme::ECDSA_NISTP521_SHA512);
        assert_eq!(ecdsa, Some(2), "P-521 comes right after P-384 and P-256");
        assert!(algorithms.all.iter().any(|alg| {
            alg.public_key_alg_id() == alg_id::ECDSA_P521
                && alg.signature_alg_id() == alg_id::ECDSA_SHA512
        }));
        // The verifier advertises the same list.
        let verifier = PinnedClientCert {
            der: Vec::new(),
            algorithms,
        };
        assert_eq!(verifier.supported_verify_schemes(), schemes);
    }

    /// A TLS client that signs with a P-521 key, as grpc-go does for Terraform.
    #[derive(Debug)]
    struct P521Client(Arc<CertifiedKey>);

    impl ResolvesClientCert for P521Client {
        fn resolve(&self, _: &[&[u8]], _: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
            Some(self.0.clone())
        }

        fn has_certs(&self) -> bool {
            true
        }
    }

    struct P521Key(p521::ecdsa::SigningKey);

    impl std::fmt::Debug for P521Key {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("P521Key")
        }
    }

    impl rustls::sign::SigningKey for P521Key {
        fn choose_scheme(
            &self,
            offered: &[SignatureScheme],
        ) -> Option<Box<dyn rustls::sign::Signer>> {
            offered
                .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
                .then(|| Box::new(P521Key(self.0.clone())) as Box<dyn rustls::sign::Signer>)
        }

        fn algorithm(&self) -> rustls::SignatureAlgorithm {
            rustls::SignatureAlgorithm::ECDSA
        }
    }

    impl rustls::sign::Signer for P521Key {
        fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
            Ok(der_signature(&self.0, message))
        }

        fn scheme(&self) -> SignatureScheme {
            SignatureScheme::ECDSA_NISTP521_SHA512
        }
    }

    /// Runs a whole handshake in memory between `auto_mtls(TERRAFORM_CERT)` and a client that
    /// presents that certificate and signs with `key`, trusting only our server certificate
    /// (as go-plugin does). Returns the server side once both finished.
    fn handshake(
        key: p521::ecdsa::SigningKey,
        version: &'static SupportedProtocolVersion,
    ) -> Result<ServerConnection, rustls::Error> {
        let mtls = auto_mtls(TERRAFORM_CERT).expect("auto mtls");
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(mtls.server_cert_der.clone()))
            .expect("server certificate as a root");
        let client_cert = CertificateDer::from_pem_slice(TERRAFORM_CERT.as_bytes()).expect("pem");
        let certified = CertifiedKey::new(vec![client_cert], Arc::new(P521Key(key)));
        let mut config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_protocol_versions(&[version])
            .expect("version")
            .with_root_certificates(roots)
            .with_client_cert_resolver(Arc::new(P521Client(Arc::new(certified))));
        config.alpn_protocols = vec![b"h2".to_vec()];
        let name = ServerName::try_from("localhost").expect("name");
        let mut client = ClientConnection::new(Arc::new(config), name)?;
        let mut server = ServerConnection::new(mtls.config)?;
        for _ in 0..10 {
            let mut wire = Vec::new();
            while client.wants_write() {
                client.write_tls(&mut wire).expect("client write");
            }
            let mut rest = wire.as_slice();
            while !rest.is_empty() {
                server.read_tls(&mut rest).expect("server read");
                server.process_new_packets()?;
            }
            let mut wire = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut wire).expect("server write");
            }
            let mut rest = wire.as_slice();
            while !rest.is_empty() {
                client.read_tls(&mut rest).expect("client read");
                client.process_new_packets()?;
            }
            if !client.is_handshaking() && !server.is_handshaking() {
                return Ok(server);
            }
        }
        panic!("the handshake did not finish");
    }

    #[test]
    fn a_terraform_shaped_client_completes_the_handshake() {
        for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
            let server = handshake(terraform_key(), version)
                .unwrap_or_else(|e| panic!("{version:?} handshake: {e}"));
            let expected = CertificateDer::from_pem_slice(TERRAFORM_CERT.as_bytes()).expect("der");
            assert_eq!(server.peer_certificates(), Some(&[expected][..]));
            assert_eq!(server.alpn_protocol(), Some(&b"h2"[..]));
        }
    }

    #[test]
    fn the_pinned_certificate_with_another_key_is_refused() {
        for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
            let err = handshake(p521::ecdsa::SigningKey::random(&mut OsRng), version)
                .err()
                .map(|e| e.to_string());
            assert!(
                err.as_deref()
                    .is_some_and(|e| e.contains("BadSignature") || e.contains("signature")),
                "{version:?}: {err:?}"
            );
        }
    }
}
