//! Faults injected through the control API on the REAL network (loopback peers), and a
//! link profile shaping real traffic. Exact URCs; every wait bounded.
mod common;

use common::{ctl, Daemon, Session};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

fn netopen(m: &mut Session) {
    m.send("ATE0\r", "OK\\r\\n");
    m.send("AT+NETOPEN\r", "+NETOPEN: 0\\r\\n");
}

/// Opens `link` to a fresh loopback listener; returns the peer's side.
fn open_tcp(m: &mut Session, link: u8) -> TcpStream {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind peer");
    let port = listener.local_addr().expect("addr").port();
    m.send(
        format!("AT+CIPOPEN={link},\"TCP\",\"127.0.0.1\",{port}\r"),
        &format!("+CIPOPEN: {link},0\\r\\n"),
    );
    let (peer, _) = listener.accept().expect("accept");
    peer.set_read_timeout(Some(common::WAIT)).expect("timeout");
    peer
}

#[test]
fn peer_close_fault_closes_the_real_connection() {
    let (d, control) = Daemon::start_with_control(&[]);
    let mut m = d.modem();
    netopen(&mut m);
    let mut peer = open_tcp(&mut m, 1);
    ctl(
        &control,
        &["fault", "1", r#"{"kind":"peer-close","link":1}"#],
    );
    assert_eq!(m.expect("+IPCLOSE: 1,1\\r\\n"), "\\r\\n+IPCLOSE: 1,1\\r\\n");
    let mut buf = [0u8; 8];
    assert_eq!(peer.read(&mut buf).expect("peer sees EOF"), 0);
}

#[test]
fn network_lost_fault_on_the_real_network() {
    let (d, control) = Daemon::start_with_control(&[]);
    let mut m = d.modem();
    netopen(&mut m);
    let _peer = open_tcp(&mut m, 1);
    ctl(
        &control,
        &["fault", "1", r#"{"kind":"network-lost","for_ms":0}"#],
    );
    assert_eq!(
        m.expect("UNEXPECTEDLY\\r\\n"),
        "\\r\\n+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY\\r\\n"
    );
    assert_eq!(
        m.send("AT+CIPSEND=1,1\r", "ERROR\\r\\n"),
        "\\r\\n+CIPERROR: 3\\r\\n\\r\\nERROR\\r\\n"
    );
    m.send("AT+CIPCLOSE=1\r", "+CIPCLOSE: 1,0\\r\\n");
    m.send("AT+NETCLOSE\r", "+NETCLOSE: 0\\r\\n");
    m.send("AT+NETOPEN\r", "+NETOPEN: 0\\r\\n");
    let _again = open_tcp(&mut m, 1);
}

#[test]
fn refused_open_and_dns_failure_faults_affect_only_the_next_attempt() {
    let (d, control) = Daemon::start_with_control(&[]);
    let mut m = d.modem();
    netopen(&mut m);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind peer");
    let port = listener.local_addr().expect("addr").port();
    ctl(&control, &["fault", "1", r#"{"kind":"refuse-open"}"#]);
    let out = m.send(
        format!("AT+CIPOPEN=1,\"TCP\",\"127.0.0.1\",{port}\r"),
        "+CIPOPEN: 1,1\\r\\n",
    );
    assert_eq!(out, "\\r\\nOK\\r\\n\\r\\n+CIPOPEN: 1,1\\r\\n");
    ctl(&control, &["fault", "1", r#"{"kind":"dns-failure"}"#]);
    assert_eq!(
        m.send("AT+CDNSGIP=\"localhost\"\r", "ERROR\\r\\n"),
        "\\r\\n+CDNSGIP: 0,10\\r\\n\\r\\nERROR\\r\\n"
    );
    m.send(
        "AT+CDNSGIP=\"localhost\"\r",
        "\"127.0.0.1\"\\r\\n\\r\\nOK\\r\\n",
    );
    let _peer = open_tcp(&mut m, 1);
}

#[test]
fn radio_fault_reports_registration_when_enabled() {
    let (d, control) = Daemon::start_with_control(&[]);
    let mut m = d.modem();
    m.send("ATE0;+CREG=1\r", "OK\\r\\n");
    ctl(
        &control,
        &["fault", "1", r#"{"kind":"radio","rssi":3,"reg_status":2}"#],
    );
    assert_eq!(m.expect("+CREG: 2\\r\\n"), "\\r\\n+CREG: 2\\r\\n");
    assert_eq!(
        m.send("AT+CSQ\r", "OK\\r\\n"),
        "\\r\\n+CSQ: 3,99\\r\\n\\r\\nOK\\r\\n"
    );
}

/// Seconds from sending 5 bytes to an echo peer until they come back.
fn echo_round_trip(link_profile: &[&str]) -> Duration {
    let d = Daemon::start(link_profile);
    let mut m = d.modem();
    netopen(&mut m);
    let mut peer = open_tcp(&mut m, 1);
    let echo = std::thread::spawn(move || {
        let mut buf = [0u8; 5];
        peer.read_exact(&mut buf).expect("peer reads");
        peer.write_all(&buf).expect("peer echoes");
        peer
    });
    m.send("AT+CIPSEND=1,5\r", ">");
    let start = Instant::now();
    m.send("HELLO", "+CIPSEND: 1,5,5\\r\\n");
    m.expect("+IPD5\\r\\nHELLO");
    let took = start.elapsed();
    drop(echo.join());
    took
}

#[test]
fn a_link_profile_delays_real_traffic_by_its_round_trip() {
    // 3G: 150 ms round trip plus jitter; only the lower bound is certain.
    let shaped = echo_round_trip(&["--link", "3g"]);
    assert!(shaped >= Duration::from_millis(135), "{shaped:?}");
}
