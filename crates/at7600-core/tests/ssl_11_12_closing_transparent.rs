//! `ssl.md` §11 and §12: closing, the server closing, the network going (per
//! personality), and the transparent session.

mod common;
use at7600_core::{NetCommand, NetEvent, OpenError};
use common::{Bench, TlsScript};
use std::time::Duration;

#[test]
fn cchclose_forms() {
    let mut b = Bench::quiet();
    b.cch_start();
    b.expect_errors(&[
        "AT+CCHCLOSE=0",
        "AT+CCHCLOSE=2",
        "AT+CCHCLOSE",
        "AT+CCHCLOSE?",
    ]);
    b.expect_answers(&[("AT+CCHCLOSE=?", r"\r\n+CCHCLOSE: (0,1)\r\n\r\nOK\r\n")]);
    b.cch_open(1, "example.com", 443, 2, 0);
    let conn = b.last_conn();
    b.expect_answers(&[("AT+CCHCLOSE=1", r"\r\nOK\r\n\r\n+CCHCLOSE: 1,0\r\n")]);
    assert!(b.log.contains(&NetCommand::Close { conn }));
}

#[test]
fn network_gone_sim7600_keeps_the_service() {
    let mut b = Bench::quiet();
    b.host("AT+CCHSET=0,1\r");
    b.cch_start();
    b.cch_open(0, "example.com", 443, 2, 0);
    let conn = b.last_conn();
    b.data(conn, b"kept");
    assert_eq!(
        b.host("AT+CFUN=0\r"),
        r"\r\nOK\r\n\r\n+CCH_PEER_CLOSED: 0\r\n"
    );
    assert!(b.log.contains(&NetCommand::Close { conn }));
    b.cch_open(1, "example.com", 443, 2, 17);
    b.expect_answers(&[
        (
            "AT+CCHRECV=0",
            r"\r\nOK\r\n\r\n+CCHRECV: DATA,0,4\r\nkept\r\n+CCHRECV: 0,0\r\n",
        ),
        ("AT+CFUN=1", r"\r\nOK\r\n"),
    ]);
    b.cch_open(1, "example.com", 443, 2, 0);
}

#[test]
fn network_gone_a76xx_stops_the_service() {
    let mut b = Bench::a76xx();
    b.cch_start();
    b.cch_open(1, "example.com", 443, 2, 0);
    assert_eq!(
        b.host("AT+CGATT=0\r"),
        r"\r\nOK\r\n\r\n+CCH_PEER_CLOSED: 1\r\n\r\n+CCH: CCH STOP\r\n"
    );
    b.expect_answers(&[
        (
            "AT+CCHOPEN?",
            r#"\r\n+CCHOPEN: 0,"",,,\r\n+CCHOPEN: 1,"",,,\r\n\r\nOK\r\n"#,
        ),
        ("AT+CCHSTOP", r"\r\nERROR\r\n"),
        ("AT+CGATT=1", r"\r\nOK\r\n"),
    ]);
    b.cch_start();
}

/// Transparent mode started, session 0 open and in data mode; its connection.
fn transparent() -> (Bench, at7600_core::ConnId) {
    transparent_on(Bench::quiet())
}

/// [`transparent`] on a given bench (echo off).
fn transparent_on(mut b: Bench) -> (Bench, at7600_core::ConnId) {
    b.expect_answers(&[
        ("AT+CCHMODE=1", r"\r\nOK\r\n"),
        ("AT+CCHSTART", r"\r\nOK\r\n\r\n+CCHSTART: 0\r\n"),
        (
            "AT+CCHOPEN=0,\"example.com\",443",
            r"\r\nCONNECT 115200\r\n",
        ),
    ]);
    let conn = b.last_conn();
    (b, conn)
}

/// `+++` with its guard times; returns what the modem said.
fn escape(b: &mut Bench) -> String {
    b.advance(Duration::from_secs(1));
    b.host("+++");
    b.advance(Duration::from_secs(1))
}

#[test]
fn transparent_refusals_and_failures() {
    let mut b = Bench::quiet();
    b.host("AT+CCHMODE=1\r");
    b.cch_start();
    b.expect_errors(&["AT+CCHOPEN=1,\"example.com\",443"]);
    b.tls = TlsScript::Fail(OpenError::Handshake);
    b.expect_answers(&[
        ("AT+CCHOPEN=0,\"example.com\",443", r"\r\nCONNECT FAIL\r\n"),
        ("AT+CSSLCFG=\"authmode\",0,1", r"\r\nOK\r\n"),
        ("AT+CCHOPEN=0,\"example.com\",443", r"\r\nCONNECT FAIL\r\n"),
        (
            "AT+CCHOPEN=0,\"unknown.invalid\",80,1",
            r"\r\nCONNECT FAIL\r\n",
        ),
        ("AT+CCHCLOSE=0", r"\r\nERROR\r\n"),
    ]);
    // A TCP/IP transparent link excludes the session.
    let mut b = Bench::quiet();
    b.host("AT+CCHMODE=1\r");
    b.cch_start();
    b.host("AT+CIPMODE=1\r");
    b.netopen();
    let out = b.host(format!("AT+CIPOPEN=0,\"TCP\",\"{}\",5253\r", common::PEER));
    assert_eq!(out, r"\r\nCONNECT 115200\r\n");
    assert_eq!(escape(&mut b), r"\r\nOK\r\n");
    b.expect_answers(&[
        ("AT+CCHSSLCFG=0,4", r"\r\nOK\r\n"),
        ("AT+CCHOPEN=0,\"example.com\",443", r"\r\nCONNECT FAIL\r\n"),
        // Never opened: the session keeps its binding.
        (
            "AT+CCHSSLCFG?",
            r"\r\n+CCHSSLCFG: 0,4\r\n+CCHSSLCFG: 1,\r\n\r\nOK\r\n",
        ),
    ]);
}

#[test]
fn transparent_escape_ato_and_held_bytes() {
    let (mut b, conn) = transparent();
    assert_eq!(escape(&mut b), r"\r\nOK\r\n");
    // Received in command mode: held for ATO.
    assert_eq!(b.data(conn, b"while away"), "");
    b.expect_errors(&["AT+CCHSEND=0,5", "AT+CCHRECV=0"]);
    assert_eq!(b.host("ATO\r"), r"\r\nCONNECT 115200\r\nwhile away");
    assert_eq!(b.host("ping"), "");
    assert_eq!(b.sent_data().last().map(Vec::as_slice), Some(&b"ping"[..]));
    assert_eq!(escape(&mut b), r"\r\nOK\r\n");
    b.expect_answers(&[("AT+CCHSTOP", r"\r\nOK\r\n\r\nCLOSED\r\n\r\n+CCHSTOP: 0\r\n")]);
    assert!(b.log.contains(&NetCommand::Close { conn }));
}

#[test]
fn transparent_server_close_and_network_loss() {
    let (mut b, conn) = transparent();
    assert_eq!(b.event(NetEvent::PeerClosed { conn }), r"\r\nCLOSED\r\n");
    b.expect_answers(&[
        ("AT", r"\r\nOK\r\n"),
        (
            "AT+CCHOPEN=0,\"example.com\",443",
            r"\r\nCONNECT 115200\r\n",
        ),
    ]);
    let conn = b.last_conn();
    assert_eq!(escape(&mut b), r"\r\nOK\r\n");
    assert_eq!(b.event(NetEvent::PeerClosed { conn }), r"\r\nCLOSED\r\n");
    b.expect_answers(&[(
        "AT+CCHOPEN=0,\"example.com\",443",
        r"\r\nCONNECT 115200\r\n",
    )]);
    assert_eq!(b.event(NetEvent::NetworkLost), r"\r\nCLOSED\r\n");
    b.expect_answers(&[("AT", r"\r\nOK\r\n")]);
}

#[test]
fn transparent_dtr() {
    let (mut b, conn) = transparent();
    b.dtr(true);
    // AT&D1 (typed before): command mode, session kept. Set it from command mode.
    assert_eq!(escape(&mut b), r"\r\nOK\r\n");
    b.expect_answers(&[("AT&D1", r"\r\nOK\r\n")]);
    assert_eq!(b.host("ATO\r"), r"\r\nCONNECT 115200\r\n");
    assert_eq!(b.dtr(false), r"\r\nOK\r\n");
    b.dtr(true);
    b.expect_answers(&[("AT&D2", r"\r\nOK\r\n")]);
    assert_eq!(b.host("ATO\r"), r"\r\nCONNECT 115200\r\n");
    assert_eq!(b.dtr(false), r"\r\nCLOSED\r\n");
    assert!(b.log.contains(&NetCommand::Close { conn }));
    b.dtr(true);
    b.expect_answers(&[("AT+CCHCLOSE=0", r"\r\nERROR\r\n")]);
}

#[test]
fn transparent_session_beside_a_command_mode_link_0() {
    let mut b = Bench::quiet();
    b.host("AT+CIPRXGET=1\r");
    b.netopen();
    let link0 = b.open_tcp(0);
    assert_eq!(b.data(link0, b"for link 0"), r"\r\n+CIPRXGET: 1,0\r\n");
    b.expect_answers(&[
        ("AT+CCHMODE=1", r"\r\nOK\r\n"),
        ("AT+CCHSTART", r"\r\nOK\r\n\r\n+CCHSTART: 0\r\n"),
        ("AT+CCHSSLCFG=0,2", r"\r\nOK\r\n"),
        (
            "AT+CCHOPEN=0,\"example.com\",443",
            r"\r\nCONNECT 115200\r\n",
        ),
    ]);
    assert_eq!(escape(&mut b), r"\r\nOK\r\n");
    b.expect_answers(&[
        ("AT+CIPRXGET=4,0", r"\r\n+CIPRXGET: 4,0,10\r\n\r\nOK\r\n"),
        ("ATO", r"\r\nCONNECT 115200\r\n"),
    ]);
}

#[test]
fn transparent_back_pressure_loses_nothing() {
    let mut config = at7600_core::ModemConfig::default();
    config.limits.host_backlog = 4096;
    let mut b = Bench::new(config);
    b.host("ATE0\r");
    let (mut b, conn) = transparent_on(b);
    let data: Vec<u8> = (0..10_000u32).map(|i| (i % 256) as u8).collect();
    b.modem.handle_net(
        b.now,
        NetEvent::Data {
            conn,
            data: data.clone(),
        },
    );
    assert_eq!(b.modem.poll_net(), Some(NetCommand::PauseRead { conn }));
    assert_eq!(b.drain_output(), data, "raw, every byte");
    assert_eq!(b.modem.poll_net(), Some(NetCommand::ResumeRead { conn }));
}
