//! A non-blocking descriptor (a PTY master, a pipe, a terminal, a socket) as an async
//! byte stream on the event loop, taken on and off the loop at will.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// See the module docs. The descriptor must already be non-blocking.
pub struct FdStream {
    fd: AsyncFd<OwnedFd>,
}

impl FdStream {
    /// Registers `fd` with the event loop (with fresh readiness); gives it back with
    /// the error if that fails (e.g. for what epoll cannot watch, such as /dev/null).
    pub fn register(fd: OwnedFd) -> Result<FdStream, (OwnedFd, io::Error)> {
        // SAFETY: the OwnedFd is open and owned by the AsyncFd until `into_inner` takes
        // it back; an OwnedFd always reports the same descriptor.
        unsafe { AsyncFd::register(fd) }
            .map(|fd| FdStream { fd })
            .map_err(|e| e.into_parts())
    }

    /// Takes the descriptor off the event loop (its readiness goes with the
    /// registration: a sticky hang-up is forgotten).
    pub fn into_inner(self) -> OwnedFd {
        self.fd.into_inner()
    }
}

impl AsRawFd for FdStream {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsyncRead for FdStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let mut guard = ready!(self.fd.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match guard
                .try_io(|fd| nix::unistd::read(fd.as_raw_fd(), unfilled).map_err(io::Error::from))
            {
                Ok(Ok(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                // A terminal whose other side is gone (a PTY whose port was closed) reads
                // EIO: that is the end of the input.
                Ok(Err(e)) if e.raw_os_error() == Some(libc::EIO) => {
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for FdStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            let mut guard = ready!(self.fd.poll_write_ready(cx))?;
            match guard.try_io(|fd| nix::unistd::write(fd, data).map_err(io::Error::from)) {
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    /// Nothing is buffered here: what `poll_write` took is in the kernel.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
