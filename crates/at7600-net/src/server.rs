//! TCP servers started with `AT+SERVERSTART`.

use crate::backoff::AcceptBackoff;
use crate::config::NetConfig;
use crate::conn::{ConnEntry, Shared};
use crate::events::EventTx;
use crate::task::TaskCtx;
use crate::tcp;
use at7600_core::{ConnId, NetEvent};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// A newly accepted connection, handed to the handle so that commands can reach it.
pub(crate) type Registration = (ConnId, ConnEntry);

/// What a server task needs besides its listener.
pub(crate) struct ServerCtx {
    pub(crate) server: u8,
    pub(crate) events: EventTx,
    pub(crate) config: Arc<NetConfig>,
    pub(crate) next_accept: Arc<AtomicU64>,
    pub(crate) register: mpsc::UnboundedSender<Registration>,
    /// Where the accepted connections' tasks are counted (see `RealNetwork::shutdown`).
    pub(crate) tasks: tokio_util::task::TaskTracker,
    /// `AT+CTCPKA` as it was when the server started: accepted links are TCP links too.
    pub(crate) keepalive: Option<at7600_core::Keepalive>,
}

/// Accepts until `stop` fires or is dropped (`Unlisten`, or the modem ended).
pub(crate) async fn run(ctx: ServerCtx, listener: TcpListener, mut stop: oneshot::Receiver<()>) {
    let mut backoff = AcceptBackoff::new();
    loop {
        tokio::select! {
            _ = &mut stop => {
                tracing::debug!(server = ctx.server, "server stopped");
                return;
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, SocketAddr::V4(peer))) => {
                    backoff.succeeded("server");
                    if let Some(k) = &ctx.keepalive {
                        crate::keepalive::apply(&stream, k);
                    }
                    let conn = ConnId::accepted(ctx.next_accept.fetch_add(1, Ordering::Relaxed));
                    let shared = Arc::new(Shared::default());
                    let (tx, rx) = mpsc::unbounded_channel();
                    let entry = ConnEntry { tx, shared: shared.clone(), udp_fixed_remote: None };
                    // Registered before the core hears of it, so its first command finds it.
                    if ctx.register.send((conn, entry)).is_err() {
                        return;
                    }
                    tracing::debug!(server = ctx.server, %conn, %peer, "accepted");
                    ctx.events.send(NetEvent::Accepted { server: ctx.server, conn, peer });
                    let task = TaskCtx::new(conn, ctx.events.clone(), shared, rx, ctx.config.clone());
                    ctx.tasks.spawn(tcp::run_accepted(task, stream));
                }
                Ok((_, peer)) => tracing::debug!(server = ctx.server, %peer, "IPv6 client dropped"),
                Err(e) => {
                    // Out of descriptors, say: back off instead of spinning on the error.
                    let wait = backoff.failed("server", &e);
                    tokio::select! {
                        _ = &mut stop => return,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            },
        }
    }
}
