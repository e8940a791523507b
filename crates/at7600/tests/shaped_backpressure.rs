//! A link profile on the real network (`--link`) delays received bytes by the radio
//! link's bandwidth; meanwhile the peer is held back by TCP's window, as on a real
//! radio link, instead of the daemon queueing all it sends (issue 9, item 5).
mod common;

use common::{Daemon, WAIT};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// What the peer tries to send: far more than the link carries in the test's time.
const OFFER: usize = 32 * 1024 * 1024;

#[test]
fn a_slow_link_holds_the_peer_back_instead_of_queueing() {
    let d = Daemon::start(&["--log-level", "error", "--link", "gprs"]);
    let mut m = d.modem();
    let mut peer = m.link_to_loopback_peer(1);
    // The host reads everything the modem prints, so only the link is slow.
    let mut host = m.host.try_clone().expect("host clone");
    thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while matches!(host.read(&mut buf), Ok(n) if n > 0) {}
    });
    let taken = Arc::new(AtomicUsize::new(0));
    let counter = taken.clone();
    peer.set_write_timeout(Some(WAIT)).expect("timeout");
    // A fixed send buffer, so what the peer's kernel holds does not depend on the
    // host's autotuning limits.
    nix::sys::socket::setsockopt(&peer, nix::sys::socket::sockopt::SndBuf, &(256 * 1024))
        .expect("SO_SNDBUF");
    thread::spawn(move || {
        let chunk = [b'q'; 64 * 1024];
        while counter.load(Ordering::Relaxed) < OFFER {
            match peer.write(&chunk) {
                Ok(n) if n > 0 => counter.fetch_add(n, Ordering::Relaxed),
                _ => return,
            };
        }
    });
    thread::sleep(Duration::from_secs(3));
    let taken = taken.load(Ordering::Relaxed);
    // GPRS carries ~7 KB/s; the socket buffers on both sides hold well under 2 MB.
    assert!(
        taken < 2 * 1024 * 1024,
        "the daemon took {taken} bytes from the peer in 3 s over GPRS"
    );
}

/// §2.2 `AT+CIPSEND` on a slow uplink: the radio modem's send buffer takes 64 KiB, and
/// is full past that (`<cnf>` 0) rather than queueing whatever the host writes. Every
/// confirmed byte then reaches the peer.
#[test]
fn a_slow_uplink_fills_the_send_buffer_and_refuses() {
    let d = Daemon::start(&["--log-level", "error", "--link", "3g"]);
    let mut m = d.modem();
    m.send("ATE0\r", "OK\\r\\n");
    let mut peer = m.link_to_loopback_peer(1);
    peer.set_read_timeout(Some(WAIT)).expect("timeout");
    let mut confirmed = 0;
    let mut refused = false;
    for _ in 0..200 {
        m.send("AT+CIPSEND=1,1500\r", ">");
        m.send([b's'; 1500], "+CIPSEND: 1,1500,");
        match m.expect("\\r\\n").as_str() {
            "1500\\r\\n" => confirmed += 1500,
            "0\\r\\n" => {
                refused = true;
                break;
            }
            other => panic!("unexpected report {other:?}"),
        }
    }
    assert!(
        refused,
        "200 sends confirmed at once over 3G: nothing pushed back"
    );
    assert!(confirmed <= 64 * 1024, "{confirmed} bytes taken");
    let mut got = vec![0u8; confirmed];
    peer.read_exact(&mut got)
        .expect("the peer gets every confirmed byte");
    assert!(got.iter().all(|&b| b == b's'));
}
