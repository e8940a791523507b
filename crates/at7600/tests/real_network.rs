//! Behaviour that needs a real network, through the daemon against loopback peers:
//! real ACK counts, refused connects, name resolution, peer closes, port conflicts and
//! every byte value both ways.
mod common;

use common::{free_udp_port, Daemon, Session};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::thread;
use std::time::Duration;

fn netopen(m: &mut Session) {
    m.send("AT+NETOPEN\r", "+NETOPEN: 0\\r\\n");
}

/// Opens link 1 to a fresh loopback listener; returns the peer's side.
fn open_tcp(m: &mut Session) -> TcpStream {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind peer");
    let port = listener.local_addr().expect("addr").port();
    m.name(port, "port");
    m.send(
        format!("AT+CIPOPEN=1,\"TCP\",\"127.0.0.1\",{port}\r"),
        "+CIPOPEN: 1,0\\r\\n",
    );
    let (peer, _) = listener.accept().expect("accept");
    peer.set_read_timeout(Some(common::WAIT)).expect("timeout");
    peer
}

#[test]
fn cipsendmode_1_reports_once_the_peer_acknowledged_and_cipack_counts() {
    let d = Daemon::start(&[]);
    let mut m = d.modem();
    netopen(&mut m);
    let mut peer = open_tcp(&mut m);
    m.send("AT+CIPSENDMODE=1\r", "OK\\r\\n");
    m.send("AT+CIPSEND=1,5\r", ">");
    m.send("HELLO", "+CIPSEND: 1,5,5\\r\\n");
    let mut got = [0u8; 5];
    peer.read_exact(&mut got).expect("peer reads");
    assert_eq!(&got, b"HELLO");
    peer.write_all(b"data from server").expect("peer writes");
    m.expect("data from server");
    m.send("AT+CIPACK=1\r", "OK\\r\\n");
    insta::assert_snapshot!(m.transcript());
}

#[test]
fn a_refused_connect_is_cipopen_1() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let d = Daemon::start(&[]);
    let mut m = d.modem();
    m.name(port, "port");
    netopen(&mut m);
    let out = m.send(
        format!("AT+CIPOPEN=1,\"TCP\",\"127.0.0.1\",{port}\r"),
        "+CIPOPEN: 1,1\\r\\n",
    );
    assert!(
        out.contains("\\r\\nOK\\r\\n\\r\\n+CIPOPEN: 1,1\\r\\n"),
        "{out}"
    );
    // The link is free again.
    let out = m.send("AT+CIPOPEN?\r", "OK\\r\\n");
    assert!(out.contains("+CIPOPEN: 1\\r\\n"), "{out}");
}

#[test]
fn names_resolve_in_cdnsgip_and_cipopen() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind peer");
    let port = listener.local_addr().expect("addr").port();
    let d = Daemon::start(&[]);
    let mut m = d.modem();
    m.name(port, "port");
    netopen(&mut m);
    m.send("AT+CDNSGIP=\"localhost\"\r", "OK\\r\\n");
    m.send("AT+CDNSGIP=\"no-such-host.invalid\"\r", "ERROR\\r\\n");
    m.send(
        format!("AT+CIPOPEN=1,\"TCP\",\"localhost\",{port}\r"),
        "+CIPOPEN: 1,0\\r\\n",
    );
    m.send(
        format!("AT+CIPOPEN=2,\"TCP\",\"no-such-host.invalid\",{port}\r"),
        "+CIPOPEN: 2,11\\r\\n",
    );
    let _peer = listener.accept().expect("accept");
    m.send("AT+CIPOPEN?\r", "OK\\r\\n");
    insta::assert_snapshot!(m.transcript());
}

#[test]
fn a_peer_close_in_direct_push_is_ipclose_1_after_the_data() {
    let d = Daemon::start(&[]);
    let mut m = d.modem();
    netopen(&mut m);
    let mut peer = open_tcp(&mut m);
    peer.write_all(b"last words").expect("peer writes");
    drop(peer);
    let out = m.expect("+IPCLOSE: 1,1\\r\\n");
    assert!(
        out.ends_with("+IPD10\\r\\nlast words\\r\\n+IPCLOSE: 1,1\\r\\n"),
        "{out}"
    );
    let out = m.send("AT+CIPCLOSE?\r", "OK\\r\\n");
    assert!(out.contains("+CIPCLOSE: 0,0,0,0,0,0,0,0,0,0"), "{out}");
}

#[test]
fn buffered_data_stays_readable_after_the_peer_closed() {
    let d = Daemon::start(&[]);
    let mut m = d.modem();
    netopen(&mut m);
    m.send("AT+CIPRXGET=1\r", "OK\\r\\n");
    let mut peer = open_tcp(&mut m);
    peer.write_all(b"kept for later").expect("peer writes");
    drop(peer);
    m.expect("+IPCLOSE: 1,1\\r\\n");
    m.send("AT+CIPRXGET=4,1\r", "OK\\r\\n");
    m.send("AT+CIPRXGET=2,1,4\r", "OK\\r\\n");
    m.send("AT+CIPRXGET=2,1\r", "OK\\r\\n");
    m.send("AT+CIPRXGET=2,1\r", "ERROR\\r\\n");
    insta::assert_snapshot!(m.transcript());
}

#[test]
fn a_udp_local_port_in_use_is_cipopen_6() {
    let taken = UdpSocket::bind("0.0.0.0:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let d = Daemon::start(&[]);
    let mut m = d.modem();
    m.name(port, "port");
    netopen(&mut m);
    let out = m.send(format!("AT+CIPOPEN=1,\"UDP\",,,{port}\r"), "ERROR\\r\\n");
    assert!(
        out.ends_with("\\r\\n+CIPOPEN: 1,6\\r\\n\\r\\nERROR\\r\\n"),
        "{out}"
    );
}

#[test]
fn every_byte_value_crosses_both_ways() {
    let all: Vec<u8> = (0..=255).collect();
    let d = Daemon::start(&[]);
    let mut m = d.modem();
    netopen(&mut m);
    m.send("AT+CIPHEAD=0;+CIPSRIP=0\r", "OK\\r\\n");
    let mut peer = open_tcp(&mut m);
    m.send("AT+CIPSEND=1,256\r", ">");
    m.send(&all, "+CIPSEND: 1,256,256\\r\\n");
    let mut got = vec![0u8; 256];
    peer.read_exact(&mut got).expect("peer reads");
    assert_eq!(got, all);
    peer.write_all(&all).expect("peer writes");
    let shown = common::show(&all);
    let out = m.expect(&shown);
    assert_eq!(out, shown, "raw bytes, no header");
}

#[test]
fn udp_datagrams_keep_their_boundaries_in_buffer_mode() {
    let local = free_udp_port();
    let d = Daemon::start(&[]);
    let mut m = d.modem();
    m.name(local, "local");
    netopen(&mut m);
    m.send("AT+CIPRXGET=1\r", "OK\\r\\n");
    m.send(format!("AT+CIPOPEN=1,\"UDP\",,,{local}\r"), "OK\\r\\n");
    let peer = UdpSocket::bind("127.0.0.1:0").expect("bind");
    peer.send_to(b"first", ("127.0.0.1", local)).expect("send");
    peer.send_to(b"second!", ("127.0.0.1", local))
        .expect("send");
    m.expect("+CIPRXGET: 1,1\\r\\n");
    thread::sleep(Duration::from_millis(200));
    m.send("AT+CIPRXGET=2,1\r", "OK\\r\\n");
    m.send("AT+CIPRXGET=2,1,3\r", "OK\\r\\n");
    m.send("AT+CIPRXGET=2,1\r", "OK\\r\\n");
    insta::assert_snapshot!(m.transcript());
}
