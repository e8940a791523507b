//! §2.2 `AT+CIPSEND` against a loopback echo peer, through the daemon: the report of
//! each send comes before the echo it caused, every time, in both send modes (issue 9,
//! item 6). A reply needs a round trip; the report does not.
mod common;

use common::{Daemon, Session};
use std::io::{Read, Write};
use std::thread;

/// Rounds per mode: the inversion was a race, so the order is checked many times.
const ROUNDS: u32 = 150;

/// Opens link 1 to a loopback peer that echoes everything back.
fn open_to_echo(m: &mut Session) {
    let mut peer = m.link_to_loopback_peer(1);
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = peer.read(&mut buf) {
            if n == 0 || peer.write_all(&buf[..n]).is_err() {
                return;
            }
        }
    });
}

fn reports_come_before_echoes(sendmode: u8) {
    let d = Daemon::start(&["--log-level", "error"]);
    let mut m = d.modem();
    m.send("ATE0\r", "OK\\r\\n");
    m.send(format!("AT+CIPSENDMODE={sendmode}\r"), "OK\\r\\n");
    open_to_echo(&mut m);
    for round in 0..ROUNDS {
        let data = format!("{round:05}");
        m.send("AT+CIPSEND=1,5\r", ">");
        let before_echo = m.send(&data, "+IPD5\\r\\n");
        assert!(
            before_echo.contains("+CIPSEND: 1,5,5"),
            "mode {sendmode}, round {round}: the echo came before the report: {before_echo}"
        );
        m.expect(&data);
    }
}

#[test]
fn cipsend_reports_come_before_the_echo() {
    reports_come_before_echoes(0);
}

#[test]
fn cipsendmode_1_reports_come_before_the_echo() {
    reports_come_before_echoes(1);
}
