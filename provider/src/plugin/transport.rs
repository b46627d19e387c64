//! Where Terraform connects: a unix socket in a private directory, served in plaintext or behind
//! AutoMTLS, as a stream of connections for tonic.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;

use super::services::Shutdown;

/// A fresh 0700 directory holding the socket; removed (with the socket) when dropped.
pub struct SocketDir {
    dir: tempfile::TempDir,
}

impl SocketDir {
    /// In `PLUGIN_UNIX_SOCKET_DIR` when go-plugin asks for it, else the system temp dir.
    pub fn create(parent: Option<&Path>) -> io::Result<Self> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("plugin");
        let dir = match parent {
            Some(p) => builder.tempdir_in(p)?,
            None => builder.tempdir()?,
        };
        Ok(SocketDir { dir })
    }

    pub fn socket_path(&self) -> PathBuf {
        self.dir.path().join("plugin.sock")
    }
}

/// One accepted connection. Each completed flush is reported to [`Shutdown`], which is how the
/// server learns that its reply to `GRPCController/Shutdown` has reached the kernel.
pub struct Conn {
    stream: Stream,
    shutdown: Shutdown,
}

enum Stream {
    Plain(UnixStream),
    Tls(Box<TlsStream<UnixStream>>),
}

impl Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let conn = self.get_mut();
        let flushed = match &mut conn.stream {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        };
        if let Poll::Ready(Ok(())) = flushed {
            conn.shutdown.note_flush();
        }
        flushed
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Accepts connections forever; TLS handshakes run off the accept loop so a stalled client cannot
/// block others. Failed handshakes are logged and dropped (a rogue client gets nothing).
pub fn incoming(
    listener: UnixListener,
    tls: Option<Arc<ServerConfig>>,
    shutdown: Shutdown,
) -> ReceiverStream<io::Result<Conn>> {
    let (tx, rx) = mpsc::channel(16);
    let acceptor = tls.map(TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("accepting a connection failed: {e}");
                    continue;
                }
            };
            let tx = tx.clone();
            let shutdown = shutdown.clone();
            match &acceptor {
                None => {
                    let conn = Conn {
                        stream: Stream::Plain(stream),
                        shutdown,
                    };
                    if tx.send(Ok(conn)).await.is_err() {
                        return;
                    }
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        match acceptor.accept(stream).await {
                            Ok(tls) => {
                                let conn = Conn {
                                    stream: Stream::Tls(Box::new(tls)),
                                    shutdown,
                                };
                                let _ = tx.send(Ok(conn)).await;
                            }
                            Err(e) => tracing::warn!("TLS handshake with a client failed: {e}"),
                        }
                    });
                }
            }
        }
    });
    ReceiverStream::new(rx)
}
