//! Byte streams with deadlines: the host side of a PTY and the bench's TCP sockets.
//!
//! Every wait is bounded by a deadline, so a daemon that stops answering ends a case
//! with an error instead of hanging the suite.

use anyhow::{bail, Context, Result};
use nix::fcntl::{fcntl, open, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::stat::Mode;
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

/// How much one `read` takes at most.
const READ_CHUNK: usize = 64 * 1024;

/// A non-blocking descriptor with a read buffer: a PTY (either side) or a TCP socket.
pub struct Port {
    fd: OwnedFd,
    /// Bytes read but not consumed yet, from `start` on.
    pending: Vec<u8>,
    start: usize,
}

impl Port {
    /// Takes `fd` over and makes it non-blocking.
    pub fn new(fd: OwnedFd) -> Result<Self> {
        let flags = OFlag::from_bits_truncate(fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL)?);
        fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
        Ok(Port {
            fd,
            pending: Vec::with_capacity(READ_CHUNK),
            start: 0,
        })
    }

    /// Opens a serial device (a PTY slave or its symlink) the way a host driver does:
    /// read/write, not as controlling terminal, raw termios.
    pub fn open_tty(path: &Path) -> Result<Self> {
        let fd = open(path, OFlag::O_RDWR | OFlag::O_NOCTTY, Mode::empty())
            .with_context(|| format!("cannot open {}", path.display()))?;
        // SAFETY: `open` returned a fresh descriptor that nothing else owns.
        let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        make_raw(&fd)?;
        Port::new(fd)
    }

    /// A connected TCP stream (Nagle off, as the daemon does for its peers).
    pub fn tcp(stream: std::net::TcpStream) -> Result<Self> {
        stream.set_nodelay(true)?;
        Port::new(OwnedFd::from(stream))
    }

    /// Waits until the descriptor is ready for `events` or `deadline` passes.
    fn wait(&self, events: PollFlags, deadline: Instant) -> Result<PollFlags> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("timed out");
            }
            let ms = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(self.fd.as_fd(), events)];
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(0) => continue,
                Ok(_) => return Ok(fds[0].revents().unwrap_or(PollFlags::empty())),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Writes all of `data`, waiting for room as needed.
    pub fn write_all(&mut self, mut data: &[u8], deadline: Instant) -> Result<()> {
        while !data.is_empty() {
            match nix::unistd::write(&self.fd, data) {
                Ok(n) => data = &data[n..],
                Err(nix::errno::Errno::EAGAIN) => {
                    self.wait(PollFlags::POLLOUT, deadline).context("writing")?;
                }
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(e).context("write"),
            }
        }
        Ok(())
    }

    /// Reads what is there (waiting for at least one byte) into the pending buffer.
    fn fill(&mut self, deadline: Instant) -> Result<()> {
        if self.start > 0 && self.start == self.pending.len() {
            self.pending.clear();
            self.start = 0;
        } else if self.start > READ_CHUNK {
            self.pending.drain(..self.start);
            self.start = 0;
        }
        loop {
            let len = self.pending.len();
            self.pending.resize(len + READ_CHUNK, 0);
            let result = nix::unistd::read(self.fd.as_raw_fd(), &mut self.pending[len..]);
            match result {
                Ok(0) => {
                    self.pending.truncate(len);
                    bail!("end of stream");
                }
                Ok(n) => {
                    self.pending.truncate(len + n);
                    return Ok(());
                }
                Err(nix::errno::Errno::EAGAIN) => {
                    self.pending.truncate(len);
                    let ready = self.wait(PollFlags::POLLIN, deadline).context("reading")?;
                    if ready.contains(PollFlags::POLLHUP) && !ready.contains(PollFlags::POLLIN) {
                        bail!("hang-up");
                    }
                }
                Err(nix::errno::Errno::EINTR) => self.pending.truncate(len),
                Err(e) => {
                    self.pending.truncate(len);
                    return Err(e).context("read");
                }
            }
        }
    }

    /// Consumes bytes up to and including the first `pattern`; returns them.
    pub fn until(&mut self, pattern: &[u8], deadline: Instant) -> Result<Vec<u8>> {
        let mut searched: usize = 0;
        for _ in 0..1_000_000 {
            let have = &self.pending[self.start..];
            let from = searched.saturating_sub(pattern.len());
            if let Some(at) = find(&have[from..], pattern) {
                let end = from + at + pattern.len();
                let out = have[..end].to_vec();
                self.start += end;
                return Ok(out);
            }
            searched = have.len();
            if searched > 16 * 1024 * 1024 {
                bail!("no {:?} in 16 MiB", String::from_utf8_lossy(pattern));
            }
            self.fill(deadline).with_context(|| {
                format!(
                    "waiting for {:?} (got {:?})",
                    String::from_utf8_lossy(pattern),
                    tail(&self.pending[self.start..])
                )
            })?;
        }
        bail!(
            "waiting for {:?}: too many reads",
            String::from_utf8_lossy(pattern)
        )
    }

    /// Consumes exactly `n` bytes, handing them to `sink` as they come.
    pub fn take(
        &mut self,
        mut n: usize,
        deadline: Instant,
        mut sink: impl FnMut(&[u8]) -> Result<()>,
    ) -> Result<()> {
        while n > 0 {
            if self.start == self.pending.len() {
                self.fill(deadline)
                    .with_context(|| format!("{n} bytes still to come"))?;
            }
            let have = &self.pending[self.start..];
            let k = have.len().min(n);
            sink(&have[..k])?;
            self.start += k;
            n -= k;
        }
        Ok(())
    }

    /// Reads and drops whatever comes until the other side closes or `deadline` passes
    /// (a peer that closed first could cut the last bytes still on their way).
    pub fn wait_closed(&mut self, deadline: Instant) {
        for _ in 0..10_000_000 {
            self.start = self.pending.len();
            if self.fill(deadline).is_err() {
                return;
            }
        }
    }

    /// True if no byte arrives within `quiet` (anything that does arrive is kept).
    pub fn is_quiet(&mut self, quiet: Duration) -> bool {
        if self.start < self.pending.len() {
            return false;
        }
        self.fill(Instant::now() + quiet).is_err()
    }
}

/// Raw termios: no echo, no CR/LF translation, byte-wise reads.
pub fn make_raw(fd: &OwnedFd) -> Result<()> {
    let mut termios = tcgetattr(fd).context("tcgetattr")?;
    cfmakeraw(&mut termios);
    tcsetattr(fd, SetArg::TCSANOW, &termios).context("tcsetattr")?;
    Ok(())
}

/// The first position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The last bytes of `b`, for error messages.
fn tail(b: &[u8]) -> String {
    let from = b.len().saturating_sub(80);
    String::from_utf8_lossy(&b[from..]).into_owned()
}

/// A deadline `d` from now.
pub fn within(d: Duration) -> Instant {
    Instant::now() + d
}
