//! `ssl.md` §8 and §14: `AT+CCHOPEN`, its refusals, phases and result codes, and the
//! TLS parameters handed to the backend.

mod common;
use at7600_core::{ModemConfig, NetCommand, NetEvent, OpenError, TlsAuth};
use common::{Bench, TlsScript};
use std::time::Duration;

fn started() -> Bench {
    let mut b = Bench::quiet();
    b.cch_start();
    b
}

#[test]
fn immediate_refusals() {
    let mut b = Bench::quiet();
    b.host("AT+CMEE=2\r");
    b.expect_answers(&[("AT+CCHOPEN=0,\"example.com\",443", r"\r\nERROR\r\n")]);
    b.cch_start();
    b.expect_errors(&[
        "AT+CCHOPEN=2,\"example.com\",443",
        "AT+CCHOPEN=0,\"\",443",
        "AT+CCHOPEN=0,\"bad host\",443",
        "AT+CCHOPEN=0,\"example.com\",0",
        "AT+CCHOPEN=0,\"example.com\",65536",
        "AT+CCHOPEN=0,\"example.com\",443,3",
        "AT+CCHOPEN=0,\"example.com\",443,0",
        "AT+CCHOPEN=0,\"example.com\",443,2,0",
        "AT+CCHOPEN=0,\"example.com\",443,2,65536",
        "AT+CCHOPEN=0,\"example.com\"",
        "AT+CCHOPEN=0,\"example.com\",443,2,1,1",
        "AT+CCHOPEN",
    ]);
    let long = format!("AT+CCHOPEN=0,\"{}\",443\r", "a".repeat(257));
    assert_eq!(b.host(long), r"\r\nERROR\r\n");
    b.cch_open(0, "example.com", 443, 1, 0);
    b.expect_answers(&[("AT+CCHOPEN=0,\"example.com\",443", r"\r\nERROR\r\n")]);
    assert!(!b
        .log
        .iter()
        .any(|c| matches!(c, NetCommand::Open { tls: Some(_), .. })));
}

#[test]
fn no_pdp_is_17() {
    let mut b = started();
    b.host("AT+CGATT=0\r");
    b.cch_open(0, "example.com", 443, 2, 17);
    b.cch_open(0, "example.com", 80, 1, 17);
    assert!(!b.log.iter().any(|c| matches!(c, NetCommand::Open { .. })));
}

#[test]
fn files_the_authmode_needs_are_19() {
    // authmode -> files it needs.
    let cases: [(u8, &[&str]); 3] = [
        (1, &["cacert"]),
        (2, &["cacert", "clientcert", "clientkey"]),
        (3, &["clientcert", "clientkey"]),
    ];
    for (mode, needed) in cases {
        for missing in needed {
            let mut b = started();
            b.host(format!("AT+CSSLCFG=\"authmode\",0,{mode}\r"));
            for (i, f) in needed.iter().enumerate() {
                let name = format!("f{i}.pem");
                b.host(format!("AT+CSSLCFG=\"{f}\",0,\"{name}\"\r"));
                if f != missing {
                    b.cert(&name, b"content");
                }
            }
            b.cch_open(0, "example.com", 443, 2, 19);
            // Plain TCP ignores the context.
            b.cch_open(1, "example.com", 80, 1, 0);
        }
    }
    // A named password file that is missing, for a client key.
    let mut b = started();
    b.host("AT+CSSLCFG=\"authmode\",0,3\r");
    b.host("AT+CSSLCFG=\"clientcert\",0,\"c.pem\"\r");
    b.host("AT+CSSLCFG=\"clientkey\",0,\"k.pem\"\r");
    b.host("AT+CSSLCFG=\"password\",0,\"p.pem\"\r");
    b.cert("c.pem", b"c");
    b.cert("k.pem", b"k");
    b.cch_open(0, "example.com", 443, 2, 19);
    b.cert("p.pem", b"hunter2\r\nsecond line");
    b.cch_open(0, "example.com", 443, 2, 0);
    let tls = b.last_tls().expect("TLS");
    assert_eq!(tls.key_password.as_deref(), Some("hunter2"));
    assert_eq!(tls.auth, TlsAuth::ClientOnly);
    assert!(tls.ca.is_empty(), "authmode 3 does not verify the server");
}

#[test]
fn a_deleted_file_fails_the_next_open() {
    let mut b = started();
    b.cert("ca.pem", b"ca");
    b.host("AT+CSSLCFG=\"authmode\",0,1\r");
    b.host("AT+CSSLCFG=\"cacert\",0,\"ca.pem\"\r");
    b.cch_open(0, "example.com", 443, 2, 0);
    b.host("AT+CCHCLOSE=0\r");
    b.expect_answers(&[("AT+CCERTDELE=\"ca.pem\"", r"\r\nOK\r\n")]);
    b.cch_open(0, "example.com", 443, 2, 19);
}

#[test]
fn backend_failures_map_to_codes() {
    let mut b = started();
    b.cch_open(0, "unknown.invalid", 443, 2, 13);
    for (error, code) in [(OpenError::Certificates, 19), (OpenError::Handshake, 15)] {
        b.tls = TlsScript::Fail(error);
        b.cch_open(0, "example.com", 443, 2, code);
    }
    b.auto = false;
    for (error, code) in [
        (OpenError::Refused, 14),
        (OpenError::Bind, 12),
        (OpenError::Dns, 13),
    ] {
        assert_eq!(
            b.host("AT+CCHOPEN=1,\"example.com\",80,1,5000\r"),
            r"\r\nOK\r\n"
        );
        let conn = b.last_conn();
        assert_eq!(
            b.event(NetEvent::OpenFailed { conn, error }),
            format!(r"\r\n+CCHOPEN: 1,{code}\r\n")
        );
    }
}

#[test]
fn connect_wait_is_120_s_then_14() {
    let mut b = started();
    b.auto = false;
    assert_eq!(b.host("AT+CCHOPEN=0,\"example.com\",443\r"), r"\r\nOK\r\n");
    let conn = b.last_conn();
    assert_eq!(b.advance(Duration::from_secs(119)), "");
    assert_eq!(b.advance(Duration::from_secs(1)), r"\r\n+CCHOPEN: 0,14\r\n");
    assert!(b.log.contains(&NetCommand::Close { conn }));
    // A late answer changes nothing.
    let late = b.event(NetEvent::Connected { conn });
    assert_eq!(late, "");
    b.expect_answers(&[(
        "AT+CCHOPEN?",
        r#"\r\n+CCHOPEN: 0,"",,,\r\n+CCHOPEN: 1,"",,,\r\n\r\nOK\r\n"#,
    )]);
}

#[test]
fn handshake_wait_is_negotiatetime_then_15() {
    let mut b = started();
    b.tls = TlsScript::Stall;
    b.advance(Duration::from_secs(100));
    assert_eq!(b.host("AT+CCHOPEN=0,\"example.com\",443\r"), r"\r\nOK\r\n");
    // TCP came up at once: the 120 s wait is over, negotiatetime (300 s) runs.
    assert_eq!(b.advance(Duration::from_secs(299)), "");
    assert_eq!(b.advance(Duration::from_secs(1)), r"\r\n+CCHOPEN: 0,15\r\n");
    b.host("AT+CSSLCFG=\"negotiatetime\",1,10\r");
    assert_eq!(b.host("AT+CCHOPEN=1,\"example.com\",443\r"), r"\r\nOK\r\n");
    assert_eq!(b.advance(Duration::from_secs(9)), "");
    assert_eq!(b.advance(Duration::from_secs(1)), r"\r\n+CCHOPEN: 1,15\r\n");
}

#[test]
fn peer_closing_during_the_open() {
    let mut b = started();
    b.auto = false;
    b.host("AT+CCHOPEN=0,\"example.com\",443\r");
    let conn = b.last_conn();
    assert_eq!(
        b.event(NetEvent::PeerClosed { conn }),
        r"\r\n+CCHOPEN: 0,14\r\n"
    );
    b.host("AT+CCHOPEN=0,\"example.com\",443\r");
    let conn = b.last_conn();
    assert_eq!(b.event(NetEvent::Connected { conn }), "");
    assert_eq!(
        b.event(NetEvent::PeerClosed { conn }),
        r"\r\n+CCHOPEN: 0,15\r\n"
    );
}

#[test]
fn close_while_opening_gives_no_cchopen() {
    let mut b = started();
    b.auto = false;
    b.host("AT+CCHOPEN=0,\"example.com\",443\r");
    let conn = b.last_conn();
    b.expect_answers(&[("AT+CCHCLOSE=0", r"\r\nOK\r\n\r\n+CCHCLOSE: 0,0\r\n")]);
    assert_eq!(b.event(NetEvent::Connected { conn }), "");
    let opened = NetEvent::Opened {
        conn,
        remote: "93.184.216.34:443".parse().expect("addr"),
        local_port: 40000,
    };
    assert_eq!(b.event(opened), "");
    assert_eq!(b.advance(Duration::from_secs(400)), "");
}

#[test]
fn network_lost_while_opening_is_17() {
    let mut b = started();
    b.auto = false;
    b.host("AT+CCHOPEN=1,\"example.com\",443\r");
    assert_eq!(b.event(NetEvent::NetworkLost), r"\r\n+CCHOPEN: 1,17\r\n");
    // sim7600: the service stays, opens fail with 17 until cid 1 is active again.
    b.auto = true;
    b.cch_open(1, "example.com", 443, 2, 17);
    b.netopen();
    b.cch_open(1, "example.com", 443, 2, 0);
}

#[test]
fn read_and_test_forms() {
    let mut b = started();
    b.expect_answers(&[(
        "AT+CCHOPEN=?",
        r#"\r\n+CCHOPEN: (0,1),"ADDRESS",(1-65535)[,(1-2)[,(1-65535)]]\r\n\r\nOK\r\n"#,
    )]);
    assert_eq!(
        b.host("AT+CCHOPEN=1,\"10.0.0.1\",8080,1,5555\r"),
        r"\r\nOK\r\n\r\n+CCHOPEN: 1,0\r\n"
    );
    b.cch_open(0, "example.com", 443, 2, 0);
    b.expect_answers(&[(
        "AT+CCHOPEN?",
        r#"\r\n+CCHOPEN: 0,"example.com",443,2,\r\n+CCHOPEN: 1,"10.0.0.1",8080,1,5555\r\n\r\nOK\r\n"#,
    )]);
    assert!(b.log.iter().any(|c| matches!(
        c,
        NetCommand::Open { local_port: Some(5555), remote: Some((h, 8080)), tls: None, .. } if h == "10.0.0.1"
    )));
}

#[test]
fn tls_parameters_from_the_context() {
    let mut config = ModemConfig::default();
    config.tls.tls13 = true;
    let mut b = Bench::new(config);
    b.host("ATE0\r");
    b.cch_start();
    b.cert("ca.pem", b"CA");
    b.expect_answers(&[
        ("AT+CSSLCFG=\"authmode\",0,1", r"\r\nOK\r\n"),
        ("AT+CSSLCFG=\"cacert\",0,ca.pem", r"\r\nOK\r\n"),
        ("AT+CSSLCFG=\"enableSNI\",0,1", r"\r\nOK\r\n"),
        ("AT+CSSLCFG=\"ignorelocaltime\",0,0", r"\r\nOK\r\n"),
        ("AT+CSSLCFG=\"ciphersuites\",0,0xC02F", r"\r\nOK\r\n"),
        ("AT+CSSLCFG=\"sslversion\",0,1", r"\r\nOK\r\n"),
        ("AT+CCLK=\"30/01/02,03:04:05+32\"", r"\r\nOK\r\n"),
    ]);
    b.cch_open(0, "10.1.2.3", 443, 2, 0);
    let tls = b.last_tls().expect("TLS");
    assert!(!tls.sni, "no SNI for an IPv4 literal");
    assert_eq!(tls.server_name, "10.1.2.3");
    assert!(tls.allow_tls13);
    assert_eq!(
        tls.version, 1,
        "the backend fails it with 15 once TCP is up"
    );
    assert_eq!(tls.cipher_suite, Some(0xC02F));
    assert_eq!(tls.key_password, None);
    // The module's clock, in UTC: 2030-01-02 03:04:05 at +08:00.
    assert_eq!(tls.verify_time, Some(1_893_553_445 - 8 * 3600));
    b.host("AT+CCHCLOSE=0\r");
    b.host("AT+CSSLCFG=\"ignorelocaltime\",0,1\r");
    b.host("AT+CSSLCFG=\"ciphersuites\",0,0xFFFF\r");
    b.cch_open(0, "example.com", 443, 2, 0);
    let tls = b.last_tls().expect("TLS");
    assert!(tls.sni);
    assert_eq!(tls.verify_time, None);
    assert_eq!(tls.cipher_suite, None);
}
