//! Behaviours an independent review found broken, one test each (they failed before
//! their fixes).
mod common;
use at7600_core::{NetCommand, NetEvent, SendOutcome};
use common::Bench;
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn wire(b: &Bench) -> Vec<u8> {
    b.sent_data().concat()
}

/// Link 0 open and transparent, 2 s after `CONNECT`; commands ended with `\r\n`.
fn transparent() -> Bench {
    let mut b = Bench::default();
    b.host("AT+CIPMODE=1\r\n");
    b.host("AT+NETOPEN\r\n");
    let out = b.host("AT+CIPOPEN=0,\"TCP\",\"117.131.85.139\",5253\r\n");
    assert!(out.ends_with("CONNECT 115200\\r\\n"), "{out}");
    b.advance(ms(2000));
    b
}

#[test]
fn the_lf_after_a_transparent_cipopen_is_not_data() {
    let mut b = transparent();
    b.host("HELLO");
    assert_eq!(wire(&b), b"HELLO");
}

#[test]
fn the_lf_after_a_transparent_cipopen_in_a_later_read_is_not_data() {
    let mut b = Bench::default();
    b.host("AT+CIPMODE=1\r\nAT+NETOPEN\r\n");
    b.host("AT+CIPOPEN=0,\"TCP\",\"117.131.85.139\",5253\r");
    b.advance(ms(10));
    b.host("\nHELLO\n");
    assert_eq!(wire(&b), b"HELLO\n", "only the first LF is the command's");
}

#[test]
fn the_lf_after_ato_is_not_data() {
    let mut b = transparent();
    b.host("+++");
    b.advance(ms(1000));
    let out = b.host("ATO\r\n");
    assert!(out.ends_with("CONNECT 115200\\r\\n"), "{out}");
    b.host("X");
    assert_eq!(wire(&b), b"X");
}

#[test]
fn a_cipsend_report_waiting_for_an_ack_is_printed_when_cipclose_ends_the_link() {
    let mut b = Bench::quiet();
    b.netopen();
    let conn = b.open_tcp(1);
    b.host("AT+CIPSENDMODE=1\r");
    b.auto = false;
    b.host("AT+CIPSEND=1,5\r");
    b.host("HELLO");
    b.pending.clear();
    b.event(NetEvent::SendDone {
        conn,
        outcome: SendOutcome::Accepted,
    });
    assert_eq!(b.host("AT+CIPCLOSE=1\r"), "\\r\\nOK\\r\\n");
    assert_eq!(
        b.event(NetEvent::Closed { conn }),
        "\\r\\n+CIPSEND: 1,5,-1\\r\\n\\r\\n+CIPCLOSE: 1,0\\r\\n"
    );
}

#[test]
fn a_send_still_unanswered_when_a_drained_link_frees_is_reported_later() {
    let mut b = Bench::quiet();
    b.host("AT+CIPRXGET=1\r");
    b.netopen();
    let conn = b.open_tcp(1);
    b.auto = false;
    b.data(conn, b"abc");
    b.host("AT+CIPSEND=1,5\r");
    b.host("HELLO");
    b.event(NetEvent::PeerClosed { conn });
    b.host("AT+CIPRXGET=2,1\r");
    assert_eq!(
        b.event(NetEvent::SendDone {
            conn,
            outcome: SendOutcome::Accepted
        }),
        "\\r\\n+CIPSEND: 1,5,5\\r\\n"
    );
}

#[test]
fn after_dtr_leaves_data_mode_the_host_may_type_although_the_stream_is_full() {
    let mut b = transparent();
    b.auto = false;
    let conn = b.last_conn();
    b.host(vec![b'x'; 100_000]);
    b.pending.clear();
    b.event(NetEvent::SendDone {
        conn,
        outcome: SendOutcome::Full,
    });
    assert!(!b.modem.wants_host_input(), "data mode: the host waits");
    assert_eq!(b.dtr(false), "\\r\\nOK\\r\\n");
    b.dtr(true);
    assert!(b.modem.wants_host_input(), "command mode: the host types");
}

#[test]
fn urcs_held_in_data_mode_do_not_stop_the_transparent_link() {
    let mut b = transparent();
    let conn0 = b.last_conn();
    b.host("+++");
    b.advance(ms(1000));
    b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r");
    let conn1 = b.last_conn();
    b.host("ATO\r");
    for _ in 0..50 {
        b.data(conn1, &[b'y'; 1500]);
    }
    b.advance(ms(10_000));
    let count = |want: fn(&NetCommand) -> Option<at7600_core::ConnId>| {
        b.log.iter().filter(|c| want(c) == Some(conn0)).count()
    };
    let paused = count(|c| match c {
        NetCommand::PauseRead { conn } => Some(*conn),
        _ => None,
    });
    let resumed = count(|c| match c {
        NetCommand::ResumeRead { conn } => Some(*conn),
        _ => None,
    });
    assert_eq!(
        paused, resumed,
        "link 0 left paused with nothing waiting for the host"
    );
    // Link 1's held output still holds link 1 back, as it should.
    assert!(b.log.contains(&NetCommand::PauseRead { conn: conn1 }));
}

#[test]
fn netclose_while_a_cipclose_waits_keeps_its_promised_report_and_closes_once() {
    let mut b = Bench::quiet();
    b.netopen();
    let conn = b.open_tcp(1);
    b.auto = false;
    assert_eq!(b.host("AT+CIPCLOSE=1\r"), "\\r\\nOK\\r\\n");
    assert_eq!(
        b.host("AT+NETCLOSE\r"),
        "\\r\\nOK\\r\\n\\r\\n+CIPCLOSE: 1,0\\r\\n"
    );
    b.event(NetEvent::Closed { conn });
    assert_eq!(b.event(NetEvent::Detached), "\\r\\n+NETCLOSE: 0\\r\\n");
    let closes = b
        .log
        .iter()
        .filter(|c| **c == NetCommand::Close { conn })
        .count();
    assert_eq!(closes, 1);
}

#[test]
fn a_transparent_open_refused_at_once_is_connect_fail() {
    let mut b = Bench::quiet();
    b.host("AT+CIPMODE=1\r");
    assert_eq!(
        b.host("AT+CIPOPEN=0,\"TCP\",\"117.131.85.139\",5253\r"),
        "\\r\\nCONNECT FAIL\\r\\n",
        "network not open"
    );
    b.netopen();
    assert_eq!(
        b.host("AT+CIPOPEN=0,\"TCP\",\"117.131.85.139\",0\r"),
        "\\r\\nCONNECT FAIL\\r\\n",
        "bad port"
    );
    // Links 1-9 stay in command mode and keep the command-mode answers.
    assert_eq!(
        b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",0\r"),
        "\\r\\n+CIPOPEN: 1,3\\r\\n\\r\\nERROR\\r\\n"
    );
}
