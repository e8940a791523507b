//! The PTY front end: one modem on a pseudo-terminal, with a symlink for the host.

use crate::driver::{Driver, Stop};
use crate::netstack::NetSpec;
use crate::record::Recorder;
use anyhow::{bail, Context, Result};
use at7600_core::ModemConfig;
use nix::pty::openpty;
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{ready, Context as TaskContext, Poll};
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;

/// How often to look whether the port was reopened, only while nobody has it open.
const REOPEN_POLL: Duration = Duration::from_millis(100);

/// Runs one modem on a new PTY until shutdown; the symlink is removed at the end.
/// With `record`, the session is written there (see `docs/recording.md`).
pub async fn serve(
    link: &Path,
    config: ModemConfig,
    network: NetSpec,
    record: Option<&Path>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<()> {
    let recorder = Recorder::open(record, "pty", &config)?;
    let (mut master, slave_path) = open_pty()?;
    let _link = Symlink::create(link, &slave_path)?;
    println!(
        "at7600: modem ready on {} ({})",
        link.display(),
        slave_path.display()
    );
    let _ = io::stdout().flush();

    let mut driver = Driver::new(config, &network, recorder);
    // Our own slave descriptor is closed, so until a client opens the port, and after
    // it closes it, reads fail: that is DTR OFF until the port is opened again.
    loop {
        if driver.run(&mut master, &mut shutdown).await == Stop::Shutdown {
            break;
        }
        tracing::info!("port closed");
        driver.dtr(false);
        let reopened = {
            let master = &master;
            driver.idle_until(wait_reopen(master), &mut shutdown).await
        };
        if !reopened {
            break;
        }
        tracing::info!("port opened");
        driver.dtr(true);
    }
    Ok(())
}

/// A PTY pair in raw mode; returns the master and the slave's path (the slave
/// descriptor itself is closed so that a client closing the port is seen as EIO/HUP).
fn open_pty() -> Result<(PtyMaster, PathBuf)> {
    let pty = openpty(None, None).context("cannot open a PTY")?;
    // Raw: no CR/LF translation and no echo; the core does its own echo.
    let mut termios = tcgetattr(&pty.slave).context("tcgetattr on the PTY")?;
    cfmakeraw(&mut termios);
    tcsetattr(&pty.slave, SetArg::TCSANOW, &termios).context("tcsetattr on the PTY")?;
    let path = nix::unistd::ttyname(&pty.slave).context("ttyname of the PTY")?;
    set_nonblocking(&pty.master)?;
    // SAFETY: the OwnedFd is open and owned by the AsyncFd for all its life.
    let fd = unsafe { AsyncFd::register(pty.master) }.map_err(io::Error::from);
    let master = PtyMaster {
        fd: fd.context("registering the PTY")?,
    };
    drop(pty.slave);
    Ok((master, path))
}

fn set_nonblocking(fd: &OwnedFd) -> Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let flags = OFlag::from_bits_truncate(fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL)?);
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

/// Waits (polling, since a PTY master gives no event for it) until a client has the
/// slave open again, i.e. the master no longer reports a hang-up.
async fn wait_reopen(master: &PtyMaster) {
    loop {
        tokio::time::sleep(REOPEN_POLL).await;
        if !master.hung_up() {
            return;
        }
    }
}

/// The master side of the PTY as an async byte stream.
pub struct PtyMaster {
    fd: AsyncFd<OwnedFd>,
}

impl PtyMaster {
    /// True while no client has the slave open.
    fn hung_up(&self) -> bool {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, zero timeout.
        let n = unsafe { libc::poll(&mut pfd, 1, 0) };
        n > 0 && pfd.revents & libc::POLLHUP != 0
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

/// The symlink to the slave, removed when dropped (if it still points there).
struct Symlink {
    link: PathBuf,
    target: PathBuf,
}

impl Symlink {
    fn create(link: &Path, target: &Path) -> Result<Self> {
        match std::fs::symlink_metadata(link) {
            // A stale link from an earlier run: replace it.
            Ok(meta) if meta.file_type().is_symlink() => std::fs::remove_file(link)
                .with_context(|| format!("cannot remove stale link {}", link.display()))?,
            Ok(_) => bail!(
                "{} exists and is not a symlink; not replacing it",
                link.display()
            ),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot inspect {}", link.display())),
        }
        std::os::unix::fs::symlink(target, link)
            .with_context(|| format!("cannot create symlink {}", link.display()))?;
        Ok(Symlink {
            link: link.to_path_buf(),
            target: target.to_path_buf(),
        })
    }
}

impl Drop for Symlink {
    fn drop(&mut self) {
        if std::fs::read_link(&self.link).is_ok_and(|t| t == self.target) {
            if let Err(e) = std::fs::remove_file(&self.link) {
                tracing::warn!(link = %self.link.display(), error = %e, "cannot remove symlink");
            }
        }
    }
}
