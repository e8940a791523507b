//! `more-commands.md` §7: AT+CPING and AT+CPINGSTOP under virtual time.
mod common;
use at7600_core::{NetCommand, NetEvent};
use common::Bench;
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A bench whose network answers nothing by itself.
fn manual() -> Bench {
    let mut b = Bench::quiet();
    b.auto = false;
    b
}

/// The probe the modem sent last (taken from the pending commands).
fn probe(b: &mut Bench) -> (u64, NetCommand) {
    let cmd = b.pending.pop_front().expect("a probe");
    let NetCommand::Ping { id, .. } = &cmd else {
        panic!("{cmd:?}")
    };
    (*id, cmd)
}

#[test]
fn s7_the_manuals_example_two_replies_and_the_summary() {
    let mut b = manual();
    assert_eq!(b.host("AT+CPING=\"192.0.2.7\",1,2\r"), r"\r\nOK\r\n");
    let (id, cmd) = probe(&mut b);
    assert_eq!(
        cmd,
        NetCommand::Ping {
            id,
            addr: "192.0.2.7".parse().expect("ip"),
            size: 64,
            ttl: 255,
            wait: ms(10_000)
        }
    );
    b.advance(ms(31));
    assert_eq!(
        b.event(NetEvent::PingReply { id, ttl: None }),
        r"\r\n+CPING: 1,192.0.2.7,64,31,255\r\n"
    );
    assert_eq!(b.advance(ms(1999)), "");
    assert!(b.pending.is_empty(), "the next probe waits the interval");
    b.advance(ms(1));
    let (id, _) = probe(&mut b);
    b.advance(ms(29));
    assert_eq!(
        b.event(NetEvent::PingReply { id, ttl: None }),
        r"\r\n+CPING: 1,192.0.2.7,64,29,255\r\n\r\n+CPING: 3,2,2,0,29,31,30\r\n"
    );
    assert_eq!(b.advance(ms(60_000)), "");
}

#[test]
fn s7_no_reply_within_wait_and_the_replys_ttl() {
    let mut b = manual();
    assert_eq!(
        b.host("AT+CPING=192.0.2.9,1,2,32,1000,10000,64\r"),
        r"\r\nOK\r\n"
    );
    probe(&mut b);
    assert_eq!(b.advance(ms(9_999)), "");
    assert_eq!(b.advance(ms(1)), r"\r\n+CPING: 2\r\n");
    b.advance(ms(1000));
    let (id, _) = probe(&mut b);
    b.advance(ms(12));
    assert_eq!(
        b.event(NetEvent::PingReply { id, ttl: Some(57) }),
        r"\r\n+CPING: 1,192.0.2.9,32,12,57\r\n\r\n+CPING: 3,2,1,1,12,12,12\r\n"
    );
}

#[test]
fn s7_rt_threads_empty_fields_take_the_defaults() {
    let mut b = manual();
    assert_eq!(
        b.host("AT+CPING=\"192.0.2.7\",1,1,100,,,64\r"),
        r"\r\nOK\r\n"
    );
    let (_, cmd) = probe(&mut b);
    assert!(
        matches!(cmd, NetCommand::Ping { size: 100, ttl: 64, wait, .. } if wait == ms(10_000)),
        "{cmd:?}"
    );
}

#[test]
fn s7_a_name_is_resolved_first_and_one_that_does_not_resolve_sends_nothing() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CPING=\"nowhere.test\",1\r"),
        r"\r\nOK\r\n\r\n+CPING: 3,0,0,0,0,0,0\r\n"
    );
    assert!(!b.log.iter().any(|c| matches!(c, NetCommand::Ping { .. })));
    // A known name: its address in the replies (the bench answers at once).
    let out = b.host("AT+CPING=\"www.baidu.com\",1,1\r");
    assert_eq!(
        out,
        r"\r\nOK\r\n\r\n+CPING: 1,61.135.169.121,64,0,64\r\n\r\n+CPING: 3,1,1,0,0,0,0\r\n"
    );
}

#[test]
fn s7_refusals_are_immediate() {
    let mut b = manual();
    for bad in [
        "AT+CPING=\"192.0.2.7\",2",
        "AT+CPING=\"192.0.2.7\"",
        "AT+CPING=\"192.0.2.7\",1,101",
        "AT+CPING=\"192.0.2.7\",1,4,3",
        "AT+CPING=\"192.0.2.7\",1,4,64,999",
        "AT+CPING=\"192.0.2.7\",1,4,64,1000,9999",
        "AT+CPING=\"192.0.2.7\",1,4,64,1000,10000,15",
        "AT+CPING=\"bad_name\",1",
    ] {
        assert_eq!(b.host(format!("{bad}\r")), r"\r\nERROR\r\n", "{bad}");
    }
    assert_eq!(b.host("AT+CPING=\"192.0.2.7\",1\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+CPING=\"192.0.2.7\",1\r"),
        r"\r\nERROR\r\n",
        "running"
    );
    assert_eq!(
        b.host("AT+CPINGSTOP\r"),
        r"\r\n+CPING: 3,1,0,1,0,0,0\r\n\r\nOK\r\n"
    );
    assert_eq!(b.host("AT+CPINGSTOP\r"), r"\r\nERROR\r\n", "none running");
    assert_eq!(b.advance(ms(60_000)), "", "stopped");
    b.host("AT+CFUN=0\r");
    assert_eq!(
        b.host("AT+CPING=\"192.0.2.7\",1\r"),
        r"\r\nERROR\r\n",
        "no bearer"
    );
}

#[test]
fn s7_test_form_per_personality() {
    assert_eq!(
        Bench::quiet().host("AT+CPING=?\r"),
        r"\r\n+CPING: IP address,(1,2),(1-100),(4-188),(1000-10000),(10000-100000),(16-255)\r\n\r\nOK\r\n"
    );
}

#[test]
fn s1_3_a_restart_drops_a_running_ping_silently() {
    let mut b = manual();
    b.host("AT+CPING=\"192.0.2.7\",1,5\r");
    b.host("AT+CRESET\r");
    let out = b.advance(ms(60_000));
    assert!(!out.contains("+CPING"), "{out}");
}
