//! `ssl.md` §5-§7: `AT+CCHSET`, `AT+CCHMODE`, `AT+CCHSTART`, `AT+CCHSTOP`,
//! `AT+CCHADDR`, `AT+CCHSSLCFG`, `AT+CCHCFG`.

mod common;
use at7600_core::NetCommand;
use common::{Bench, TlsScript};

#[test]
fn cchset_forms() {
    let mut b = Bench::quiet();
    b.expect_answers(&[
        ("AT+CCHSET?", r"\r\n+CCHSET: 0,0\r\n\r\nOK\r\n"),
        ("AT+CCHSET=?", r"\r\n+CCHSET: (0,1),(0,1)\r\n\r\nOK\r\n"),
        ("AT+CCHSET=1,1", r"\r\nOK\r\n"),
        ("AT+CCHSET?", r"\r\n+CCHSET: 1,1\r\n\r\nOK\r\n"),
        ("AT+CCHSET=1", r"\r\nOK\r\n"),
        ("AT+CCHSET?", r"\r\n+CCHSET: 1,0\r\n\r\nOK\r\n"),
        ("AT+CCHSET=2", r"\r\nERROR\r\n"),
        ("AT+CCHSET=0,2", r"\r\nERROR\r\n"),
        ("AT+CCHSET=0,0,0", r"\r\nERROR\r\n"),
        ("AT+CCHSET", r"\r\nERROR\r\n"),
        ("AT+CCHSTART", r"\r\nOK\r\n\r\n+CCHSTART: 0\r\n"),
        // Accepted while started, for later sessions (TinyGSM sends it every connect).
        ("AT+CCHSET=1,1", r"\r\nOK\r\n"),
    ]);
}

#[test]
fn cchmode_forms_and_refused_while_started() {
    let mut b = Bench::quiet();
    b.expect_answers(&[
        ("AT+CCHMODE?", r"\r\n+CCHMODE: 0\r\n\r\nOK\r\n"),
        ("AT+CCHMODE=?", r"\r\n+CCHMODE: (0,1)\r\n\r\nOK\r\n"),
        ("AT+CCHMODE=1", r"\r\nOK\r\n"),
        ("AT+CCHMODE?", r"\r\n+CCHMODE: 1\r\n\r\nOK\r\n"),
        ("AT+CCHMODE=2", r"\r\nERROR\r\n"),
        ("AT+CCHMODE=0", r"\r\nOK\r\n"),
        ("AT+CCHSTART", r"\r\nOK\r\n\r\n+CCHSTART: 0\r\n"),
        ("AT+CCHMODE=1", r"\r\nERROR\r\n"),
    ]);
}

#[test]
fn cchstart_without_pdp_per_personality() {
    let mut b = Bench::quiet();
    b.expect_answers(&[
        ("AT+CGATT=0", r"\r\nOK\r\n"),
        ("AT+CCHSTART", r"\r\nOK\r\n\r\n+CCHSTART: 17\r\n"),
        ("AT+CCHSTOP", r"\r\nERROR\r\n"),
        ("AT+CCHADDR", r"\r\nERROR\r\n"),
        ("AT+CGATT=1", r"\r\nOK\r\n"),
        ("AT+CCHSTART", r"\r\nOK\r\n\r\n+CCHSTART: 0\r\n"),
    ]);
    let mut b = Bench::a76xx();
    b.expect_answers(&[
        ("AT+CGATT=0", r"\r\nOK\r\n"),
        ("AT+CCHSTART", r"\r\nERROR\r\n\r\n+CCHSTART: 17\r\n"),
    ]);
}

#[test]
fn service_independent_of_netopen() {
    let mut b = Bench::quiet();
    b.cch_start();
    b.netopen();
    b.expect_answers(&[
        ("AT+NETCLOSE", r"\r\nOK\r\n\r\n+NETCLOSE: 0\r\n"),
        ("AT+CCHADDR", r"\r\n+CCHADDR: 10.148.0.17\r\n\r\nOK\r\n"),
        ("AT+CCHSTOP", r"\r\nOK\r\n\r\n+CCHSTOP: 0\r\n"),
        // Whatever the service state.
        ("AT+CCHADDR", r"\r\n+CCHADDR: 10.148.0.17\r\n\r\nOK\r\n"),
        ("AT+CCHADDR=?", r"\r\nOK\r\n"),
        ("AT+CCHSTART=?", r"\r\nOK\r\n"),
        ("AT+CCHSTOP=?", r"\r\nOK\r\n"),
        ("AT+CCHSTART?", r"\r\nERROR\r\n"),
    ]);
    // The sessions are not among the ten links.
    b.cch_start();
    b.cch_open(0, "example.com", 443, 1, 0);
    b.netopen();
    b.expect_answers(&[(
        "AT+CIPCLOSE?",
        r"\r\n+CIPCLOSE: 0,0,0,0,0,0,0,0,0,0\r\n\r\nOK\r\n",
    )]);
    // AT+NETCLOSE leaves the session alone: no Close for it, data still flows.
    let conn = b.last_conn();
    b.expect_answers(&[("AT+NETCLOSE", r"\r\nOK\r\n\r\n+NETCLOSE: 0\r\n")]);
    assert!(!b.log.contains(&NetCommand::Close { conn }));
    assert_eq!(b.data(conn, b"still"), r"\r\n+CCHRECV: DATA,0,5\r\nstill");
}

#[test]
fn cchstop_closes_every_session_first() {
    let mut b = Bench::quiet();
    b.cch_start();
    b.cch_open(1, "example.com", 443, 1, 0);
    let open = b.last_conn();
    b.tls = TlsScript::Stall;
    assert_eq!(
        b.host("AT+CCHOPEN=0,\"example.com\",443\r"),
        r"\r\nOK\r\n",
        "still handshaking"
    );
    let opening = b.last_conn();
    assert_eq!(
        b.host("AT+CCHSTOP\r"),
        r"\r\nOK\r\n\r\n+CCHCLOSE: 0,0\r\n\r\n+CCHCLOSE: 1,0\r\n\r\n+CCHSTOP: 0\r\n"
    );
    for conn in [open, opening] {
        assert!(b.log.contains(&NetCommand::Close { conn }), "{conn}");
    }
    // The abandoned open never reports, even after its timers.
    assert_eq!(b.advance(std::time::Duration::from_secs(400)), "");
    b.expect_answers(&[(
        "AT+CCHOPEN?",
        r#"\r\n+CCHOPEN: 0,"",,,\r\n+CCHOPEN: 1,"",,,\r\n\r\nOK\r\n"#,
    )]);
}

#[test]
fn binding_forms_and_refusals() {
    let mut b = Bench::quiet();
    b.expect_answers(&[
        ("AT+CCHSSLCFG?", r"\r\n+CCHSSLCFG: 0,\r\n+CCHSSLCFG: 1,\r\n\r\nOK\r\n"),
        (
            "AT+CCHCFG?",
            r"\r\n+CCHCFG: 0,150,\r\n+CCHCFG: 1,150,\r\n\r\nOK\r\n",
        ),
        ("AT+CCHSSLCFG=?", r"\r\n+CCHSSLCFG: (0,1),(0-9)\r\n\r\nOK\r\n"),
        (
            "AT+CCHCFG=?",
            r#"\r\n+CCHCFG: "sendtimeout",(0-1),(60-150)\r\n+CCHCFG: "sslctx",(0-1),(0-9)\r\n\r\nOK\r\n"#,
        ),
        // Before AT+CCHSTART: refused.
        ("AT+CCHSSLCFG=0,3", r"\r\nERROR\r\n"),
        ("AT+CCHCFG=\"sendtimeout\",0,120", r"\r\nERROR\r\n"),
        ("AT+CCHSTART", r"\r\nOK\r\n\r\n+CCHSTART: 0\r\n"),
        ("AT+CCHSSLCFG=0,3", r"\r\nOK\r\n"),
        ("AT+CCHCFG=\"sendtimeout\",0,120", r"\r\nOK\r\n"),
        ("AT+CCHCFG=\"sslctx\",1,9", r"\r\nOK\r\n"),
        ("AT+CCHSSLCFG?", r"\r\n+CCHSSLCFG: 0,3\r\n+CCHSSLCFG: 1,9\r\n\r\nOK\r\n"),
        (
            "AT+CCHCFG?",
            r"\r\n+CCHCFG: 0,120,3\r\n+CCHCFG: 1,150,9\r\n\r\nOK\r\n",
        ),
        ("AT+CCHSSLCFG=2,0", r"\r\nERROR\r\n"),
        ("AT+CCHSSLCFG=0,10", r"\r\nERROR\r\n"),
        ("AT+CCHCFG=\"sendtimeout\",0,59", r"\r\nERROR\r\n"),
        ("AT+CCHCFG=\"sendtimeout\",0,151", r"\r\nERROR\r\n"),
        ("AT+CCHCFG=\"sslctx\",0,10", r"\r\nERROR\r\n"),
        ("AT+CCHCFG=\"colour\",0,1", r"\r\nERROR\r\n"),
    ]);
    b.cch_open(0, "example.com", 443, 1, 0);
    b.expect_answers(&[
        // Not free: refused.
        ("AT+CCHSSLCFG=0,1", r"\r\nERROR\r\n"),
        ("AT+CCHCLOSE=0", r"\r\nOK\r\n\r\n+CCHCLOSE: 0,0\r\n"),
        // Cleared when the session became free.
        (
            "AT+CCHCFG?",
            r"\r\n+CCHCFG: 0,150,\r\n+CCHCFG: 1,150,9\r\n\r\nOK\r\n",
        ),
    ]);
}

#[test]
fn unbound_session_uses_the_context_numbered_like_it() {
    let mut b = Bench::quiet();
    b.expect_answers(&[
        ("AT+CSSLCFG=\"sslversion\",1,3", r"\r\nOK\r\n"),
        ("AT+CSSLCFG=\"sslversion\",7,0", r"\r\nOK\r\n"),
    ]);
    b.cch_start();
    b.cch_open(1, "example.com", 443, 2, 0);
    assert_eq!(b.last_tls().map(|t| t.version), Some(3));
    b.expect_answers(&[
        ("AT+CCHCLOSE=1", r"\r\nOK\r\n\r\n+CCHCLOSE: 1,0\r\n"),
        ("AT+CCHSSLCFG=1,7", r"\r\nOK\r\n"),
    ]);
    b.cch_open(1, "example.com", 443, 2, 0);
    assert_eq!(b.last_tls().map(|t| t.version), Some(0));
}
