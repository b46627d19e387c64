//! AutoMTLS against a rogue client. The provider is started with a `PLUGIN_CLIENT_CERT` as
//! Terraform starts it; then our own TLS client connects over the unix socket presenting the
//! announced certificate (works), a different certificate of the same shape (refused), no
//! certificate (refused), or no TLS at all (refused). The provider keeps serving the right
//! client after every refusal.

mod hardening_support;

use std::time::Duration;

use coder_proto::tfplugin6;
use hardening_support::Provider;
use hardening_support::{plain_channel, tls_channel, tls_connect, tls_connector, ClientIdentity};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What a rejected client sees: either the handshake itself fails, or (TLS 1.3, where the
/// client finishes before the server has checked its certificate) the first read returns
/// the server's alert or the closed connection instead of data.
async fn tls_session_refused(
    provider: &Provider,
    connector: &tokio_rustls::TlsConnector,
) -> String {
    let mut stream = match tls_connect(&provider.socket(), connector).await {
        Ok(stream) => stream,
        Err(e) => return format!("handshake failed: {e}"),
    };
    // The HTTP/2 client preface: a server that accepted us answers with a SETTINGS frame.
    let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";
    let _ = stream.write_all(preface).await;
    let _ = stream.flush().await;
    let mut buf = [0u8; 64];
    match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
        Ok(Ok(0)) => "connection closed without data".to_string(),
        Ok(Ok(n)) => panic!("a refused client got {n} bytes of HTTP/2 from the provider"),
        Ok(Err(e)) => format!("read failed: {e}"),
        Err(_) => panic!("the provider neither answered nor closed the connection in 5 s"),
    }
}

async fn schema_works(provider: &Provider, identity: &ClientIdentity) {
    let connector = tls_connector(&provider.server_cert_der(), Some(identity));
    let channel = tls_channel(provider.socket(), connector)
        .await
        .expect("the announced client certificate connects");
    let schema = tfplugin6::provider_client::ProviderClient::new(channel)
        .get_provider_schema(tfplugin6::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema over mTLS")
        .into_inner();
    assert!(schema.resource_schemas.contains_key("coder_agent"));
}

#[tokio::test]
async fn only_the_announced_client_certificate_gets_in() {
    let terraform = ClientIdentity::terraform_like();
    let rogue = ClientIdentity::terraform_like();
    let provider = Provider::start(Some(&terraform.pem), None);
    assert_eq!(provider.protocol_version(), "6", "{}", provider.handshake);
    let server_cert = provider.server_cert_der();

    // The right certificate works, and the server presents the certificate it announced.
    let stream = tls_connect(
        &provider.socket(),
        &tls_connector(&server_cert, Some(&terraform)),
    )
    .await
    .expect("handshake with the announced certificate");
    let presented = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|c| c.as_ref().to_vec());
    assert_eq!(presented.as_deref(), Some(server_cert.as_slice()));
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    drop(stream);
    schema_works(&provider, &terraform).await;

    // A different certificate of exactly the same shape is refused.
    let outcome = tls_session_refused(&provider, &tls_connector(&server_cert, Some(&rogue))).await;
    eprintln!("rogue certificate: {outcome}");
    assert!(
        outcome.contains("fatal alert"),
        "rogue certificate: {outcome}"
    );
    let rejected = tls_channel(provider.socket(), tls_connector(&server_cert, Some(&rogue))).await;
    if let Ok(channel) = rejected {
        let call = tfplugin6::provider_client::ProviderClient::new(channel)
            .get_provider_schema(tfplugin6::get_provider_schema::Request {})
            .await;
        assert!(call.is_err(), "a rogue client got the schema");
    }

    // No certificate at all is refused.
    let outcome = tls_session_refused(&provider, &tls_connector(&server_cert, None)).await;
    eprintln!("no certificate: {outcome}");
    assert!(
        outcome.contains("fatal alert: CertificateRequired"),
        "no certificate: {outcome}"
    );
    let rejected = tls_channel(provider.socket(), tls_connector(&server_cert, None)).await;
    if let Ok(channel) = rejected {
        let call = tfplugin6::provider_client::ProviderClient::new(channel)
            .get_provider_schema(tfplugin6::get_provider_schema::Request {})
            .await;
        assert!(
            call.is_err(),
            "a client without a certificate got the schema"
        );
    }

    // Plaintext gRPC on a TLS socket is refused.
    if let Ok(channel) = plain_channel(provider.socket()).await {
        let call = tokio::time::timeout(
            Duration::from_secs(5),
            tfplugin6::provider_client::ProviderClient::new(channel)
                .get_provider_schema(tfplugin6::get_provider_schema::Request {}),
        )
        .await;
        assert!(
            !matches!(call, Ok(Ok(_))),
            "a plaintext client got the schema from a TLS provider"
        );
    }

    // None of that took the provider down: Terraform's certificate still works.
    schema_works(&provider, &terraform).await;
}

#[tokio::test]
async fn a_client_pinning_another_server_certificate_does_not_connect() {
    // The other direction of AutoMTLS: Terraform trusts only the certificate in the handshake,
    // so a provider impersonated by another process (another server key) is not accepted.
    let terraform = ClientIdentity::terraform_like();
    let provider = Provider::start(Some(&terraform.pem), None);
    let other = Provider::start(Some(&terraform.pem), None);
    let wrong_pin = tls_connector(&other.server_cert_der(), Some(&terraform));
    let err = tls_connect(&provider.socket(), &wrong_pin)
        .await
        .expect_err("a server certificate other than the announced one must be refused");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
}
