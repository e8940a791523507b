//! One of the ten links: its connection, its state and its receive buffer.

use crate::io::{ConnId, Instant, Protocol, SendOutcome};
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};

/// A buffer that has grown past this while busy is given its memory back once drained,
/// so 10,000 idle modems cost little.
const SHRINK_ABOVE: usize = 4096;

/// Where a link is in its life.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LinkState {
    /// TCP connect (or UDP bind) in progress.
    Opening,
    /// Established; data flows.
    Open,
    /// The peer closed it (or the network was lost); buffered data is still readable.
    PeerClosed,
    /// `AT+CIPCLOSE` was accepted; waiting for the backend to confirm.
    Closing,
}

/// A send waiting for its `+CIPSEND: <n>,<req>,<cnf>` report.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PendingSend {
    /// `<reqSendLength>`.
    pub req: usize,
    /// The link's sent total once this send is taken (for `AT+CIPSENDMODE=1`).
    pub sent_after: u64,
    /// What the stack made of it; `None` until `SendDone` arrives.
    pub outcome: Option<SendOutcome>,
    /// When waiting for the peer's ACK gives up (`AT+CIPSENDMODE=1`).
    pub deadline: Instant,
}

/// Received bytes waiting in buffer access mode. UDP datagrams keep their boundaries.
#[derive(Debug, Default)]
pub struct RxBuffer {
    bytes: VecDeque<u8>,
    /// For UDP: one entry per datagram (its remaining length and sender).
    datagrams: VecDeque<(usize, SocketAddrV4)>,
}

impl RxBuffer {
    /// Bytes waiting.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Appends a TCP segment.
    pub fn push_stream(&mut self, data: &[u8]) {
        self.bytes.extend(data);
    }

    /// Appends a datagram, keeping its boundary.
    pub fn push_datagram(&mut self, from: SocketAddrV4, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.bytes.extend(data);
        self.datagrams.push_back((data.len(), from));
    }

    /// Takes up to `max` bytes; a read never crosses a datagram boundary. Returns the
    /// bytes and, for UDP, the sender.
    pub fn take(&mut self, max: usize) -> (Vec<u8>, Option<SocketAddrV4>) {
        let (n, from) = match self.datagrams.front_mut() {
            Some((left, from)) => {
                let n = max.min(*left);
                let from = *from;
                *left -= n;
                if *left == 0 {
                    self.datagrams.pop_front();
                }
                (n, Some(from))
            }
            None => (max.min(self.bytes.len()), None),
        };
        let out: Vec<u8> = self.bytes.drain(..n).collect();
        if self.bytes.is_empty() && self.bytes.capacity() > SHRINK_ABOVE {
            self.bytes = VecDeque::new();
            self.datagrams = VecDeque::new();
        }
        (out, from)
    }

    /// Drops everything.
    pub fn clear(&mut self) {
        *self = RxBuffer::default();
    }
}

/// One link (0-9).
#[derive(Debug)]
pub struct Link {
    /// The connection behind it.
    pub conn: ConnId,
    /// TCP or UDP.
    pub protocol: Protocol,
    /// Its state.
    pub state: LinkState,
    /// The peer (TCP) or the fixed remote given at open (UDP; `0.0.0.0:0` if none).
    pub remote: SocketAddrV4,
    /// Whether a UDP link was opened with a fixed remote.
    pub has_remote: bool,
    /// The server index for an accepted socket, `None` for a client.
    pub server: Option<u8>,
    /// Whether this link is the transparent (data mode) link.
    pub transparent: bool,
    /// Received data in buffer access mode.
    pub rx: RxBuffer,
    /// Reading paused because the receive buffer is full.
    pub paused_rx: bool,
    /// Reading paused because the host is not taking output.
    pub paused_host: bool,
    /// Bytes taken by the network stack (`AT+CIPACK` `<sent_data_size>`).
    pub sent: u64,
    /// Bytes the peer acknowledged, as last reported.
    pub acked: u64,
    /// Bytes received (`AT+CIPACK` `<recv_data_size>`).
    pub received: u64,
    /// Sends waiting for their report, oldest first.
    pub pending_sends: VecDeque<PendingSend>,
    /// When the host asked for it (`AT+CIPOPEN`), for the open latency.
    pub since: Instant,
}

impl Link {
    /// A link being opened.
    pub fn new(conn: ConnId, protocol: Protocol) -> Self {
        Link {
            conn,
            protocol,
            state: LinkState::Opening,
            remote: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
            has_remote: false,
            server: None,
            transparent: false,
            rx: RxBuffer::default(),
            paused_rx: false,
            paused_host: false,
            sent: 0,
            since: Instant::ZERO,
            acked: 0,
            received: 0,
            pending_sends: VecDeque::new(),
        }
    }

    /// Whether the link can send and receive.
    pub fn is_open(&self) -> bool {
        self.state == LinkState::Open
    }

    /// Whether the network should be read for this link.
    pub fn paused(&self) -> bool {
        self.paused_rx || self.paused_host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)
    }

    #[test]
    fn a_read_never_merges_two_datagrams() {
        let mut rx = RxBuffer::default();
        rx.push_datagram(addr(1), b"hello");
        rx.push_datagram(addr(2), b"world!");
        assert_eq!(rx.take(100), (b"hello".to_vec(), Some(addr(1))));
        assert_eq!(rx.take(3), (b"wor".to_vec(), Some(addr(2))));
        assert_eq!(rx.len(), 3);
        assert_eq!(rx.take(100), (b"ld!".to_vec(), Some(addr(2))));
        assert!(rx.is_empty());
    }

    #[test]
    fn stream_reads_cross_segments() {
        let mut rx = RxBuffer::default();
        rx.push_stream(b"ab");
        rx.push_stream(b"cd");
        assert_eq!(rx.take(3), (b"abc".to_vec(), None));
        assert_eq!(rx.take(3), (b"d".to_vec(), None));
    }

    #[test]
    fn drained_buffer_gives_memory_back() {
        let mut rx = RxBuffer::default();
        rx.push_stream(&[7u8; 100_000]);
        let _ = rx.take(100_000);
        assert!(rx.bytes.capacity() <= SHRINK_ABOVE);
    }
}
