//! What the driver task and the sockets share: the ten links' receive buffers and
//! states, the servers' accept queues and the transparent stream. Guarded by one
//! `std` mutex, never held across an await.

use crate::error::{CchCode, CloseReason, Error};
use std::collections::VecDeque;
use std::net::SocketAddrV4;
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;
use tokio::sync::{mpsc, Notify};

/// The module's link count.
pub const LINKS: usize = 10;
/// The module's server count.
pub const SERVERS: usize = 4;
/// The SSL socket set's session count (ssl.md §1).
pub const SESSIONS: usize = 2;
/// The SSL context count (`AT+CSSLCFG`, 0-9).
pub const SSL_CONTEXTS: usize = 10;

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
    /// An SSL session in manual receive mode (`AT+CCHSET=<r>,1`): its data waits in
    /// the module's cache until `AT+CCHRECV` reads it.
    pub manual: bool,
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

/// A byte stream's slot in the shared state: a TCP/IP link or an SSL session.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Which {
    /// Link 0-9 (`AT+CIP*`).
    Link(u8),
    /// SSL session 0-1 (`AT+CCH*`).
    Session(u8),
}

impl Which {
    /// The slot in `st`.
    pub fn slot(self, st: &mut State) -> Option<&mut Link> {
        match self {
            Which::Link(n) => st.links.get_mut(usize::from(n)),
            Which::Session(n) => st.sessions.get_mut(usize::from(n)),
        }
    }

    /// The error a read or write on `l` (this slot) gets, if it failed.
    pub fn failure(self, l: &Link) -> Option<Error> {
        match self {
            Which::Link(link) => l.failure(link),
            Which::Session(session) => match l.phase {
                Phase::Failed(CloseReason::Other(code)) => Some(Error::SessionClosed {
                    session,
                    code: CchCode::from_code(code),
                }),
                Phase::Failed(_) => Some(Error::SessionClosed {
                    session,
                    code: None,
                }),
                Phase::NetworkLost => Some(Error::NetworkLost),
                _ => None,
            },
        }
    }

    /// The error a write gets on a slot that is not open (any more).
    pub fn not_open(self, l: &Link) -> Error {
        self.failure(l).unwrap_or(match self {
            Which::Link(link) => Error::LinkClosed {
                link,
                reason: CloseReason::Remote,
            },
            Which::Session(session) => Error::SessionClosed {
                session,
                code: Some(CchCode::PeerClosed),
            },
        })
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
    /// The SSL socket set's two sessions (ssl.md), kept like links.
    pub sessions: [Link; SESSIONS],
    /// The SSL service runs (`+CCHSTART: 0` seen, no stop since).
    pub cch_started: bool,
    /// `negotiatetime` per SSL context as last configured here, for the longest wait
    /// of an open; 0 means not configured here, i.e. the factory 300 s.
    pub negotiate_secs: [u16; SSL_CONTEXTS],
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

    /// Takes a free SSL session, in manual receive mode or not.
    pub fn allocate_session(&self, manual: bool) -> Option<u8> {
        let mut st = self.lock();
        let n = st.sessions.iter().position(|l| !l.used)?;
        st.sessions[n] = Link {
            used: true,
            manual,
            ..Link::default()
        };
        u8::try_from(n).ok()
    }

    /// Gives a link back.
    pub fn release(&self, link: u8) {
        self.release_slot(Which::Link(link));
    }

    /// Gives a link or session back.
    pub fn release_slot(&self, which: Which) {
        let mut st = self.lock();
        if let Some(l) = which.slot(&mut st) {
            l.wake();
            *l = Link::default();
        }
    }
}
