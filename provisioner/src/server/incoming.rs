//! Accepted connections for tonic, TCP or unix, plaintext or TLS. TLS handshakes run off the
//! accept loop, each bounded in time, so a client that stalls cannot keep others out.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// How long a client may take to finish its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A byte stream tonic can serve.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// One accepted connection, with its addresses when it came over TCP (so `Request::remote_addr`
/// works for logs).
pub struct Conn {
    io: Box<dyn Io>,
    info: TcpConnectInfo,
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;
    fn connect_info(&self) -> TcpConnectInfo {
        self.info.clone()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Something that accepts byte streams: a TCP or unix listener.
pub trait Accept: Send + 'static {
    type Stream: Io;
    fn accept(
        &self,
    ) -> impl std::future::Future<Output = io::Result<(Self::Stream, TcpConnectInfo)>> + Send;
}

impl Accept for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;
    async fn accept(&self) -> io::Result<(tokio::net::TcpStream, TcpConnectInfo)> {
        let (stream, remote) = tokio::net::TcpListener::accept(self).await?;
        // gRPC streams many small messages; Nagle's algorithm would hold them back.
        let _ = stream.set_nodelay(true);
        let info = TcpConnectInfo {
            local_addr: stream.local_addr().ok(),
            remote_addr: Some(remote),
        };
        Ok((stream, info))
    }
}

impl Accept for tokio::net::UnixListener {
    type Stream = tokio::net::UnixStream;
    async fn accept(&self) -> io::Result<(tokio::net::UnixStream, TcpConnectInfo)> {
        let (stream, _) = tokio::net::UnixListener::accept(self).await?;
        let info = TcpConnectInfo {
            local_addr: None,
            remote_addr: None,
        };
        Ok((stream, info))
    }
}

/// Accepts connections until the returned stream is dropped.
pub fn incoming<L: Accept>(
    listener: L,
    tls: Option<Arc<ServerConfig>>,
) -> ReceiverStream<io::Result<Conn>> {
    let (tx, rx) = mpsc::channel(32);
    let acceptor = tls.map(TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                // The server stopped: stop accepting (and release the listener).
                _ = tx.closed() => return,
            };
            let (stream, info) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            match &acceptor {
                None => {
                    let conn = Conn {
                        io: Box::new(stream),
                        info,
                    };
                    if tx.send(Ok(conn)).await.is_err() {
                        return;
                    }
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        let peer = info
                            .remote_addr
                            .map(|a| a.to_string())
                            .unwrap_or_else(|| "unix socket".to_string());
                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                        {
                            Ok(Ok(tls)) => {
                                let conn = Conn {
                                    io: Box::new(tls),
                                    info,
                                };
                                let _ = tx.send(Ok(conn)).await;
                            }
                            Ok(Err(e)) => {
                                tracing::warn!(%peer, "TLS handshake failed: {e}")
                            }
                            Err(_) => tracing::warn!(
                                %peer,
                                "TLS handshake not finished after {HANDSHAKE_TIMEOUT:?}; connection dropped"
                            ),
                        }
                    });
                }
            }
        }
    });
    ReceiverStream::new(rx)
}
