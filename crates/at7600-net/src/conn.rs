//! What the handle and a connection's task share: commands, the send queue and its
//! accounting.

use std::collections::VecDeque;
use std::net::SocketAddrV4;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// A command from the handle to one connection's task.
#[derive(Debug)]
pub(crate) enum Cmd {
    /// Bytes to send (TCP), already counted in [`Shared::queued`].
    Data(Vec<u8>),
    /// One datagram to send (UDP), already counted in [`Shared::queued`].
    Datagram(SocketAddrV4, Vec<u8>),
    /// Stop reading the socket.
    Pause,
    /// Read the socket again.
    Resume,
    /// Answer `AckStatus`.
    QueryAck,
    /// Flush, shut down, answer `Closed` and end.
    Close,
}

/// State that the handle reads synchronously to answer a send at once.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Bytes accepted by the handle and not yet taken by the kernel.
    pub(crate) queued: AtomicUsize,
    /// False once the connection can no longer send (peer closed, reset, failed open).
    pub(crate) dead: AtomicBool,
    /// A send was answered `Full`; `Writable` is owed once the queue drains.
    pub(crate) full: AtomicBool,
}

impl Shared {
    /// Takes `n` bytes into the queue if they fit under `cap`; false if they don't.
    pub(crate) fn reserve(&self, n: usize, cap: usize) -> bool {
        self.queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
                q.checked_add(n).filter(|&total| total <= cap)
            })
            .is_ok()
    }

    /// `n` queued bytes went to the kernel (or were dropped).
    pub(crate) fn release(&self, n: usize) {
        // SeqCst: see `NetHandle::send_done`, which must not miss a drained queue.
        let _ = self
            .queued
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |q| {
                Some(q.saturating_sub(n))
            });
    }

    pub(crate) fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }

    pub(crate) fn set_dead(&self) {
        self.dead.store(true, Ordering::Release);
    }
}

/// The handle's end of one connection.
#[derive(Debug)]
pub(crate) struct ConnEntry {
    pub(crate) tx: mpsc::UnboundedSender<Cmd>,
    pub(crate) shared: Arc<Shared>,
    /// For UDP: whether `Send` has a fixed remote to go to. `None` for TCP.
    pub(crate) udp_fixed_remote: Option<bool>,
}

/// Bytes waiting for the kernel, as the chunks the core sent (so nothing is copied and
/// the memory goes away as soon as a chunk is written).
#[derive(Debug, Default)]
pub(crate) struct SendQueue {
    chunks: VecDeque<Vec<u8>>,
    /// How much of the front chunk is already written.
    head: usize,
}

impl SendQueue {
    pub(crate) fn push(&mut self, data: Vec<u8>) {
        if !data.is_empty() {
            self.chunks.push_back(data);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The bytes to write next.
    pub(crate) fn front(&self) -> &[u8] {
        self.chunks.front().map_or(&[], |c| &c[self.head..])
    }

    /// `n` bytes of [`SendQueue::front`] were written.
    pub(crate) fn advance(&mut self, n: usize) {
        self.head += n;
        if self.chunks.front().is_some_and(|c| self.head >= c.len()) {
            self.chunks.pop_front();
            self.head = 0;
            self.shrink();
        }
    }

    /// Drops everything; returns how many bytes were dropped.
    pub(crate) fn clear(&mut self) -> usize {
        let n = self.chunks.iter().map(Vec::len).sum::<usize>() - self.head;
        self.chunks.clear();
        self.head = 0;
        self.shrink();
        n
    }

    fn shrink(&mut self) {
        if self.chunks.is_empty() && self.chunks.capacity() > 8 {
            self.chunks.shrink_to_fit();
        }
    }
}
