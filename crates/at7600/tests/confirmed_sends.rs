//! §2.2 `AT+CIPSEND`: bytes that a `+CIPSEND: <n>,<req>,<cnf>` report confirmed reach
//! the peer even when the modem ends right after, because the host hung up or the
//! daemon was told to stop: they are flushed as `AT+CIPCLOSE` flushes them, then the
//! peer sees the close. Loopback peers; every wait is bounded.
mod common;

use common::{Daemon, Session, WAIT};
use std::io::Read;
use std::net::TcpStream;
use std::thread;

/// The most payloads sent before the daemon's queue is expected to be full (the
/// kernel buffers on both sides take a few MB, as autotuning allows).
const MAX_SENDS: usize = 20_000;

/// Opens link 1 to a loopback peer that does not read yet; returns the peer's side.
fn open_to_a_slow_peer(m: &mut Session) -> TcpStream {
    let peer = m.link_to_loopback_peer(1);
    peer.set_read_timeout(Some(WAIT)).expect("timeout");
    peer
}

/// Sends 1500-byte payloads until the stack refuses one (`<cnf>` 0): everything in the
/// kernel's buffers and the daemon's own queue. Returns the confirmed bytes.
fn send_until_refused(m: &mut Session) -> usize {
    let payload = [b'z'; 1500];
    let mut confirmed = 0;
    for _ in 0..MAX_SENDS {
        m.send("AT+CIPSEND=1,1500\r", ">");
        m.send(payload, "+CIPSEND: 1,1500,");
        match m.expect("\\r\\n").as_str() {
            "1500\\r\\n" => confirmed += 1500,
            "0\\r\\n" => return confirmed,
            other => panic!("unexpected report {other:?}"),
        }
    }
    panic!("{MAX_SENDS} sends all confirmed: the queue never filled");
}

/// Everything the peer reads until the modem's side closes.
fn read_to_end(mut peer: TcpStream) -> usize {
    let mut got = Vec::new();
    peer.read_to_end(&mut got)
        .expect("the peer reads to a clean close");
    assert!(got.iter().all(|&b| b == b'z'), "foreign bytes");
    got.len()
}

/// A daemon with a modem whose link 1 holds all it can for a peer that does not read
/// yet: returns them, the peer's side, and the bytes the reports confirmed.
fn full_link() -> (Daemon, Session, TcpStream, usize) {
    let d = Daemon::start(&["--log-level", "error"]);
    let mut m = d.modem();
    let peer = open_to_a_slow_peer(&mut m);
    let confirmed = send_until_refused(&mut m);
    (d, m, peer, confirmed)
}

#[test]
fn confirmed_sends_reach_the_peer_when_the_host_hangs_up() {
    let (_d, m, peer, confirmed) = full_link();
    drop(m);
    assert_eq!(read_to_end(peer), confirmed);
}

#[test]
fn confirmed_sends_reach_the_peer_on_sigterm() {
    let (d, m, peer, confirmed) = full_link();
    let pid = nix::unistd::Pid::from_raw(i32::try_from(d.pid()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM sent");
    // The peer starts reading only once the daemon is on its way out.
    thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(read_to_end(peer), confirmed);
    drop(m);
}
