//! At the descriptor limit: a UDP open that gets no socket says so (`Socket`, the
//! manual's err 5), not that its port was taken (`Bind`, err 6). Alone in its test
//! binary, since it lowers the process's descriptor limit.

mod common;

use common::*;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Lowers the soft descriptor limit and fills the table up to it; the descriptors
/// and the old limit come back when the guard is dropped.
struct Exhausted {
    fds: Vec<OwnedFd>,
    old: libc::rlimit,
}

impl Exhausted {
    fn new() -> Exhausted {
        let mut old = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: writes one rlimit.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut old) }, 0);
        let low = libc::rlimit {
            rlim_cur: 256.min(old.rlim_cur),
            rlim_max: old.rlim_max,
        };
        // SAFETY: reads one rlimit.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &low) }, 0);
        let null = File::open("/dev/null").unwrap();
        let mut fds = Vec::new();
        for _ in 0..low.rlim_cur {
            // SAFETY: duplicates a descriptor we own; the copy is owned by `fds`.
            let fd = unsafe { libc::dup(null.as_raw_fd()) };
            if fd < 0 {
                break;
            }
            // SAFETY: `fd` was just returned by dup and nothing else owns it.
            fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
        }
        // Kept too: closing it would free a slot.
        fds.push(null.into());
        Exhausted { fds, old }
    }
}

impl Drop for Exhausted {
    fn drop(&mut self) {
        self.fds.clear();
        // SAFETY: reads one rlimit.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &self.old) };
    }
}

#[tokio::test]
async fn udp_open_without_a_descriptor_is_a_socket_error() {
    let (mut net, mut ev) = modem();
    let port = free_port_udp();
    let full = Exhausted::new();
    net.execute(NetCommand::Open {
        conn: ConnId(1),
        protocol: Protocol::Udp,
        remote: None,
        local_port: Some(port),
        options: options(),
        tls: None,
    });
    let event = next(&mut ev).await;
    drop(full);
    assert_eq!(
        event,
        NetEvent::OpenFailed {
            conn: ConnId(1),
            error: OpenError::Socket
        }
    );
}

/// A UDP port nobody uses (bound, then released).
fn free_port_udp() -> u16 {
    std::net::UdpSocket::bind((LOCAL, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
