//! [`TransparentStream`]: link 0 in transparent (data) mode.

use crate::driver::Claim;
use crate::error::{Error, Result};
use crate::modem::{Cmd, Inner, Modem};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A TCP connection on link 0 in transparent mode: the serial line itself carries the
/// data after `CONNECT 115200`. Needs [`crate::Config::transparent`] (`AT+CIPMODE=1`
/// before `AT+NETOPEN`).
///
/// Other [`Modem`] calls still work while it is open: the driver waits the guard time,
/// sends `+++`, runs them in command mode, and returns with `ATO`. `CLOSED` from the
/// module (the peer closed) reads as EOF. A payload that contains `\r\nCLOSED\r\n`
/// is indistinguishable from that, as on the real module.
pub struct TransparentStream {
    inner: Arc<Inner>,
    closed: bool,
}

impl std::fmt::Debug for TransparentStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransparentStream").finish()
    }
}

impl TransparentStream {
    /// `AT+CIPOPEN=0,"TCP","<host>",<port>` up to `CONNECT`.
    pub async fn connect(modem: &Modem, host: &str, port: u16) -> Result<TransparentStream> {
        let inner = modem.inner.clone();
        if !inner.config.transparent {
            return Err(Error::Mode("transparent mode needs Config::transparent"));
        }
        {
            let mut st = inner.shared.lock();
            if st.links[0].used {
                return Err(Error::NoFreeLink);
            }
            st.links[0].used = true;
            st.transparent = Default::default();
        }
        let cmd = Cmd::new(
            format!("AT+CIPOPEN=0,\"TCP\",\"{host}\",{port}"),
            inner.config.cipopen_timeout,
        )
        .claim(Claim::CipOpen(0));
        if let Err(e) = inner.run(cmd).await {
            inner.shared.release(0);
            return Err(e);
        }
        Ok(TransparentStream {
            inner,
            closed: false,
        })
    }

    /// `AT+CIPCLOSE=0` (after escaping to command mode) and waits for `+CIPCLOSE`.
    pub async fn close(mut self) -> Result<()> {
        self.closed = true;
        self.inner.shared.lock().transparent.active = false;
        let cmd =
            Cmd::new("AT+CIPCLOSE=0", self.inner.config.cipopen_timeout).then(Claim::CipClose(0));
        let r = self.inner.run(cmd).await;
        self.inner.shared.release(0);
        r.map(|_| ())
    }
}

impl AsyncRead for TransparentStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut st = self.inner.shared.lock();
        let t = &mut st.transparent;
        if !t.rx.is_empty() {
            let n = buf.remaining().min(t.rx.len());
            let bytes: Vec<u8> = t.rx.drain(..n).collect();
            buf.put_slice(&bytes);
            return Poll::Ready(Ok(()));
        }
        if t.closed {
            return Poll::Ready(Ok(()));
        }
        t.reader = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl AsyncWrite for TransparentStream {
    /// Queued for the line at once (the line's own speed is the only flow control).
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.inner.shared.lock().transparent.closed {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                Error::LinkClosed {
                    link: 0,
                    reason: crate::error::CloseReason::Remote,
                },
            )));
        }
        match self.inner.raw_tx.send(buf.to_vec()) {
            Ok(()) => Poll::Ready(Ok(buf.len())),
            Err(_) => Poll::Ready(Err(Error::LineClosed.into_io())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl Drop for TransparentStream {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        self.inner.shared.lock().transparent.active = false;
        let inner = self.inner.clone();
        let cmd = Cmd::new("AT+CIPCLOSE=0", inner.config.cipopen_timeout).then(Claim::CipClose(0));
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = inner.run(cmd).await;
                inner.shared.release(0);
            });
        }
    }
}
