//! The destination policy (docs/network.md): a modem on `--tcp` reaches neither the
//! control API, nor its own front end, nor another modem's server; `--deny` and
//! `--allow` rules refuse TCP opens (`+CIPOPEN: <link>,1`, the manual's network
//! failure) and UDP sends (`<cnfSendLength>` -1); names can be kept from resolving.
//! Loopback only; every wait bounded.
mod common;

use common::{free_udp_port, Daemon, Session};
use std::net::{TcpListener, UdpSocket};
use std::time::Duration;

fn netopen(m: &mut Session) {
    m.send("AT+NETOPEN\r", "+NETOPEN: 0\\r\\n");
}

/// `AT+CIPOPEN=1,"TCP",host,port` and its result line.
fn cipopen(m: &mut Session, host: &str, port: u16) -> String {
    m.send(
        format!("AT+CIPOPEN=1,\"TCP\",\"{host}\",{port}\r"),
        "+CIPOPEN: 1,",
    );
    m.expect("\\r\\n")
}

fn port_of(addr: &str) -> u16 {
    addr.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("ADDR:PORT")
}

fn peer() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").expect("peer binds");
    let port = l.local_addr().expect("addr").port();
    (l, port)
}

#[test]
fn a_modem_cannot_reach_the_control_api() {
    let (d, control) = Daemon::start_with_control(&[]);
    let mut m = d.modem();
    netopen(&mut m);
    assert_eq!(cipopen(&mut m, "127.0.0.1", port_of(&control)), "1\\r\\n");
    // Nor through 0.0.0.0, which the kernel takes for this host.
    assert_eq!(cipopen(&mut m, "0.0.0.0", port_of(&control)), "1\\r\\n");
    // The API saw nothing and still has its modem.
    let listed = common::ctl(&control, &["list"]);
    assert!(listed.contains("\"state\":\"network-open\""), "{listed}");
}

#[test]
fn a_modem_cannot_reach_its_own_front_end() {
    let d = Daemon::start(&[]);
    let mut m = d.modem();
    netopen(&mut m);
    assert_eq!(cipopen(&mut m, "127.0.0.1", port_of(&d.addr)), "1\\r\\n");
}

#[test]
fn a_modem_cannot_reach_another_modems_server() {
    let d = Daemon::start(&[]);
    let port = {
        let (l, port) = peer();
        drop(l);
        port
    };
    let mut server = d.modem();
    netopen(&mut server);
    server.send(format!("AT+SERVERSTART={port},0\r"), "OK\\r\\n");
    let mut other = d.modem();
    netopen(&mut other);
    assert_eq!(cipopen(&mut other, "127.0.0.1", port), "1\\r\\n");
    // Once the server stops, the port is an ordinary destination again.
    server.send("AT+SERVERSTOP=0\r", "OK\\r\\n");
    let (_l, free) = peer();
    assert_eq!(cipopen(&mut other, "127.0.0.1", free), "0\\r\\n");
}

#[test]
fn denied_ports_are_refused_and_others_open() {
    let (_denied_peer, denied) = peer();
    let (_open_peer, open) = peer();
    let d = Daemon::start(&["--deny", &format!("127.0.0.0/8:{denied}")]);
    let mut m = d.modem();
    netopen(&mut m);
    assert_eq!(cipopen(&mut m, "127.0.0.1", denied), "1\\r\\n");
    assert_eq!(cipopen(&mut m, "127.0.0.1", open), "0\\r\\n");
}

#[test]
fn with_an_allow_list_only_its_destinations_open() {
    let (_allowed_peer, allowed) = peer();
    let (_other_peer, other) = peer();
    let d = Daemon::start(&["--allow", &format!("127.0.0.1:{allowed}")]);
    let mut m = d.modem();
    netopen(&mut m);
    assert_eq!(cipopen(&mut m, "127.0.0.1", other), "1\\r\\n");
    assert_eq!(cipopen(&mut m, "127.0.0.1", allowed), "0\\r\\n");
}

#[test]
fn a_udp_send_to_a_denied_destination_fails() {
    let denied = UdpSocket::bind("127.0.0.1:0").expect("denied peer");
    let open = UdpSocket::bind("127.0.0.1:0").expect("open peer");
    open.set_read_timeout(Some(common::WAIT)).expect("timeout");
    let denied_port = denied.local_addr().expect("addr").port();
    let open_port = open.local_addr().expect("addr").port();
    let d = Daemon::start(&["--deny", &format!("127.0.0.1:{denied_port}")]);
    let mut m = d.modem();
    netopen(&mut m);
    let local = free_udp_port();
    m.send(format!("AT+CIPOPEN=1,\"UDP\",,,{local}\r"), "OK\\r\\n");
    m.send(format!("AT+CIPSEND=1,5,\"127.0.0.1\",{denied_port}\r"), ">");
    m.send("HELLO", "+CIPSEND: 1,5,-1\\r\\n");
    m.send(format!("AT+CIPSEND=1,5,\"127.0.0.1\",{open_port}\r"), ">");
    m.send("HELLO", "+CIPSEND: 1,5,5\\r\\n");
    let mut buf = [0u8; 16];
    let (n, _) = open.recv_from(&mut buf).expect("the allowed peer gets it");
    assert_eq!(&buf[..n], b"HELLO");
    // And a UDP link whose fixed remote is denied does not open.
    m.send(
        format!("AT+CIPOPEN=2,\"UDP\",\"127.0.0.1\",{denied_port},0\r"),
        "+CIPOPEN: 2,1\\r\\n",
    );
    denied
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    assert!(
        denied.recv_from(&mut buf).is_err(),
        "the denied peer got a datagram"
    );
}

#[test]
fn without_dns_no_name_is_looked_up() {
    let d = Daemon::start(&["--no-dns"]);
    let mut m = d.modem();
    netopen(&mut m);
    m.send("AT+CDNSGIP=\"localhost\"\r", "+CDNSGIP: 0,10\\r\\n");
    let (_l, port) = peer();
    assert_eq!(cipopen(&mut m, "localhost", port), "11\\r\\n");
    assert_eq!(cipopen(&mut m, "127.0.0.1", port), "0\\r\\n");
}

#[test]
fn the_simulated_network_follows_the_same_policy() {
    let d = Daemon::start(&["--network", "sim", "--deny", "192.0.2.7/32"]);
    let mut m = d.modem();
    netopen(&mut m);
    // echo.sim is 192.0.2.7: refused, and its name does not resolve either.
    assert_eq!(cipopen(&mut m, "192.0.2.7", 7), "1\\r\\n");
    m.send("AT+CDNSGIP=\"echo.sim\"\r", "+CDNSGIP: 0,10\\r\\n");
    m.send("AT+CDNSGIP=\"www.sim\"\r", "OK\\r\\n");
    assert_eq!(cipopen(&mut m, "www.sim", 80), "0\\r\\n");
}
