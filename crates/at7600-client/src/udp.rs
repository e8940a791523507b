//! [`UdpSocket`]: one link as a datagram socket.

use crate::error::{Error, Result};
use crate::modem::{Inner, Modem};
use crate::tcp::{close_detached, open_link, send_chunk, MAX_SEND};
use std::future::poll_fn;
use std::net::SocketAddrV4;
use std::sync::Arc;
use std::task::Poll;

/// A UDP socket on one of the module's links (`AT+CIPOPEN=<n>,"UDP",,,<port>`).
///
/// Datagrams keep their boundaries: the module never merges two in one read. In buffer
/// access mode the module does not say who sent a datagram, so the sender is `None`;
/// in direct push mode (`Config::buffer_mode = false`) it comes from `RECV FROM`.
/// Datagrams larger than 1500 bytes are delivered in pieces. Dropping the socket
/// closes the link.
pub struct UdpSocket {
    inner: Arc<Inner>,
    link: u8,
}

impl std::fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpSocket")
            .field("link", &self.link)
            .finish()
    }
}

impl UdpSocket {
    /// Opens a UDP link bound to `local_port` on the module (the module requires one).
    pub async fn bind(modem: &Modem, local_port: u16) -> Result<UdpSocket> {
        let link = open_link(modem, true, &format!(",,{local_port}")).await?;
        Ok(UdpSocket {
            inner: modem.inner.clone(),
            link,
        })
    }

    /// The module's link number (0-9).
    pub fn link(&self) -> u8 {
        self.link
    }

    /// Sends one datagram of at most 1500 bytes to `dest`.
    pub async fn send_to(&self, data: &[u8], dest: SocketAddrV4) -> Result<()> {
        if data.is_empty() || data.len() > MAX_SEND {
            return Err(Error::Mode("a datagram must be 1-1500 bytes"));
        }
        let to = format!(",\"{}\",{}", dest.ip(), dest.port());
        send_chunk(self.inner.clone(), self.link, &to, data.to_vec()).await
    }

    /// Receives one datagram into `buf` (the rest of a longer one is dropped) and
    /// returns its length and sender, if known.
    pub async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, Option<SocketAddrV4>)> {
        poll_fn(|cx| {
            let mut st = self.inner.shared.lock();
            let line_closed = st.line_closed;
            let l = &mut st.links[usize::from(self.link)];
            if let Some((from, data)) = l.datagrams.pop_front() {
                let n = data.len().min(buf.len());
                buf[..n].copy_from_slice(&data[..n]);
                if l.in_module && !l.read_queued {
                    self.inner.shared.kick.notify_one();
                }
                return Poll::Ready(Ok((n, from)));
            }
            if let Some(e) = l.failure(self.link) {
                return Poll::Ready(Err(e));
            }
            if line_closed {
                return Poll::Ready(Err(Error::LineClosed));
            }
            l.reader = Some(cx.waker().clone());
            if l.in_module && !l.read_queued {
                self.inner.shared.kick.notify_one();
            }
            Poll::Pending
        })
        .await
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        close_detached(&self.inner, crate::state::Which::Link(self.link));
    }
}
