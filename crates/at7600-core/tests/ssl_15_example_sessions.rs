//! `ssl.md` §15: every example session, byte for byte, with the scripted network in
//! place of the TLS server.

mod common;
use at7600_core::{NetCommand, NetEvent, TlsAuth};
use common::{show, Bench};

const CA: &[u8] = b"-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n";

#[test]
fn certificate_download_list_errors() {
    let mut b = Bench::quiet();
    let pem: Vec<u8> = CA.iter().copied().cycle().take(1188).collect();
    assert_eq!(b.host("AT+CCERTDOWN=\"ca.pem\",1188\r"), r"\r\n>");
    assert_eq!(b.host(&pem), r"\r\nOK\r\n");
    b.expect_answers(&[
        ("AT+CCERTLIST", r#"\r\n+CCERTLIST: "ca.pem"\r\n\r\nOK\r\n"#),
        ("AT+CCERTDOWN=\"ca.txt\",10", r"\r\nERROR\r\n"),
        ("AT+CCERTDELE=\"old.pem\"", r"\r\nERROR\r\n"),
    ]);
}

#[test]
fn verified_tls_manual_receive_send_reports() {
    let mut b = Bench::quiet();
    b.cert("ca.pem", CA);
    b.expect_answers(&[
        ("AT+CSSLCFG=\"sslversion\",0,4", r"\r\nOK\r\n"),
        ("AT+CSSLCFG=\"authmode\",0,1", r"\r\nOK\r\n"),
        ("AT+CSSLCFG=\"cacert\",0,\"ca.pem\"", r"\r\nOK\r\n"),
        ("AT+CSSLCFG=\"enableSNI\",0,1", r"\r\nOK\r\n"),
        ("AT+CCHSET=1,1", r"\r\nOK\r\n"),
        ("AT+CCHSTART", r"\r\nOK\r\n\r\n+CCHSTART: 0\r\n"),
        ("AT+CCHSSLCFG=0,0", r"\r\nOK\r\n"),
        (
            "AT+CCHOPEN=0,\"example.com\",443,2",
            r"\r\nOK\r\n\r\n+CCHOPEN: 0,0\r\n",
        ),
    ]);
    let tls = b.last_tls().expect("a TLS open");
    assert_eq!(tls.auth, TlsAuth::Server);
    assert_eq!(tls.ca, CA);
    assert!(tls.sni);
    assert_eq!(tls.server_name, "example.com");
    let conn = b.last_conn();
    assert_eq!(b.host("AT+CCHSEND=0,18\r"), r"\r\n>");
    assert_eq!(
        b.host("GET / HTTP/1.0\r\n\r\n"),
        r"\r\nOK\r\n\r\n+CCHSEND: 0,0\r\n"
    );
    assert_eq!(b.sent_data(), vec![b"GET / HTTP/1.0\r\n\r\n".to_vec()]);
    let body: Vec<u8> = (0..1500u32).map(|i| b'a' + (i % 26) as u8).collect();
    assert_eq!(
        b.data(conn, &body[..1300]),
        r"\r\n+CCHEVENT: 0,RECV EVENT\r\n"
    );
    b.expect_answers(&[("AT+CCHRECV?", r"\r\n+CCHRECV: LEN,1300,0\r\n\r\nOK\r\n")]);
    let expected = format!(
        r"\r\nOK\r\n\r\n+CCHRECV: DATA,0,1024\r\n{}\r\n+CCHRECV: DATA,0,76\r\n{}\r\n+CCHRECV: 0,0\r\n",
        show(&body[..1024]),
        show(&body[1024..1100])
    );
    assert_eq!(b.host("AT+CCHRECV=0,1100\r"), expected);
    assert_eq!(
        b.event(NetEvent::PeerClosed { conn }),
        r"\r\n+CCH_PEER_CLOSED: 0\r\n"
    );
    b.expect_answers(&[(
        "AT+CCHOPEN?",
        r#"\r\n+CCHOPEN: 0,"example.com",443,2,\r\n+CCHOPEN: 1,"",,,\r\n\r\nOK\r\n"#,
    )]);
    let expected = format!(
        r"\r\nOK\r\n\r\n+CCHRECV: DATA,0,200\r\n{}\r\n+CCHRECV: 0,0\r\n",
        show(&body[1100..1300])
    );
    assert_eq!(b.host("AT+CCHRECV=0\r"), expected);
    b.expect_answers(&[
        ("AT+CCHRECV=0", r"\r\n+CCHRECV: 0,4\r\n\r\nERROR\r\n"),
        ("AT+CCHCLOSE=0", r"\r\nOK\r\n\r\n+CCHCLOSE: 0,0\r\n"),
        ("AT+CCHCLOSE=0", r"\r\nERROR\r\n"),
        ("AT+CCHSTOP", r"\r\nOK\r\n\r\n+CCHSTOP: 0\r\n"),
        ("AT+CCHSTOP", r"\r\nERROR\r\n"),
    ]);
}

#[test]
fn automatic_receive_over_plain_tcp() {
    let mut b = Bench::quiet();
    b.expect_answers(&[
        ("AT+CCHSET=1", r"\r\nOK\r\n"),
        ("AT+CCHSTART", r"\r\nOK\r\n\r\n+CCHSTART: 0\r\n"),
        (
            "AT+CCHOPEN=1,\"example.com\",80,1",
            r"\r\nOK\r\n\r\n+CCHOPEN: 1,0\r\n",
        ),
    ]);
    assert_eq!(b.last_tls(), None, "client type 1 is plain TCP");
    let conn = b.last_conn();
    assert_eq!(b.host("AT+CCHSEND=1,18\r"), r"\r\n>");
    assert_eq!(
        b.host("GET / HTTP/1.0\r\n\r\n"),
        r"\r\nOK\r\n\r\n+CCHSEND: 1,0\r\n"
    );
    let body: Vec<u8> = (0..1357u32).map(|i| b'0' + (i % 10) as u8).collect();
    let expected = format!(
        r"\r\n+CCHRECV: DATA,1,1024\r\n{}\r\n+CCHRECV: DATA,1,333\r\n{}",
        show(&body[..1024]),
        show(&body[1024..])
    );
    assert_eq!(b.data(conn, &body), expected);
    assert_eq!(
        b.event(NetEvent::PeerClosed { conn }),
        r"\r\n+CCH_PEER_CLOSED: 1\r\n"
    );
    b.expect_answers(&[("AT+CCHCLOSE=1", r"\r\nOK\r\n\r\n+CCHCLOSE: 1,0\r\n")]);
}

#[test]
fn mutual_tls_and_failures() {
    let mut b = Bench::quiet();
    b.cert("ca.pem", CA);
    b.cert("dev.pem", b"client certificate");
    b.host("AT+CRESET\r");
    b.advance(std::time::Duration::from_secs(30));
    b.host("ATE0\r");
    b.cch_start();
    b.expect_answers(&[
        ("AT+CSSLCFG=\"authmode\",1,2", r"\r\nOK\r\n"),
        ("AT+CSSLCFG=\"cacert\",1,\"ca.pem\"", r"\r\nOK\r\n"),
        ("AT+CSSLCFG=\"clientcert\",1,\"dev.pem\"", r"\r\nOK\r\n"),
        ("AT+CSSLCFG=\"clientkey\",1,\"dev.key.pem\"", r"\r\nOK\r\n"),
        (
            "AT+CCHOPEN=1,\"mqtt.example.com\",8883",
            r"\r\nOK\r\n\r\n+CCHOPEN: 1,19\r\n",
        ),
    ]);
    let key = [0x30u8; 241];
    assert_eq!(b.host("AT+CCERTDOWN=\"dev.key.pem\",241\r"), r"\r\n>");
    assert_eq!(b.host(key), r"\r\nOK\r\n");
    b.expect_answers(&[(
        "AT+CCHOPEN=1,\"mqtt.example.com\",8883",
        r"\r\nOK\r\n\r\n+CCHOPEN: 1,0\r\n",
    )]);
    let tls = b.last_tls().expect("a TLS open");
    assert_eq!(tls.auth, TlsAuth::Mutual);
    assert_eq!(tls.client_key, key);
    assert_eq!(tls.client_cert, b"client certificate");
    b.expect_answers(&[
        (
            "AT+CCHOPEN=0,\"expired.example.com\",443",
            r"\r\nOK\r\n\r\n+CCHOPEN: 0,0\r\n",
        ),
        ("AT+CCHSTART", r"\r\nERROR\r\n"),
    ]);
    assert_eq!(b.last_tls().map(|t| t.auth), Some(TlsAuth::None));
}

#[test]
fn handshake_failures_are_15() {
    let mut b = Bench::quiet();
    b.cert("ca.pem", CA);
    b.cch_start();
    b.expect_answers(&[
        ("AT+CSSLCFG=\"authmode\",0,1", r"\r\nOK\r\n"),
        ("AT+CSSLCFG=\"cacert\",0,\"ca.pem\"", r"\r\nOK\r\n"),
    ]);
    b.tls = common::TlsScript::Fail(at7600_core::OpenError::Handshake);
    b.cch_open(0, "wrong.host.example.com", 443, 2, 15);
    assert!(b
        .log
        .iter()
        .any(|c| matches!(c, NetCommand::Open { tls: Some(_), .. })));
}

#[test]
fn transparent_flow() {
    let mut b = Bench::quiet();
    b.expect_answers(&[
        ("AT+CCHMODE=1", r"\r\nOK\r\n"),
        ("AT+CCHSTART", r"\r\nOK\r\n\r\n+CCHSTART: 0\r\n"),
        (
            "AT+CCHOPEN=0,\"example.com\",443,2",
            r"\r\nCONNECT 115200\r\n",
        ),
    ]);
    let conn = b.last_conn();
    assert_eq!(b.host("GET / HTTP/1.0\r\n\r\n"), "");
    assert_eq!(b.sent_data(), vec![b"GET / HTTP/1.0\r\n\r\n".to_vec()]);
    assert_eq!(b.data(conn, b"HTTP/1.0 200 OK\r\n"), r"HTTP/1.0 200 OK\r\n");
    b.advance(std::time::Duration::from_secs(1));
    assert_eq!(b.host("+++"), "");
    assert_eq!(b.advance(std::time::Duration::from_secs(1)), r"\r\nOK\r\n");
    b.expect_answers(&[
        ("AT+CCHCLOSE=0", r"\r\nOK\r\n\r\nCLOSED\r\n"),
        ("AT+CCHSTOP", r"\r\nOK\r\n\r\n+CCHSTOP: 0\r\n"),
    ]);
}

#[test]
fn network_lost_with_a_session_open_a76xx() {
    let mut b = Bench::a76xx();
    b.cch_start();
    b.cch_open(0, "example.com", 443, 2, 0);
    assert_eq!(
        b.event(NetEvent::NetworkLost),
        r"\r\n+CCH_PEER_CLOSED: 0\r\n\r\n+CCH: CCH STOP\r\n"
    );
    b.expect_answers(&[
        ("AT+CCHRECV?", r"\r\n+CCHRECV: LEN,0,0\r\n\r\nOK\r\n"),
        ("AT+CCHSTOP", r"\r\nERROR\r\n"),
    ]);
}
