//! What every connection task carries: its identity, the way back to the driver, and
//! the bookkeeping shared with the handle.

use crate::config::NetConfig;
use crate::conn::{Cmd, Shared};
use crate::events::EventTx;
use at7600_core::{ConnId, NetEvent};
use std::sync::Arc;
use tokio::sync::mpsc;

/// The parts of a connection task that do not depend on the socket type.
pub(crate) struct TaskCtx {
    pub(crate) conn: ConnId,
    pub(crate) events: EventTx,
    pub(crate) shared: Arc<Shared>,
    pub(crate) cmds: mpsc::UnboundedReceiver<Cmd>,
    pub(crate) config: Arc<NetConfig>,
    peer_closed_sent: bool,
}

impl TaskCtx {
    pub(crate) fn new(
        conn: ConnId,
        events: EventTx,
        shared: Arc<Shared>,
        cmds: mpsc::UnboundedReceiver<Cmd>,
        config: Arc<NetConfig>,
    ) -> Self {
        TaskCtx {
            conn,
            events,
            shared,
            cmds,
            config,
            peer_closed_sent: false,
        }
    }

    pub(crate) fn send(&self, event: NetEvent) {
        self.events.send(event);
    }

    /// `n` queued bytes went to the kernel; owes `Writable` if a send was refused and
    /// the queue is now empty.
    pub(crate) fn written(&self, n: usize) {
        use std::sync::atomic::Ordering;
        self.shared.release(n);
        if self.shared.queued.load(Ordering::SeqCst) == 0
            && self.shared.full.swap(false, Ordering::SeqCst)
        {
            self.send(NetEvent::Writable { conn: self.conn });
        }
    }

    /// The connection can no longer send: what `queue` holds is dropped (and counted
    /// out), further sends are refused.
    pub(crate) fn discard(&self, queue: &mut crate::conn::SendQueue) {
        self.shared.release(queue.clear());
        self.shared.set_dead();
    }

    /// The connection can no longer be used: report it once and refuse further sends.
    pub(crate) fn peer_closed(&mut self) {
        self.shared.set_dead();
        if !self.peer_closed_sent {
            self.peer_closed_sent = true;
            tracing::debug!(conn = %self.conn, "peer closed");
            self.send(NetEvent::PeerClosed { conn: self.conn });
        }
    }

    /// After a failed open the task ends; commands that were already on their way still
    /// get their answers (later ones are answered by the handle, which sees the channel
    /// closed).
    pub(crate) fn finish_failed_open(mut self) {
        self.shared.set_dead();
        self.cmds.close();
        while let Ok(cmd) = self.cmds.try_recv() {
            match cmd {
                Cmd::Data(d) | Cmd::Datagram(_, d) => self.shared.release(d.len()),
                Cmd::QueryAck => self.send(NetEvent::AckStatus {
                    conn: self.conn,
                    acked: 0,
                }),
                Cmd::Close => self.send(NetEvent::Closed { conn: self.conn }),
                Cmd::Pause | Cmd::Resume => {}
            }
        }
    }
}
