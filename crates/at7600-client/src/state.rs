//! What the driver task and the sockets share: the ten links' receive buffers and
//! states, the servers' accept queues and the transparent stream. Guarded by one
//! `std` mutex, never held across an await.

use crate::error::{CloseReason, Error};
use std::collections::VecDeque;
use std::net::SocketAddrV4;
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;
use tokio::sync::{mpsc, Notify};

/// The module's link count.
pub const LINKS: usize = 10;
/// The module's server count.
pub const SERVERS: usize = 4;

/// Where a link stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Phase {
    /// Not open (yet, or any more after a local close).
    #[default]
    Idle,
    /// Connected.
    Open,
    /// `+IPCLOSE: <n>,1`: EOF once the module's buffer is drained.
    RemoteClosed,
    /// Closed for another reason: reads and writes fail.
    Failed(CloseReason),
    /// `+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY`.
    NetworkLost,
}

/// One link as the host sees it.
#[derive(Debug, Default)]
pub struct Link {
    /// Allocated to a socket (or being opened/closed).
    pub used: bool,
    /// UDP: keep datagram boundaries.
    pub udp: bool,
    /// State.
    pub phase: Phase,
    /// TCP bytes received and not yet read by the application.
    pub rx: VecDeque<u8>,
    /// UDP datagrams received and not yet read, with the sender when known.
    pub datagrams: VecDeque<(Option<SocketAddrV4>, Vec<u8>)>,
    /// The module reported data (`+CIPRXGET: 1`) that has not been read out yet.
    pub in_module: bool,
    /// An `AT+CIPRXGET=2` (or `=4`) for this link is queued or running.
    pub read_queued: bool,
    /// The task waiting to read.
    pub reader: Option<Waker>,
}

impl Link {
    /// Bytes held on the host side.
    pub fn buffered(&self) -> usize {
        self.rx.len() + self.datagrams.iter().map(|(_, d)| d.len()).sum::<usize>()
    }

    /// The error a read or write on this link gets, if it failed.
    pub fn failure(&self, link: u8) -> Option<Error> {
        match self.phase {
            Phase::Failed(reason) => Some(Error::LinkClosed { link, reason }),
            Phase::NetworkLost => Some(Error::NetworkLost),
            _ => None,
        }
    }

    /// Whether a reader has seen everything: closed by the peer (or locally) with
    /// nothing left here or in the module.
    pub fn at_eof(&self) -> bool {
        matches!(self.phase, Phase::RemoteClosed | Phase::Idle)
            && !self.in_module
            && !self.read_queued
            && self.buffered() == 0
    }

    /// Wakes the reader.
    pub fn wake(&mut self) {
        if let Some(w) = self.reader.take() {
            w.wake();
        }
    }
}

/// The transparent stream's receive side.
#[derive(Debug, Default)]
pub struct Transparent {
    /// Connected in data mode (or escaped to command mode for a while).
    pub active: bool,
    /// Received bytes not yet read.
    pub rx: VecDeque<u8>,
    /// `CLOSED` seen.
    pub closed: bool,
    /// The reader.
    pub reader: Option<Waker>,
}

/// Everything shared.
#[derive(Debug, Default)]
pub struct State {
    /// The links.
    pub links: [Link; LINKS],
    /// Accept queues of the listening servers.
    pub servers: [Option<mpsc::UnboundedSender<(u8, SocketAddrV4)>>; SERVERS],
    /// Link 0 in transparent mode.
    pub transparent: Transparent,
    /// The driver task ended (line closed or failed).
    pub line_closed: bool,
}

/// The shared state and the driver's doorbell.
#[derive(Debug, Default)]
pub struct Shared {
    state: Mutex<State>,
    /// Rung when a reader drained its buffer and the module may hold more.
    pub kick: Notify,
}

impl Shared {
    /// Locks the state (a poisoned lock is still usable: the state stays consistent
    /// between statements).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a free link for a new socket.
    pub fn allocate(&self, udp: bool) -> Option<u8> {
        let mut st = self.lock();
        let n = st.links.iter().position(|l| !l.used)?;
        st.links[n] = Link {
            used: true,
            udp,
            ..Link::default()
        };
        u8::try_from(n).ok()
    }

    /// Gives a link back.
    pub fn release(&self, link: u8) {
        let mut st = self.lock();
        if let Some(l) = st.links.get_mut(usize::from(link)) {
            l.wake();
            *l = Link::default();
        }
    }
}
