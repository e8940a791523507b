//! [`TcpStream`]: one link as a tokio byte stream.

use crate::driver::Claim;
use crate::error::{Error, Result};
use crate::modem::{check_code, Cmd, Inner, Modem};
use crate::state::{Phase, Which};
use crate::urc::Urc;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::ReadBuf;
use tokio::time::Instant;

/// Largest payload of one `AT+CIPSEND`.
pub(crate) const MAX_SEND: usize = 1500;

pub(crate) type Pending<T> = Pin<Box<dyn Future<Output = Result<T>> + Send>>;

/// A TCP connection through one of the module's links.
///
/// Reads come from the link's buffer (`AT+CIPRXGET=2`), read ahead by the driver up to
/// [`crate::Config::rx_window`] bytes. Writes go out in `AT+CIPSEND=<n>,<len>` chunks
/// of at most 1500 bytes, each complete once `+CIPSEND: <n>,<len>,<len>` confirms it.
/// A full send buffer (`+CIPSEND: <n>,<len>,0`, a slow peer or link) is back-pressure:
/// the write waits and offers the chunk again, up to [`crate::Config::cipsend_timeout`].
/// A clean close by the peer reads as EOF after the buffered data; any other close is
/// an error. Dropping the stream closes the link.
pub struct TcpStream {
    inner: Arc<Inner>,
    link: u8,
    writer: ChunkWriter,
}

impl std::fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpStream")
            .field("link", &self.link)
            .finish()
    }
}

/// Frees a link (session) allocated for an open that did not complete.
pub(crate) struct OpenGuard<'a> {
    pub inner: &'a Arc<Inner>,
    pub which: Which,
    /// Whether the module may hold the link (then it is closed with `AT+CIPCLOSE`).
    pub may_be_open: bool,
    pub armed: bool,
}

impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if self.may_be_open {
            close_detached(self.inner, self.which);
        } else {
            self.inner.shared.release_slot(self.which);
        }
    }
}

/// `AT+CIPCLOSE` (`AT+CCHCLOSE`) in the background; the link (session) is freed once
/// the module answers.
pub(crate) fn close_detached(inner: &Arc<Inner>, which: Which) {
    let inner2 = inner.clone();
    let cmd = close_cmd(inner, which);
    // The release must follow the answer, so run it on a task.
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => {
            rt.spawn(async move {
                let _ = inner2.run(cmd).await;
                inner2.shared.release_slot(which);
            });
        }
        Err(_) => {
            inner.run_detached(cmd);
        }
    }
}

/// The command that closes `which`, waiting for its report.
pub(crate) fn close_cmd(inner: &Inner, which: Which) -> Cmd {
    let t = inner.config.cipopen_timeout;
    match which {
        Which::Link(n) => Cmd::new(format!("AT+CIPCLOSE={n}"), t).then(Claim::CipClose(n)),
        Which::Session(s) => Cmd::new(format!("AT+CCHCLOSE={s}"), t).then(Claim::CchClose(s)),
    }
}

/// `AT+CIPOPEN` for TCP or UDP; returns the link once `+CIPOPEN: <n>,0` came.
pub(crate) async fn open_link(modem: &Modem, udp: bool, args: &str) -> Result<u8> {
    let inner = &modem.inner;
    let link = inner.shared.allocate(udp).ok_or(Error::NoFreeLink)?;
    let mut guard = OpenGuard {
        inner,
        which: Which::Link(link),
        may_be_open: true,
        armed: true,
    };
    let kind = if udp { "UDP" } else { "TCP" };
    let command = format!("AT+CIPOPEN={link},\"{kind}\",{args}");
    let cmd = Cmd::new(command.clone(), inner.config.cipopen_timeout).then(Claim::CipOpen(link));
    let result = inner.run(cmd).await;
    let ans = match result {
        Ok(ans) => ans,
        Err(e) => {
            // Refused outright: the module did not take the link. A timeout leaves
            // it unknown, so close it to be sure.
            guard.may_be_open = matches!(e, Error::Timeout { .. });
            return Err(e);
        }
    };
    // UDP answers `+CIPOPEN` before `OK`; TCP after it.
    let report = ans
        .urc
        .clone()
        .or_else(|| ans.lines.iter().find_map(|l| crate::urc::parse_urc(l)));
    let err = match report {
        Some(Urc::CipOpen { err, .. }) => Some(err),
        _ => None,
    };
    match err {
        Some(0) => {
            // The line's task may already have seen this link close (`+IPCLOSE` right
            // behind `+CIPOPEN`, or a lost network): only a link still opening opens.
            let mut st = inner.shared.lock();
            let l = &mut st.links[usize::from(link)];
            if l.phase == Phase::Idle {
                l.phase = Phase::Open;
            }
            drop(st);
            guard.armed = false;
            Ok(link)
        }
        Some(err) => {
            guard.may_be_open = false;
            match check_code(&command, err) {
                Err(Error::Code { code, .. }) => Err(Error::Connect { link, code }),
                Err(e) => Err(e),
                Ok(()) => Ok(link),
            }
        }
        None => Err(Error::Protocol {
            command,
            answer: "no +CIPOPEN report".into(),
        }),
    }
}

/// First wait before sending a chunk again that the module refused as "buffer full".
const FULL_BACKOFF_MIN: Duration = Duration::from_millis(10);
/// Longest wait between two such tries.
const FULL_BACKOFF_MAX: Duration = Duration::from_millis(200);

/// One `AT+CIPSEND` of at most 1500 bytes, up to its `+CIPSEND` report.
///
/// `+CIPSEND: <n>,<req>,0` means the module's send buffer is full and it took none of
/// the bytes: the peer or the link is slower than the host. That is back-pressure,
/// not a failure, so the same chunk is offered again (after a growing pause) until
/// [`crate::Config::cipsend_timeout`] has passed since the first try; then the write
/// fails with [`Error::Timeout`]. Nothing is sent twice: a refused chunk was not sent.
pub(crate) async fn send_chunk(
    inner: Arc<Inner>,
    link: u8,
    dest: &str,
    data: Vec<u8>,
) -> Result<()> {
    let len = data.len();
    let command = format!("AT+CIPSEND={link},{len}{dest}");
    let timeout = inner.config.cipsend_timeout;
    let deadline = Instant::now() + timeout;
    let mut pause = FULL_BACKOFF_MIN;
    loop {
        // A link the network dropped (or that failed) is known dead here: say why,
        // rather than the module's generic `+CIPERROR: 3` for a link that is not open.
        if let Some(e) = inner.shared.lock().links[usize::from(link)].failure(link) {
            return Err(e);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let cmd = Cmd::new(command.clone(), left).send(link, data.clone());
        let ans = inner.run(cmd).await?;
        match ans.urc {
            Some(Urc::CipSend { req, cnf, .. }) if req == len && cnf == len as i64 => return Ok(()),
            Some(Urc::CipSend { req, cnf: 0, .. }) if req == len => {
                let now = Instant::now();
                if now + pause >= deadline {
                    return Err(Error::Timeout {
                        command,
                        timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                    });
                }
                tracing::trace!(link, ?pause, "send buffer full; offering the chunk again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(FULL_BACKOFF_MAX);
            }
            Some(Urc::CipSend { req, cnf, .. }) => {
                return Err(Error::SendIncomplete { link, req, cnf })
            }
            _ => {
                // The link closed before the report.
                let st = inner.shared.lock();
                let l = &st.links[usize::from(link)];
                return Err(l.failure(link).unwrap_or(Error::LinkClosed {
                    link,
                    reason: crate::error::CloseReason::Remote,
                }));
            }
        }
    }
}

impl TcpStream {
    /// Connects link by link (the lowest free one) to `host:port`; `host` is an IPv4
    /// address or a name the module resolves.
    pub async fn connect(modem: &Modem, host: &str, port: u16) -> Result<TcpStream> {
        let link = open_link(modem, false, &format!("\"{host}\",{port}")).await?;
        Ok(TcpStream::from_link(modem.inner.clone(), link))
    }

    pub(crate) fn from_link(inner: Arc<Inner>, link: u8) -> TcpStream {
        TcpStream {
            inner,
            link,
            writer: ChunkWriter::default(),
        }
    }

    /// The module's link number (0-9).
    pub fn link(&self) -> u8 {
        self.link
    }

    /// Closes the link (`AT+CIPCLOSE`) and waits for the module's answer.
    pub async fn close(mut self) -> Result<()> {
        self.writer.closed = true;
        let inner = self.inner.clone();
        let link = self.link;
        let result = inner.run(close_cmd(&inner, Which::Link(link))).await;
        inner.shared.release(link);
        let ans = result?;
        match ans
            .urc
            .or_else(|| ans.lines.iter().find_map(|l| crate::urc::parse_urc(l)))
        {
            Some(Urc::CipClose { err, .. }) => check_code(&format!("AT+CIPCLOSE={link}"), err),
            _ => Ok(()),
        }
    }
}

/// tokio `AsyncRead` and `AsyncWrite`, and the close on drop, for a byte stream made
/// of `inner`, `writer` and its slot number `$id`: reads from the slot's buffer, writes
/// in chunks of at most `$max` bytes, each sent by `$send(inner, id, chunk)`.
macro_rules! slot_stream {
    ($stream:ty, $id:ident, $which:path, $max:expr, $send:expr) => {
        impl tokio::io::AsyncRead for $stream {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let this = self.get_mut();
                $crate::tcp::poll_read_slot(&this.inner, $which(this.$id), cx, buf)
            }
        }

        impl tokio::io::AsyncWrite for $stream {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let this = self.get_mut();
                let (inner, id) = (&this.inner, this.$id);
                this.writer.poll_write(cx, buf, $max, |chunk| {
                    Box::pin($send(inner.clone(), id, chunk))
                })
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.get_mut().writer.poll_flush(cx)
            }

            /// The module has no half-close: shutting down closes both ways.
            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let this = self.get_mut();
                this.writer.poll_shutdown(cx, &this.inner, $which(this.$id))
            }
        }

        impl Drop for $stream {
            fn drop(&mut self) {
                if !self.writer.closed {
                    $crate::tcp::close_detached(&self.inner, $which(self.$id));
                }
            }
        }
    };
}
pub(crate) use slot_stream;

slot_stream!(
    TcpStream,
    link,
    Which::Link,
    MAX_SEND,
    |inner, link, chunk| { send_chunk(inner, link, "", chunk) }
);

/// A read from a link's or session's host-side buffer; wakes the driver when the
/// module holds more.
pub(crate) fn poll_read_slot(
    inner: &Inner,
    which: Which,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    let mut st = inner.shared.lock();
    let line_closed = st.line_closed;
    let Some(l) = which.slot(&mut st) else {
        return Poll::Ready(Err(Error::LineClosed.into_io()));
    };
    if !l.rx.is_empty() {
        let n = buf.remaining().min(l.rx.len());
        let (a, b) = l.rx.as_slices();
        let from_a = n.min(a.len());
        buf.put_slice(&a[..from_a]);
        buf.put_slice(&b[..n - from_a]);
        l.rx.drain(..n);
        if l.in_module && !l.read_queued {
            inner.shared.kick.notify_one();
        }
        return Poll::Ready(Ok(()));
    }
    if let Some(e) = which.failure(l) {
        return Poll::Ready(Err(e.into_io()));
    }
    if l.at_eof() {
        return Poll::Ready(Ok(()));
    }
    if line_closed {
        return Poll::Ready(Err(Error::LineClosed.into_io()));
    }
    l.reader = Some(cx.waker().clone());
    if l.in_module && !l.read_queued {
        inner.shared.kick.notify_one();
    }
    Poll::Pending
}

/// The write side the byte streams share: one chunk on its way at a time, then the
/// close.
#[derive(Default)]
pub(crate) struct ChunkWriter {
    /// The chunk being sent and its send command.
    write: Option<(Vec<u8>, Pending<()>)>,
    shutdown: Option<Pending<()>>,
    /// Closed (or being closed by `close`): `Drop` has nothing left to do.
    pub closed: bool,
}

impl ChunkWriter {
    /// Writes at most `max` bytes of `buf` with the command `send` makes for them.
    pub fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        buf: &[u8],
        max: usize,
        send: impl Fn(Vec<u8>) -> Pending<()>,
    ) -> Poll<io::Result<usize>> {
        loop {
            if self.write.is_none() {
                if buf.is_empty() {
                    return Poll::Ready(Ok(0));
                }
                let chunk = buf[..buf.len().min(max)].to_vec();
                let fut = send(chunk.clone());
                self.write = Some((chunk, fut));
            }
            let Some((chunk, fut)) = self.write.as_mut() else {
                return Poll::Ready(Ok(0));
            };
            // The usual retry passes the same bytes. Otherwise the chunk in flight
            // belonged to a cancelled write: it is on its way, finish it first.
            let same = buf.starts_with(chunk);
            let n = chunk.len();
            match fut.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(r) => {
                    self.write = None;
                    match r {
                        Err(e) => return Poll::Ready(Err(e.into_io())),
                        Ok(()) if same => return Poll::Ready(Ok(n)),
                        Ok(()) => continue,
                    }
                }
            }
        }
    }

    /// Waits for the chunk on its way.
    pub fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some((_, fut)) = self.write.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        match fut.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(r) => {
                self.write = None;
                Poll::Ready(r.map_err(Error::into_io))
            }
        }
    }

    /// Flushes, then closes `which` both ways (the module has no half-close).
    pub fn poll_shutdown(
        &mut self,
        cx: &mut Context<'_>,
        inner: &Arc<Inner>,
        which: Which,
    ) -> Poll<io::Result<()>> {
        match self.poll_flush(cx) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        if self.closed && self.shutdown.is_none() {
            return Poll::Ready(Ok(()));
        }
        let fut = self.shutdown.get_or_insert_with(|| {
            let inner = inner.clone();
            Box::pin(async move {
                let cmd = close_cmd(&inner, which);
                let r = inner.run(cmd).await.map(|_| ());
                inner.shared.release_slot(which);
                r
            })
        });
        match fut.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(r) => {
                self.shutdown = None;
                self.closed = true;
                Poll::Ready(r.map_err(Error::into_io))
            }
        }
    }
}
