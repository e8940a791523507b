//! The master side of a PTY: a plain descriptor while no host has the port, an async
//! byte stream while one does.

use crate::fdio::FdStream;
use anyhow::{Context, Result};
use nix::pty::openpty;
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;

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

/// The master while a host has the port: an async byte stream (reading EIO, the host
/// closed the port, is the end of input).
pub type PtyMaster = FdStream;

impl PtyPort {
    /// Registers the master with the event loop (fresh readiness); gives the port back
    /// with the error if that fails.
    pub fn register(self) -> Result<PtyMaster, (PtyPort, io::Error)> {
        FdStream::register(self.0).map_err(|(fd, e)| (PtyPort(fd), e))
    }
}

impl From<PtyMaster> for PtyPort {
    /// Takes the master off the event loop: its sticky hang-up readiness goes with the
    /// registration (see the module docs of `pty`).
    fn from(master: PtyMaster) -> PtyPort {
        PtyPort(master.into_inner())
    }
}
