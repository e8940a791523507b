//! The event path from the sockets to the driver, with read credit.
//!
//! Events go through one unbounded channel so that their order is exactly the order in
//! which they were produced (control events are few and bounded by the core's own
//! commands). What must be bounded is received data: every `Data`/`Datagram` payload
//! first takes its length from the modem's read credit, and the credit comes back when
//! the driver takes the event. A modem whose driver stalls thus stops all its socket
//! reads, and TCP's window pushes back on the peers.

use at7600_core::NetEvent;
use std::sync::Arc;
use tokio::sync::{mpsc, Semaphore};

/// The sending side, cloned into every task of one modem.
#[derive(Clone, Debug)]
pub(crate) struct EventTx {
    tx: mpsc::UnboundedSender<NetEvent>,
    credit: Arc<Semaphore>,
}

impl EventTx {
    /// Sends an event that carries no received payload (never waits).
    pub(crate) fn send(&self, event: NetEvent) {
        // The driver having gone away is not an error here: the modem is ending.
        let _ = self.tx.send(event);
    }

    /// The semaphore that payload events take their credit from.
    pub(crate) fn credit(&self) -> &Arc<Semaphore> {
        &self.credit
    }

    /// Sends a payload event whose `len` bytes of credit the caller has already taken
    /// (and forgotten); [`NetEvents`] gives them back.
    pub(crate) fn send_paid(&self, event: NetEvent) {
        let _ = self.tx.send(event);
    }
}

/// The events of one modem's network, in the order they happened.
#[derive(Debug)]
pub struct NetEvents {
    rx: mpsc::UnboundedReceiver<NetEvent>,
    credit: Arc<Semaphore>,
}

impl NetEvents {
    /// The next event; `None` once the [`crate::NetHandle`] and all its tasks are gone.
    /// Cancel-safe (usable in `tokio::select!`).
    pub async fn recv(&mut self) -> Option<NetEvent> {
        let event = self.rx.recv().await?;
        self.repay(&event);
        Some(event)
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<NetEvent> {
        let event = self.rx.try_recv().ok()?;
        self.repay(&event);
        Some(event)
    }

    fn repay(&self, event: &NetEvent) {
        let len = payload_len(event);
        if len > 0 {
            self.credit.add_permits(len);
        }
    }
}

/// The credit a payload event costs.
pub(crate) fn payload_len(event: &NetEvent) -> usize {
    match event {
        NetEvent::Data { data, .. } | NetEvent::Datagram { data, .. } => data.len(),
        _ => 0,
    }
}

/// A new event path with `credit` bytes of read credit.
pub(crate) fn channel(credit: usize) -> (EventTx, NetEvents) {
    let (tx, rx) = mpsc::unbounded_channel();
    let credit = Arc::new(Semaphore::new(credit));
    (
        EventTx {
            tx,
            credit: credit.clone(),
        },
        NetEvents { rx, credit },
    )
}
