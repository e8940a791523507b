//! The two socket calls that neither tokio nor socket2 offer.

use std::io;
use std::os::fd::AsRawFd;

/// Bytes in the socket's send queue that the peer has not acknowledged yet (sent or not).
///
/// Linux answers this with `ioctl(SIOCOUTQ)` (the same number as `TIOCOUTQ`); no crate
/// wraps it, so it goes through libc. `AT+CIPACK` needs it: the kernel is the only one
/// that knows what the peer has acknowledged.
pub(crate) fn unacked_bytes(sock: &impl AsRawFd) -> io::Result<u64> {
    let mut n: libc::c_int = 0;
    // SAFETY: the fd is a live socket borrowed for the call; the ioctl writes one int.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), libc::TIOCOUTQ, &mut n) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Sets how many SYNs a connect sends before it gives up (`TCP_SYNCNT`, Linux), which is
/// what `AT+CIPCCFG`'s retry count means for opening a connection. socket2 0.5 has no
/// setter for it. The kernel accepts 1..=127.
pub(crate) fn set_syn_retries(sock: &impl AsRawFd, retries: u8) -> io::Result<()> {
    let value: libc::c_int = libc::c_int::from(retries.clamp(1, 127));
    // SAFETY: the fd is a live socket; the option value is one int of the given size.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_SYNCNT,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
