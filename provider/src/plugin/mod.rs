//! go-plugin transport and the tfplugin5/6 adapters. Knows nothing about Coder: it serves any
//! [`ProviderServer`].
//!
//! Lifecycle: check the magic cookie, negotiate the protocol version, bind a unix socket in a
//! private directory, set up AutoMTLS when Terraform sent a client certificate, print the
//! handshake line, build the provider, serve until `GRPCController/Shutdown`, remove the socket,
//! exit.
//!
//! Terraform starts a provider process about three times per command (schema, validate, plan or
//! apply walk) and waits on each one, so the process's own fixed costs are paid per launch:
//! whatever Terraform does not need to see before the handshake line (the provider's schemas,
//! the gRPC router) is built after it, while Terraform connects; and once the reply to
//! `Shutdown` is out, the process removes its socket and exits without waiting for Terraform to
//! hang up or tearing the runtime down, since Terraform waits for the exit.

pub mod dispatch;
pub mod handshake;
pub mod logging;
pub mod protocol;
pub mod services;
pub mod tls;
pub mod transport;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use coder_proto::plugin as pb;
use tokio::net::UnixListener;
use tokio::signal::unix::{signal, SignalKind};

use crate::schema::ProviderServer;

use dispatch::Dispatcher;
use services::Shutdown;

pub struct ServeOptions {
    /// Registry address, e.g. `registry.terraform.io/coder/coder`, for `-debug` output.
    pub provider_address: &'static str,
    /// Reattach mode: no cookie, no TLS, serve until interrupted, print `TF_REATTACH_PROVIDERS`.
    pub debug: bool,
    /// The process that started us (Terraform), read as early as possible; when it goes away
    /// without calling Shutdown, we exit.
    pub parent_pid: u32,
}

#[derive(Debug, thiserror::Error)]
enum ServeError {
    #[error("{0}")]
    Version(#[from] handshake::VersionError),
    #[error("cannot create the plugin socket: {0}")]
    Socket(std::io::Error),
    #[error("{0}")]
    Tls(#[from] tls::TlsError),
    #[error("cannot write the handshake to stdout: {0}")]
    Stdout(std::io::Error),
    #[error("gRPC server failed: {0}")]
    Grpc(#[from] tonic::transport::Error),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Serves the provider `make_core` builds as a Terraform plugin; returns the process exit code.
/// `make_core` runs after the handshake line is out.
pub fn serve(
    make_core: impl FnOnce() -> Arc<dyn ProviderServer>,
    options: ServeOptions,
) -> ExitCode {
    logging::init();
    if !options.debug {
        let cookie = std::env::var(handshake::MAGIC_COOKIE_KEY).ok();
        if !handshake::cookie_is_valid(cookie.as_deref()) {
            eprintln!("{}", handshake::NOT_A_STANDALONE_PROGRAM);
            return ExitCode::from(1);
        }
    }
    // One thread is plenty: every handler is a short computation, and startup time and memory
    // are what Terraform pays for each of the several provider processes per command.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime);
    let result = runtime.and_then(|rt| {
        let result = rt.block_on(run(make_core, options));
        // Dropping the runtime would only run the destructors of tasks still parked on the
        // connection (about 0.3 ms); the socket is already removed, and the exit closes the rest.
        std::mem::forget(rt);
        result
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("terraform-provider-coder: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(
    make_core: impl FnOnce() -> Arc<dyn ProviderServer>,
    options: ServeOptions,
) -> Result<(), ServeError> {
    // In debug mode nobody negotiates: Terraform reattaches with whatever we announce.
    let offered = if options.debug {
        Some("5,6".to_string())
    } else {
        std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok()
    };
    let version = handshake::negotiate_version(
        offered.as_deref(),
        std::env::var(handshake::VERSION_OVERRIDE_ENV)
            .ok()
            .as_deref(),
    )?;
    let socket_parent = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR").map(std::path::PathBuf::from);
    let socket_dir =
        transport::SocketDir::create(socket_parent.as_deref()).map_err(ServeError::Socket)?;
    let socket_path = socket_dir.socket_path();
    let listener = UnixListener::bind(&socket_path).map_err(ServeError::Socket)?;

    let client_cert = std::env::var("PLUGIN_CLIENT_CERT")
        .ok()
        .filter(|c| !c.trim().is_empty());
    let mtls = match client_cert {
        Some(pem) if !options.debug => Some(tls::auto_mtls(&pem)?),
        _ => None,
    };

    let shutdown = Shutdown::new();

    let address = socket_path.display().to_string();
    if options.debug {
        print_reattach_instructions(options.provider_address, version, &address);
        let interrupt = shutdown.clone();
        if let Ok(mut sigint) = signal(SignalKind::interrupt()) {
            tokio::spawn(async move {
                sigint.recv().await;
                interrupt.trigger();
            });
        }
    } else {
        // Ctrl-C reaches the whole process group; Terraform stops providers through
        // StopProvider instead, so a plugin must survive SIGINT.
        if let Ok(mut sigint) = signal(SignalKind::interrupt()) {
            tokio::spawn(async move { while sigint.recv().await.is_some() {} });
        }
        // A Terraform that dies without calling Shutdown (killed, broken pipe) must not leave
        // us running forever: when we are re-parented, the session is over.
        // (When our parent is init from the start, e.g. Terraform as PID 1 in a container,
        // there is nothing to watch.)
        let orphaned = shutdown.clone();
        let parent = options.parent_pid;
        tokio::spawn(async move {
            if parent <= 1 {
                return;
            }
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tick.tick().await;
                if std::os::unix::process::parent_id() != parent {
                    tracing::warn!(
                        "Terraform went away without shutting the provider down; exiting"
                    );
                    orphaned.trigger();
                    return;
                }
            }
        });
        let line = handshake::handshake_line(
            version,
            "unix",
            &address,
            mtls.as_ref().map(|m| m.server_cert_der.as_slice()),
        );
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}")
            .and_then(|_| stdout.flush())
            .map_err(ServeError::Stdout)?;
    }

    // Terraform connects and starts the TLS handshake meanwhile; the client hello waits in the
    // socket until the server runs.
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let dispatcher = Arc::new(Dispatcher::new(make_core()));
    let router = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(pb::grpc_controller_server::GrpcControllerServer::new(
            services::Controller(shutdown.clone()),
        ))
        .add_service(pb::grpc_stdio_server::GrpcStdioServer::new(
            services::Stdio(shutdown.clone()),
        ))
        .add_service(pb::grpc_broker_server::GrpcBrokerServer::new(
            services::Broker(shutdown.clone()),
        ));
    let router = if version == 5 {
        router.add_service(protocol::tfplugin5::service(dispatcher))
    } else {
        router.add_service(protocol::tfplugin6::service(dispatcher))
    };

    let incoming = transport::incoming(listener, mtls.map(|m| m.config), shutdown.clone());
    let stop = shutdown.clone();
    let serving = router.serve_with_incoming_shutdown(incoming, async move { stop.wait().await });
    tokio::pin!(serving);
    let debug = options.debug;
    tokio::select! {
        result = &mut serving => result?,
        // Terraform waits for the process to exit after Shutdown returns (go-plugin's Kill), and
        // nothing follows the reply: leave as soon as it has reached the kernel. In debug mode
        // the server stops gracefully instead.
        _ = shutdown.reply_flushed(), if !debug => {}
        // Don't let a lingering stream keep the process (and Terraform) waiting.
        _ = async {
            shutdown.wait().await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        } => {}
    }
    drop(socket_dir);
    Ok(())
}

fn print_reattach_instructions(address: &str, version: u32, socket: &str) {
    let reattach = serde_json::json!({
        address: {
            "Protocol": "grpc",
            "ProtocolVersion": version,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": { "Network": "unix", "String": socket },
        }
    });
    println!(
        "Provider started in debug mode. To attach Terraform, set TF_REATTACH_PROVIDERS in the\n\
         environment of your terraform commands:\n\n\
         \tTF_REATTACH_PROVIDERS='{reattach}'\n\n\
         Press Ctrl-C to stop the provider."
    );
}
