//! The host's DTR on a real serial port, read from the modem-control lines.
//!
//! The module is the DCE: through a null-modem cable the host's DTR arrives on our DSR.
//! A thread of its own blocks in `TIOCMIWAIT` until DSR changes (no polling), reads the
//! lines with `TIOCMGET` and reports each change. A device without modem-control lines
//! (a PTY) has no DTR to read: the caller treats DTR as always ON.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use tokio::sync::mpsc;

/// DTR as the line stands now, and a stream of its changes; `None` (after saying so in
/// the log) when the device has no modem-control lines.
pub fn watch(port: BorrowedFd<'_>, device: &str) -> Option<(bool, mpsc::UnboundedReceiver<bool>)> {
    let initial = match dsr(&port) {
        Ok(on) => on,
        Err(e) => {
            tracing::info!(device, error = %e,
                "no modem-control lines (a PTY?): DTR is taken as always ON");
            return None;
        }
    };
    // Our own descriptor, so the thread never uses one that the front end has closed.
    let fd = match port.try_clone_to_owned() {
        Ok(fd) => fd,
        Err(e) => {
            tracing::warn!(device, error = %e, "cannot watch DTR: DTR is taken as always ON");
            return None;
        }
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let device = device.to_string();
    let spawned = std::thread::Builder::new()
        .name("dtr-watch".into())
        .spawn(move || watch_thread(&fd, initial, &tx, &device));
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the DTR watcher: DTR stays as it is");
    }
    tracing::info!(on = initial, "DTR (our DSR) read from the line");
    Some((initial, rx))
}

/// Runs until the line can no longer be watched or the receiver is gone. The process
/// does not wait for this thread when it exits.
fn watch_thread(fd: &OwnedFd, mut last: bool, tx: &mpsc::UnboundedSender<bool>, device: &str) {
    loop {
        if let Err(e) = wait_change(fd) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            tracing::warn!(device, error = %e, "cannot wait for DTR changes: DTR stays as it is");
            return;
        }
        match dsr(fd) {
            Ok(on) if on != last => {
                last = on;
                tracing::debug!(on, "DTR changed");
                if tx.send(on).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(device, error = %e, "cannot read the lines: DTR stays as it is");
                return;
            }
        }
    }
}

/// Whether our DSR (the host's DTR) is asserted.
fn dsr(fd: &impl AsFd) -> io::Result<bool> {
    let mut bits: libc::c_int = 0;
    // SAFETY: TIOCMGET writes one c_int to the pointer given.
    let r = unsafe { libc::ioctl(fd.as_fd().as_raw_fd(), libc::TIOCMGET, &mut bits) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(bits & libc::TIOCM_DSR != 0)
}

/// Blocks until DSR changes.
#[cfg(target_os = "linux")]
fn wait_change(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: TIOCMIWAIT takes the mask of lines by value.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCMIWAIT, libc::TIOCM_DSR) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Only Linux can wait for a line change without polling.
#[cfg(not(target_os = "linux"))]
fn wait_change(_: &OwnedFd) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "TIOCMIWAIT is Linux only",
    ))
}
