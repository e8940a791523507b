//! The manual's chapter 6, example by example, run through the daemon against real
//! peers on loopback. Exact bytes; ephemeral ports are shown as `<port>` and friends.
mod common;

use common::{free_udp_port, Daemon, Session};
use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::thread;
use std::time::Duration;

/// A TCP peer: accepts one client, reads `expect` bytes, answers `reply`, then waits
/// for the client to close. Returns what it read.
fn tcp_peer(expect: usize, reply: &'static [u8]) -> (u16, thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind peer");
    let port = listener.local_addr().expect("addr").port();
    let peer = thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        s.set_read_timeout(Some(common::WAIT)).expect("timeout");
        let mut got = vec![0u8; expect];
        s.read_exact(&mut got).expect("peer reads the payload");
        s.write_all(reply).expect("peer replies");
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        got.extend(rest);
        got
    });
    (port, peer)
}

fn netopen(m: &mut Session) {
    m.send("AT+NETOPEN\r", "+NETOPEN: 0\\r\\n");
}

#[test]
fn s6_1_configure_and_activate_context() {
    let d = Daemon::start(&[]);
    let mut m = d.modem();
    m.send("AT+CSQ\r", "OK\\r\\n");
    m.send("AT+CREG?\r", "OK\\r\\n");
    m.send("AT+CPSI?\r", "OK\\r\\n");
    m.send("AT+CGREG?\r", "OK\\r\\n");
    m.send("AT+CGDCONT=1,\"IP\",\"CMNET\"\r", "OK\\r\\n");
    netopen(&mut m);
    m.send("AT+IPADDR\r", "OK\\r\\n");
    m.send("AT+NETCLOSE\r", "+NETCLOSE: 0\\r\\n");
    insta::assert_snapshot!(m.transcript());
}

#[test]
fn s6_2_1_tcp_client_direct_push_mode() {
    let (port, peer) = tcp_peer(15, b"data from server");
    let d = Daemon::start(&[]);
    let mut m = d.modem();
    m.name(port, "port");
    netopen(&mut m);
    m.send(
        format!("AT+CIPOPEN=1,\"TCP\",\"127.0.0.1\",{port}\r"),
        "+CIPOPEN: 1,0\\r\\n",
    );
    m.send("AT+CIPSEND=1,5\r", ">");
    m.send("HELLO", "+CIPSEND: 1,5,5\\r\\n");
    m.send("AT+CIPSEND=1\r", ">");
    m.send("HELLOWORLD\x1a", "+CIPSEND: 1,10,10\\r\\n");
    m.expect("data from server");
    m.send("AT+CIPCLOSE=1\r", "+CIPCLOSE: 1,0\\r\\n");
    assert_eq!(peer.join().expect("peer"), b"HELLOHELLOWORLD");
    insta::assert_snapshot!(m.transcript());
}

#[test]
fn s6_2_2_tcp_client_buffer_access_mode() {
    let (port, peer) = tcp_peer(5, b"data from server");
    let d = Daemon::start(&[]);
    let mut m = d.modem();
    m.name(port, "port");
    netopen(&mut m);
    m.send("AT+CIPRXGET=1\r", "OK\\r\\n");
    m.send(
        format!("AT+CIPOPEN=1,\"TCP\",\"127.0.0.1\",{port}\r"),
        "+CIPOPEN: 1,0\\r\\n",
    );
    m.send("AT+CIPSEND=1,5\r", ">");
    m.send("hello", "+CIPSEND: 1,5,5\\r\\n");
    m.expect("+CIPRXGET: 1,1\\r\\n");
    // One segment of 16 bytes from the peer; let all of it land in the buffer.
    thread::sleep(Duration::from_millis(200));
    m.send("AT+CIPRXGET=4,1\r", "OK\\r\\n");
    m.send("AT+CIPRXGET=2,1,5\r", "OK\\r\\n");
    m.send("AT+CIPRXGET=3,1,5\r", "OK\\r\\n");
    m.send("AT+CIPRXGET=4,1\r", "OK\\r\\n");
    m.send("AT+CIPRXGET=2,2\r", "ERROR\\r\\n");
    m.send("AT+CIPRXGET=2,1\r", "OK\\r\\n");
    m.send("AT+CIPRXGET=4,1\r", "OK\\r\\n");
    m.send("AT+CIPCLOSE=1\r", "+CIPCLOSE: 1,0\\r\\n");
    assert_eq!(peer.join().expect("peer"), b"hello");
    insta::assert_snapshot!(m.transcript());
}

/// A UDP peer that answers the modem's second datagram with `reply`.
fn udp_peer(reply: &'static [u8]) -> (u16, thread::JoinHandle<Vec<Vec<u8>>>) {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind peer");
    let port = sock.local_addr().expect("addr").port();
    let peer = thread::spawn(move || {
        sock.set_read_timeout(Some(common::WAIT)).expect("timeout");
        let mut got = Vec::new();
        let mut buf = [0u8; 2048];
        let mut from = None;
        for _ in 0..2 {
            let (n, f) = sock.recv_from(&mut buf).expect("peer receives");
            got.push(buf[..n].to_vec());
            from = Some(f);
        }
        if let Some(from) = from {
            sock.send_to(reply, from).expect("peer replies");
        }
        got
    });
    (port, peer)
}

#[test]
fn s6_3_1_udp_client_direct_push_mode() {
    let (port, peer) = udp_peer(b"HELLO CLIENT");
    let local = free_udp_port();
    let d = Daemon::start(&[]);
    let mut m = d.modem();
    m.name(port, "port");
    m.name(local, "local");
    netopen(&mut m);
    m.send(format!("AT+CIPOPEN=1,\"UDP\",,,{local}\r"), "OK\\r\\n");
    m.send(format!("AT+CIPSEND=1,,\"127.0.0.1\",{port}\r"), ">");
    m.send("HELLOSERVER\x1a", "+CIPSEND: 1,11,11\\r\\n");
    m.send(format!("AT+CIPSEND=1,5,\"127.0.0.1\",{port}\r"), ">");
    m.send("HELLO", "+CIPSEND: 1,5,5\\r\\n");
    m.expect("HELLO CLIENT");
    m.send("AT+CIPCLOSE=1\r", "OK\\r\\n");
    let got = peer.join().expect("peer");
    assert_eq!(got, [b"HELLOSERVER".to_vec(), b"HELLO".to_vec()]);
    insta::assert_snapshot!(m.transcript());
}

#[test]
fn s6_3_2_udp_client_buffer_access_mode() {
    let (port, peer) = udp_peer(b"data from server");
    let local = free_udp_port();
    let d = Daemon::start(&[]);
    let mut m = d.modem();
    m.name(port, "port");
    m.name(local, "local");
    netopen(&mut m);
    m.send("AT+CIPRXGET=1\r", "OK\\r\\n");
    m.send(format!("AT+CIPOPEN=1,\"UDP\",,,{local}\r"), "OK\\r\\n");
    m.send(format!("AT+CIPSEND=1,,\"127.0.0.1\",{port}\r"), ">");
    m.send("HELLOSERVER\x1a", "+CIPSEND: 1,11,11\\r\\n");
    m.send(format!("AT+CIPSEND=1,5,\"127.0.0.1\",{port}\r"), ">");
    m.send("HELLO", "+CIPSEND: 1,5,5\\r\\n");
    m.expect("+CIPRXGET: 1,1\\r\\n");
    m.send("AT+CIPRXGET=4,1\r", "OK\\r\\n");
    m.send("AT+CIPRXGET=2,1,5\r", "OK\\r\\n");
    m.send("AT+CIPRXGET=3,1,5\r", "OK\\r\\n");
    m.send("AT+CIPRXGET=4,1\r", "OK\\r\\n");
    m.send("AT+CIPRXGET=2,2\r", "ERROR\\r\\n");
    m.send("AT+CIPRXGET=2,1\r", "OK\\r\\n");
    m.send("AT+CIPRXGET=4,1\r", "OK\\r\\n");
    m.send("AT+CIPCLOSE=1\r", "OK\\r\\n");
    let got = peer.join().expect("peer");
    assert_eq!(got, [b"HELLOSERVER".to_vec(), b"HELLO".to_vec()]);
    insta::assert_snapshot!(m.transcript());
}

#[test]
fn s6_6_query_connection_status() {
    let (port, peer) = tcp_peer(0, b"");
    let d = Daemon::start(&[]);
    let mut m = d.modem();
    m.name(port, "port");
    netopen(&mut m);
    m.send(
        format!("AT+CIPOPEN=1,\"TCP\",\"127.0.0.1\",{port}\r"),
        "+CIPOPEN: 1,0\\r\\n",
    );
    m.send("AT+CIPOPEN?\r", "OK\\r\\n");
    m.send("AT+CIPCLOSE?\r", "OK\\r\\n");
    m.send("AT+CIPCLOSE=1\r", "+CIPCLOSE: 1,0\\r\\n");
    m.send("AT+CIPCLOSE?\r", "OK\\r\\n");
    assert_eq!(peer.join().expect("peer"), b"");
    insta::assert_snapshot!(m.transcript());
}
