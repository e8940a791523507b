//! §2.2 `AT+CIPSEND` and `+IPCLOSE`, through the daemon against loopback peers that
//! answer and go away while the host is still sending (issue 9, item 3): every byte
//! the peer sent before it left reaches the host, in order, before `+IPCLOSE: 1,1`,
//! whether the peer closed (FIN) or reset (RST).
mod common;

use common::{Daemon, Session, WAIT};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// What the peer sends before it goes away.
const STREAM: usize = 3 * 1024 * 1024;

/// Bytes the peer's kernel has not had acknowledged yet (`SIOCOUTQ`).
fn unacked(stream: &TcpStream) -> i32 {
    let mut n: libc::c_int = 0;
    // SAFETY: a live socket's fd; the ioctl writes one int.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCOUTQ, &mut n) };
    assert!(rc >= 0, "SIOCOUTQ failed");
    n
}

/// The peer writes [`STREAM`] bytes of `p`, waits until the daemon's kernel has them
/// all, then closes (with `reset`, aborts).
fn stream_then_leave(mut peer: TcpStream, reset: bool) {
    peer.write_all(&vec![b'p'; STREAM]).expect("peer writes");
    for _ in 0..1000 {
        if unacked(&peer) == 0 {
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    if reset {
        let abort = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        nix::sys::socket::setsockopt(&peer, nix::sys::socket::sockopt::Linger, &abort)
            .expect("linger");
    }
}

/// The host keeps sending 100-byte payloads (written blind: once the link is gone the
/// command fails and its payload is ignored as line noise) while it reads everything
/// the modem prints, until `+IPCLOSE: 1,1`. Returns the peer's bytes read before it.
fn host_sends_until_ipclose(m: &Session) -> usize {
    let done = Arc::new(AtomicBool::new(false));
    let mut writer = m.host.try_clone().expect("host clone");
    let stop = done.clone();
    let sending = thread::spawn(move || {
        let mut send = b"AT+CIPSEND=1,100\r".to_vec();
        send.extend_from_slice(&[b'x'; 100]);
        for _ in 0..20_000 {
            if stop.load(Ordering::Relaxed) || writer.write_all(&send).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(1));
        }
    });
    let mut reader = m.host.try_clone().expect("host clone");
    reader.set_read_timeout(Some(WAIT)).expect("timeout");
    let want = b"+IPCLOSE: 1,1\r\n";
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut from = 0;
    let closed_at = loop {
        if let Some(at) = got[from..].windows(want.len()).position(|w| w == want) {
            break from + at;
        }
        from = got.len().saturating_sub(want.len() - 1);
        match reader.read(&mut buf) {
            Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
            other => panic!("no +IPCLOSE: 1,1 ({other:?}) after {} bytes", got.len()),
        }
    };
    done.store(true, Ordering::Relaxed);
    sending.join().expect("host writer");
    got[..closed_at].iter().filter(|&&b| b == b'p').count()
}

fn every_byte_before_ipclose(reset: bool) {
    let d = Daemon::start(&["--log-level", "error"]);
    let mut m = d.modem();
    m.send("ATE0\r", "OK\\r\\n");
    let peer = m.link_to_loopback_peer(1);
    let leaving = thread::spawn(move || stream_then_leave(peer, reset));
    let got = host_sends_until_ipclose(&m);
    leaving.join().expect("peer");
    assert_eq!(got, STREAM, "reset {reset}: bytes lost before +IPCLOSE");
}

#[test]
fn peer_closes_while_the_host_sends_every_byte_arrives_first() {
    every_byte_before_ipclose(false);
}

#[test]
fn peer_resets_while_the_host_sends_every_byte_arrives_first() {
    every_byte_before_ipclose(true);
}
