//! The manual's chapter 6 in data mode (6.2.3, 6.3.3) and as a TCP server (6.4.1,
//! 6.4.2), run through the daemon against real peers on loopback. Exact bytes;
//! ephemeral ports are shown as `<port>` and friends. The daemon runs with shortened
//! escape guard times, and every `+++` is surrounded by more silence than that.
mod common;

use common::{free_udp_port, Daemon, Session, WAIT};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

/// Guard times given to the daemon, and the silence kept around `+++` (well past them).
const GUARD_ARGS: [&str; 4] = ["--escape-guard-ms", "300", "--escape-gap-ms", "200"];
const SILENCE: Duration = Duration::from_millis(450);

fn daemon() -> Daemon {
    Daemon::start(&GUARD_ARGS)
}

/// A guarded `+++`: silence, the escape, and the `OK` after the silence that follows.
fn escape(m: &mut Session) {
    thread::sleep(SILENCE);
    m.send("+++", "\\r\\nOK\\r\\n");
}

fn netopen(m: &mut Session) {
    m.send("AT+NETOPEN\r", "+NETOPEN: 0\\r\\n");
}

/// A TCP listener on loopback standing in for a server on the internet.
fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind peer");
    let port = l.local_addr().expect("addr").port();
    (l, port)
}

/// Accepts one connection within [`WAIT`].
fn accept(l: &TcpListener) -> TcpStream {
    l.set_nonblocking(true).expect("nonblocking");
    let deadline = Instant::now() + WAIT;
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).expect("blocking");
                s.set_read_timeout(Some(WAIT)).expect("timeout");
                return s;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "nobody connected");
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// Reads exactly `n` bytes (within [`WAIT`]).
fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut got = vec![0u8; n];
    s.read_exact(&mut got).expect("peer reads");
    got
}

/// A TCP port nobody listens on a moment ago (for `AT+SERVERSTART`).
fn free_tcp_port() -> u16 {
    listener().1
}

/// Connects to a modem's server; returns the client and its own (ephemeral) port.
fn connect_client(port: u16) -> (TcpStream, u16) {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("client connects");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    let cport = s.local_addr().expect("client addr").port();
    (s, cport)
}

#[test]
fn s6_2_3_tcp_client_transparent_mode() {
    let (l, port) = listener();
    let d = daemon();
    let mut m = d.modem();
    m.name(port, "port");
    m.send("AT+CIPMODE=1\r", "OK\\r\\n");
    netopen(&mut m);
    m.send(
        format!("AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",{port}\r"),
        "CONNECT 115200\\r\\n",
    );
    let mut peer = accept(&l);
    m.send("HELLO SERVER", "");
    assert_eq!(read_n(&mut peer, 12), b"HELLO SERVER");
    m.note("peer sends \"DATA FROM SERVER\" twice");
    peer.write_all(b"DATA FROM SERVER").expect("peer writes");
    peer.write_all(b"DATA FROM SERVER").expect("peer writes");
    m.expect("DATA FROM SERVERDATA FROM SERVER");
    escape(&mut m);
    m.send("AT+CIPOPEN?\r", "OK\\r\\n");
    m.send("ATO\r", "CONNECT 115200\\r\\n");
    m.note("peer sends \"HELLO CLIENT\"");
    peer.write_all(b"HELLO CLIENT").expect("peer writes");
    m.expect("HELLO CLIENT");
    escape(&mut m);
    m.send("AT+CIPCLOSE=0\r", "+CIPCLOSE: 0,0\\r\\n");
    let mut rest = Vec::new();
    peer.read_to_end(&mut rest).expect("peer sees the close");
    assert_eq!(rest, b"", "the escape is not data");
    insta::assert_snapshot!(m.transcript());
}

#[test]
fn s6_3_3_udp_client_transparent_mode() {
    let peer = UdpSocket::bind("127.0.0.1:0").expect("bind peer");
    peer.set_read_timeout(Some(WAIT)).expect("timeout");
    let port = peer.local_addr().expect("addr").port();
    let local = free_udp_port();
    let d = daemon();
    let mut m = d.modem();
    m.name(port, "port");
    m.name(local, "local");
    m.send("AT+CIPMODE=1\r", "OK\\r\\n");
    netopen(&mut m);
    m.send(
        format!("AT+CIPOPEN=0,\"UDP\",\"127.0.0.1\",{port},{local}\r"),
        "CONNECT 115200\\r\\n",
    );
    m.send("HELLO SERVER", "");
    let mut buf = [0u8; 2048];
    let (n, from) = peer.recv_from(&mut buf).expect("peer receives");
    assert_eq!(&buf[..n], b"HELLO SERVER");
    assert_eq!(from.port(), local, "sent from the local port given");
    m.note("peer sends \"HELLO CLIENT\" twice");
    peer.send_to(b"HELLO CLIENT", from).expect("peer sends");
    peer.send_to(b"HELLO CLIENT", from).expect("peer sends");
    m.expect("HELLO CLIENTHELLO CLIENT");
    escape(&mut m);
    m.send("AT+CIPOPEN?\r", "OK\\r\\n");
    m.send("AT+CIPCLOSE=0\r", "OK\\r\\n");
    insta::assert_snapshot!(m.transcript());
}

#[test]
fn s6_4_1_tcp_server_transparent_mode() {
    let port = free_tcp_port();
    let d = daemon();
    let mut m = d.modem();
    m.name(port, "port");
    m.send("AT+CIPMODE=1\r", "OK\\r\\n");
    netopen(&mut m);
    m.send(format!("AT+SERVERSTART={port},0\r"), "OK\\r\\n");
    let (mut client, cport) = connect_client(port);
    m.name(cport, "cport");
    m.note("a client connects");
    m.expect("CONNECT 115200\\r\\n");
    m.send("HELLO CLIENT", "");
    assert_eq!(read_n(&mut client, 12), b"HELLO CLIENT");
    m.note("client sends \"HELLO SERVER\"");
    client.write_all(b"HELLO SERVER").expect("client writes");
    m.expect("HELLO SERVER");
    escape(&mut m);
    m.send("AT+CIPCLOSE=0\r", "+CIPCLOSE: 0,0\\r\\n");
    let mut rest = Vec::new();
    client
        .read_to_end(&mut rest)
        .expect("client sees the close");
    assert_eq!(rest, b"");
    m.send("AT+SERVERSTOP=0\r", "OK\\r\\n");
    // The listener closes right after the answer; allow it a moment.
    let deadline = Instant::now() + WAIT;
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "the server still listens");
        thread::sleep(Duration::from_millis(20));
    }
    insta::assert_snapshot!(m.transcript());
}

#[test]
fn s6_4_2_tcp_server_non_transparent_mode() {
    let ports: Vec<u16> = (0..4).map(|_| free_tcp_port()).collect();
    let d = daemon();
    let mut m = d.modem();
    for (i, p) in ports.iter().enumerate() {
        m.name(p, &format!("port{i}"));
    }
    netopen(&mut m);
    for (i, p) in ports.iter().enumerate() {
        m.send(format!("AT+SERVERSTART={p},{i}\r"), "OK\\r\\n");
    }
    m.send("AT+SERVERSTART?\r", "OK\\r\\n");
    let (mut client, cport) = connect_client(ports[1]);
    m.name(cport, "cport");
    m.note("a client connects to server 1");
    m.expect("+CLIENT: 0,1,127.0.0.1:<cport>\\r\\n");
    m.send("AT+CIPOPEN?\r", "OK\\r\\n");
    m.send("AT+CIPSEND=0,5\r", ">");
    m.send("HELLO", "+CIPSEND: 0,5,5\\r\\n");
    assert_eq!(read_n(&mut client, 5), b"HELLO");
    m.send("AT+SERVERSTOP=1\r", "ERROR\\r\\n");
    m.send("AT+CIPCLOSE=0\r", "+CIPCLOSE: 0,0\\r\\n");
    for i in 0..4 {
        m.send(format!("AT+SERVERSTOP={i}\r"), "OK\\r\\n");
    }
    m.send("AT+NETCLOSE\r", "+NETCLOSE: 0\\r\\n");
    insta::assert_snapshot!(m.transcript());
}

/// Manual §1.2: while link 0 is transparent, links 1-9 keep working in command mode.
/// Link 0's peer writes while the host is in command mode; the bytes wait for `ATO`.
#[test]
fn links_1_to_9_work_in_command_mode_beside_the_transparent_link() {
    let (la, port_a) = listener();
    let (lb, port_b) = listener();
    let d = daemon();
    let mut m = d.modem();
    m.name(port_a, "port_a");
    m.name(port_b, "port_b");
    m.send("AT+CIPMODE=1\r", "OK\\r\\n");
    netopen(&mut m);
    m.send(
        format!("AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",{port_a}\r"),
        "CONNECT 115200\\r\\n",
    );
    let mut a = accept(&la);
    escape(&mut m);
    m.send(
        format!("AT+CIPOPEN=1,\"TCP\",\"127.0.0.1\",{port_b}\r"),
        "+CIPOPEN: 1,0\\r\\n",
    );
    let mut b = accept(&lb);
    m.send("AT+CIPSEND=1,5\r", ">");
    m.send("HELLO", "+CIPSEND: 1,5,5\\r\\n");
    assert_eq!(read_n(&mut b, 5), b"HELLO");
    m.note("peer B sends \"FROM B\"; peer A sends \"FROM A\"");
    b.write_all(b"FROM B").expect("peer B writes");
    m.expect("+IPD6\\r\\nFROM B");
    a.write_all(b"FROM A").expect("peer A writes");
    // Link 0's bytes are held while in command mode: give them time to arrive.
    thread::sleep(Duration::from_millis(200));
    m.send("AT+CIPOPEN?\r", "OK\\r\\n");
    m.send("ATO\r", "CONNECT 115200\\r\\nFROM A");
    m.send("TO A", "");
    assert_eq!(read_n(&mut a, 4), b"TO A");
    escape(&mut m);
    m.send("AT+CIPCLOSE=1\r", "+CIPCLOSE: 1,0\\r\\n");
    m.send("AT+CIPCLOSE=0\r", "+CIPCLOSE: 0,0\\r\\n");
    insta::assert_snapshot!(m.transcript());
}
