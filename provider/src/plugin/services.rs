//! go-plugin's side services: the controller (Shutdown), stdio and broker streams, and gRPC
//! health. Terraform never needs the stdio and broker streams to carry anything, but it opens
//! them, so they stay open until shutdown.

use coder_proto::plugin as pb;
use std::sync::Arc;

use tokio::sync::{mpsc, watch, Notify};
use tokio_stream::wrappers::ReceiverStream;
use tonic::codegen::BoxStream;
use tonic::{Request, Response, Status, Streaming};

/// Signals shutdown to every part of the server; level-triggered so late waiters see it too.
#[derive(Clone)]
pub struct Shutdown {
    tx: watch::Sender<bool>,
    /// A connection finished a flush after shutdown was requested.
    flushed: Arc<Notify>,
}

impl Shutdown {
    pub fn new() -> Self {
        Shutdown {
            tx: watch::channel(false).0,
            flushed: Arc::new(Notify::new()),
        }
    }

    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    pub async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        let _ = rx.wait_for(|down| *down).await;
    }

    /// Called by a connection each time everything written so far has been handed to the kernel.
    pub(crate) fn note_flush(&self) {
        if self.is_triggered() {
            // Stores a permit when nobody waits yet, so the flush is not missed.
            self.flushed.notify_one();
        }
    }

    /// Resolves once shutdown was requested and a connection has since flushed what it wrote:
    /// the reply to `Shutdown` is out. The runtime is single-threaded, and hyper hands the whole
    /// reply (headers, empty message, trailers) to h2 in the same task poll that runs the handler
    /// and triggers shutdown, so the next flush carries it. (Were the connection's flow-control
    /// window ever exhausted, the trailers could miss that flush: Terraform's `Shutdown` call
    /// would then fail, and go-plugin logs a warning and kills the process, which is exiting
    /// anyway.)
    pub async fn reply_flushed(&self) {
        self.wait().await;
        self.flushed.notified().await;
    }

    /// A stream that yields nothing and ends at shutdown.
    fn idle_stream<T: Send + 'static>(&self) -> ReceiverStream<Result<T, Status>> {
        let (tx, rx) = mpsc::channel(1);
        let me = self.clone();
        tokio::spawn(async move {
            me.wait().await;
            drop(tx);
        });
        ReceiverStream::new(rx)
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

pub struct Controller(pub Shutdown);

#[tonic::async_trait]
impl pb::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _request: Request<pb::Empty>) -> Result<Response<pb::Empty>, Status> {
        tracing::debug!("Terraform asked the provider to shut down");
        self.0.trigger();
        Ok(Response::new(pb::Empty {}))
    }
}

pub struct Stdio(pub Shutdown);

#[tonic::async_trait]
impl pb::grpc_stdio_server::GrpcStdio for Stdio {
    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<BoxStream<pb::StdioData>>, Status> {
        Ok(Response::new(Box::pin(self.0.idle_stream())))
    }
}

pub struct Broker(pub Shutdown);

#[tonic::async_trait]
impl pb::grpc_broker_server::GrpcBroker for Broker {
    async fn start_stream(
        &self,
        _request: Request<Streaming<pb::ConnInfo>>,
    ) -> Result<Response<BoxStream<pb::ConnInfo>>, Status> {
        Ok(Response::new(Box::pin(self.0.idle_stream())))
    }
}
