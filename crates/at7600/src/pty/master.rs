//! The master side of a PTY: a plain descriptor while no host has the port, an async
//! byte stream while one does.

use anyhow::{Context, Result};
use nix::pty::openpty;
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{ready, Context as TaskContext, Poll};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A PTY master that is not registered with the event loop.
pub struct PtyPort(OwnedFd);

/// A PTY pair in raw mode; returns the master and the slave's path (the slave
/// descriptor itself is closed so that a client closing the port is seen as a hang-up).
pub fn open_pty() -> Result<(PtyPort, PathBuf)> {
    let pty = openpty(None, None).context("cannot open a PTY")?;
    // Raw: no CR/LF translation and no echo; the core does its own echo.
    let mut termios = tcgetattr(&pty.slave).context("tcgetattr on the PTY")?;
    cfmakeraw(&mut termios);
    tcsetattr(&pty.slave, SetArg::TCSANOW, &termios).context("tcsetattr on the PTY")?;
    let path = nix::unistd::ttyname(&pty.slave).context("ttyname of the PTY")?;
    set_nonblocking(&pty.master)?;
    drop(pty.slave);
    Ok((PtyPort(pty.master), path))
}

fn set_nonblocking(fd: &OwnedFd) -> Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let flags = OFlag::from_bits_truncate(fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL)?);
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

impl PtyPort {
    /// True while no client has the slave open.
    pub fn hung_up(&self) -> bool {
        let mut pfd = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, zero timeout.
        let n = unsafe { libc::poll(&mut pfd, 1, 0) };
        n > 0 && pfd.revents & libc::POLLHUP != 0
    }
}

/// The master while a host has the port: an async byte stream.
pub struct PtyMaster {
    fd: AsyncFd<OwnedFd>,
}

impl PtyMaster {
    /// Registers the master with the event loop (fresh readiness); gives the port back
    /// with the error if that fails.
    pub fn register(port: PtyPort) -> Result<PtyMaster, (PtyPort, io::Error)> {
        // SAFETY: the OwnedFd is open and owned by the AsyncFd until `deregister` takes
        // it back; an OwnedFd always reports the same descriptor.
        unsafe { AsyncFd::register(port.0) }
            .map(|fd| PtyMaster { fd })
            .map_err(|e| {
                let (fd, e) = e.into_parts();
                (PtyPort(fd), e)
            })
    }

    /// Takes the master off the event loop (its sticky hang-up readiness goes with the
    /// registration).
    pub fn deregister(self) -> PtyPort {
        PtyPort(self.fd.into_inner())
    }
}

impl AsyncRead for PtyMaster {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let mut guard = ready!(self.fd.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            let result = guard.try_io(|fd| {
                // SAFETY: reading into an initialised buffer of the given length.
                let n = unsafe {
                    libc::read(fd.as_raw_fd(), unfilled.as_mut_ptr().cast(), unfilled.len())
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            match result {
                Ok(Ok(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for PtyMaster {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            let mut guard = ready!(self.fd.poll_write_ready(cx))?;
            let result = guard.try_io(|fd| {
                // SAFETY: writing from a valid slice of the given length.
                let n = unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            match result {
                Ok(r) => return Poll::Ready(r),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
