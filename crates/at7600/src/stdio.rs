//! The stdio front end: one modem on standard input/output.
//!
//! Shutdown (Ctrl-C, SIGTERM) must end this front end in every state: while standard
//! input is idle, and while standard output is full because nobody reads it. tokio's
//! own `Stdin`/`Stdout` do their reads and writes on the blocking pool, and a blocked
//! read or write there can be neither cancelled nor waited out: the modem's loop stalls
//! on the flush, and the runtime cannot finish while the thread is stuck. So where
//! standard input and output are pipes, terminals or sockets, they are driven here
//! non-blocking through the reactor ([`NonBlockingFd`]), which a shutdown simply stops
//! polling. Only where the reactor cannot watch them (regular files, `/dev/null`, whose
//! reads and writes never wait for a peer) does the blocking pool remain.

use crate::driver::{Driver, Stop};
use crate::fdio::FdStream;
use crate::netstack::NetSpec;
use crate::record::Recorder;
use anyhow::Result;
use at7600_core::ModemConfig;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::stat::{fstat, SFlag};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;

/// How long the host may take to read what the modem still has for it at the end.
const FINAL_FLUSH: Duration = Duration::from_secs(2);

/// Runs one modem on stdin/stdout until stdin ends or shutdown; then flushes what the
/// modem still has for the host (for at most two seconds) and closes its links.
/// With `record`, the session is written there (see `docs/recording.md`).
pub async fn serve(
    config: ModemConfig,
    network: NetSpec,
    record: Option<&Path>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<()> {
    let recorder = Recorder::open(record, "stdio", &config)?;
    let mut host = StdioHost {
        stdin: Input::open(),
        stdout: Output::open(),
    };
    tracing::info!(
        stdin = host.stdin.kind(),
        stdout = host.stdout.kind(),
        "modem ready on stdio"
    );
    let mut driver = Driver::new(config, &network, recorder);
    // Registered with the control API: ready for a service manager too.
    crate::service::ready("at7600: modem ready on stdio");
    let stop = driver.run(&mut host, &mut shutdown).await;
    tracing::debug!(?stop, "stdio modem ending");
    driver.flush_output(&mut host.stdout, FINAL_FLUSH).await;
    if stop == Stop::HostClosed {
        tracing::info!("stdin closed");
    }
    Ok(())
}

/// Standard input: through the reactor if it can be, else tokio's blocking-pool reader.
enum Input {
    Polled(NonBlockingFd),
    Blocking(tokio::io::Stdin),
}

impl Input {
    fn open() -> Self {
        match NonBlockingFd::new(io::stdin().as_fd(), OFlag::O_RDONLY) {
            Ok(fd) => Input::Polled(fd),
            Err(e) => {
                tracing::debug!(error = %e, "stdin is not pollable; reading it on a thread");
                Input::Blocking(tokio::io::stdin())
            }
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Input::Polled(_) => "polled",
            Input::Blocking(_) => "blocking",
        }
    }
}

/// Standard output: through the reactor if it can be, else tokio's blocking-pool writer.
enum Output {
    Polled(NonBlockingFd),
    Blocking(tokio::io::Stdout),
}

impl Output {
    fn open() -> Self {
        match NonBlockingFd::new(io::stdout().as_fd(), OFlag::O_WRONLY) {
            Ok(fd) => Output::Polled(fd),
            Err(e) => {
                tracing::debug!(error = %e, "stdout is not pollable; writing it on a thread");
                Output::Blocking(tokio::io::stdout())
            }
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Output::Polled(_) => "polled",
            Output::Blocking(_) => "blocking",
        }
    }
}

/// A pipe, terminal or socket of this process, non-blocking and watched by the reactor,
/// without changing the descriptor other processes share.
///
/// `O_NONBLOCK` belongs to the open file description, which a pipe or terminal shares
/// with the processes around us (the shell that started us, the next command of a
/// pipeline): setting it on fd 0 or 1 itself would make their reads fail with `EAGAIN`.
/// So the file is opened again through `/proc/self/fd`, which gives a description of
/// our own for the same pipe or terminal. A socket cannot be opened that way: its
/// descriptor is duplicated and made non-blocking, and its flags are put back when this
/// is dropped.
pub struct NonBlockingFd {
    io: FdStream,
    /// The flags to put back on a shared description when dropped.
    restore: Option<OFlag>,
}

impl NonBlockingFd {
    /// `fd` (a pipe, terminal or socket; anything else is refused) opened again for
    /// `access` (`O_RDONLY` or `O_WRONLY`) as described on the type.
    pub fn new(fd: BorrowedFd<'_>, access: OFlag) -> io::Result<Self> {
        let kind = SFlag::from_bits_truncate(fstat(fd.as_raw_fd())?.st_mode) & SFlag::S_IFMT;
        let (own, restore) = if kind == SFlag::S_IFIFO || kind == SFlag::S_IFCHR {
            (reopen(fd, access)?, None)
        } else if kind == SFlag::S_IFSOCK {
            let own = fd.try_clone_to_owned()?;
            let flags = OFlag::from_bits_truncate(fcntl(own.as_raw_fd(), FcntlArg::F_GETFL)?);
            fcntl(
                own.as_raw_fd(),
                FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK),
            )?;
            (own, Some(flags))
        } else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "not a pipe, terminal or socket",
            ));
        };
        // Fails for what epoll cannot watch (e.g. /dev/null): the caller falls back.
        let io = FdStream::register(own).map_err(|(_, e)| e)?;
        Ok(NonBlockingFd { io, restore })
    }
}

/// A new open file description of the pipe or terminal `fd` refers to, non-blocking.
fn reopen(fd: BorrowedFd<'_>, access: OFlag) -> io::Result<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = format!("/proc/self/fd/{}", fd.as_raw_fd());
    let flags = OFlag::O_NONBLOCK | OFlag::O_NOCTTY;
    let file = std::fs::OpenOptions::new()
        .read(access == OFlag::O_RDONLY)
        .write(access == OFlag::O_WRONLY)
        .custom_flags(flags.bits())
        .open(path)?;
    Ok(OwnedFd::from(file))
}

impl Drop for NonBlockingFd {
    fn drop(&mut self) {
        if let Some(flags) = self.restore {
            let _ = fcntl(self.io.as_raw_fd(), FcntlArg::F_SETFL(flags));
        }
    }
}

impl AsyncRead for NonBlockingFd {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for NonBlockingFd {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

impl AsyncRead for Input {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Input::Polled(fd) => Pin::new(fd).poll_read(cx, buf),
            Input::Blocking(stdin) => Pin::new(stdin).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Output {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Output::Polled(fd) => Pin::new(fd).poll_write(cx, data),
            Output::Blocking(stdout) => Pin::new(stdout).poll_write(cx, data),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Output::Polled(fd) => Pin::new(fd).poll_flush(cx),
            Output::Blocking(stdout) => Pin::new(stdout).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Output::Polled(fd) => Pin::new(fd).poll_shutdown(cx),
            Output::Blocking(stdout) => Pin::new(stdout).poll_shutdown(cx),
        }
    }
}

/// stdin and stdout as one duplex stream.
struct StdioHost {
    stdin: Input,
    stdout: Output,
}

impl AsyncRead for StdioHost {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stdin).poll_read(cx, buf)
    }
}

impl AsyncWrite for StdioHost {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stdout).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stdout).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stdout).poll_shutdown(cx)
    }
}
