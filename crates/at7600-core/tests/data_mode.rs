//! Transparent (data) mode on link 0 and the `+++` escape, under virtual time.
mod common;
use at7600_core::{NetCommand, NetEvent};
use common::Bench;
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A modem in data mode on link 0 (TCP), 2 s after `CONNECT`.
fn connected() -> Bench {
    let mut b = Bench::default();
    b.host("AT+CIPMODE=1\r");
    b.host("AT+NETOPEN\r");
    let out = b.host("AT+CIPOPEN=0,\"TCP\",\"117.131.85.139\",5253\r");
    assert_eq!(
        out,
        "AT+CIPOPEN=0,\"TCP\",\"117.131.85.139\",5253\\r\\r\\nCONNECT 115200\\r\\n"
    );
    b.advance(ms(2000));
    b
}

/// Everything sent on the network so far, concatenated.
fn wire(b: &Bench) -> Vec<u8> {
    b.sent_data().concat()
}

#[test]
fn s6_2_3_tcp_client_transparent_mode() {
    let mut b = connected();
    b.host("HELLO SERVER");
    let conn = b.last_conn();
    b.event(NetEvent::Data {
        conn,
        data: b"DATA FROM SERVERDATA FROM SERVER".to_vec(),
    });
    b.advance(ms(1000));
    b.host("+++");
    b.advance(ms(1000));
    b.host("AT+CIPOPEN?\r");
    b.host("ATO\r");
    b.event(NetEvent::Data {
        conn,
        data: b"HELLO CLIENT".to_vec(),
    });
    b.advance(ms(1000));
    b.host("+++");
    b.advance(ms(1000));
    b.host("AT+CIPCLOSE=0\r");
    assert_eq!(wire(&b), b"HELLO SERVER");
    insta::assert_snapshot!(b.transcript());
}

#[test]
fn s6_3_3_udp_client_transparent_mode() {
    let mut b = Bench::default();
    b.host("AT+CIPMODE=1\r");
    b.host("AT+NETOPEN\r");
    b.host("AT+CIPOPEN=0,\"UDP\",\"117.131.85.139\",5254,5000\r");
    let conn = b.last_conn();
    let from = "117.131.85.139:5254".parse().unwrap();
    b.event(NetEvent::Datagram {
        conn,
        from,
        data: b"HELLO CLIENT".to_vec(),
    });
    b.event(NetEvent::Datagram {
        conn,
        from,
        data: b"HELLO CLIENT".to_vec(),
    });
    b.advance(ms(1000));
    b.host("+++");
    b.advance(ms(1000));
    b.host("AT+CIPOPEN?\r");
    b.host("AT+CIPCLOSE=0\r");
    insta::assert_snapshot!(b.transcript());
}

#[test]
fn escape_needs_a_full_guard_time_of_silence_before() {
    let mut b = connected();
    b.host("x");
    b.advance(ms(999));
    b.host("+++");
    assert_eq!(b.advance(ms(2000)), "", "999 ms is not enough silence");
    assert_eq!(wire(&b), b"x+++");

    let mut b = connected();
    b.host("x");
    b.advance(ms(1000));
    b.host("+++");
    assert_eq!(b.advance(ms(1000)), "\\r\\nOK\\r\\n", "1000 ms is");
    assert_eq!(wire(&b), b"x");
}

#[test]
fn escape_allows_at_most_900_ms_between_plus_signs() {
    let mut b = connected();
    b.host("+");
    b.advance(ms(900));
    b.host("+");
    b.advance(ms(900));
    b.host("+");
    assert_eq!(b.advance(ms(1000)), "\\r\\nOK\\r\\n");
    assert_eq!(wire(&b), b"");

    let mut b = connected();
    b.host("+");
    b.advance(ms(901));
    b.host("+");
    b.advance(ms(900));
    b.host("+");
    assert_eq!(b.advance(ms(3000)), "");
    assert_eq!(wire(&b), b"+++");
}

#[test]
fn plus_signs_followed_by_data_within_the_guard_are_data() {
    let mut b = connected();
    b.host("+++");
    b.advance(ms(999));
    b.host("y");
    assert_eq!(b.advance(ms(3000)), "");
    assert_eq!(wire(&b), b"+++y");
}

#[test]
fn two_plus_signs_then_silence_are_data() {
    let mut b = connected();
    b.host("++");
    assert_eq!(b.advance(ms(5000)), "");
    assert_eq!(wire(&b), b"++");
}

#[test]
fn plus_signs_inside_a_stream_are_data() {
    let mut b = connected();
    b.host("a+++b");
    b.host("+++");
    assert_eq!(b.advance(ms(3000)), "");
    assert_eq!(wire(&b), b"a+++b+++");
}

#[test]
fn remote_close_in_data_mode_prints_closed_and_returns_to_command_mode() {
    let mut b = connected();
    let conn = b.last_conn();
    b.event(NetEvent::Data {
        conn,
        data: b"bye".to_vec(),
    });
    assert_eq!(b.event(NetEvent::PeerClosed { conn }), "\\r\\nCLOSED\\r\\n");
    assert_eq!(b.host("AT\r"), "AT\\r\\r\\nOK\\r\\n");
    assert_eq!(b.host("ATO\r"), "ATO\\r\\r\\nERROR\\r\\n");
}

#[test]
fn data_received_in_command_mode_waits_for_ato() {
    let mut b = connected();
    b.host("+++");
    b.advance(ms(1000));
    let conn = b.last_conn();
    assert_eq!(
        b.event(NetEvent::Data {
            conn,
            data: b"held".to_vec()
        }),
        ""
    );
    assert_eq!(b.host("ATO\r"), "ATO\\r\\r\\nCONNECT 115200\\r\\nheld");
}

#[test]
fn other_links_keep_working_in_command_mode_next_to_the_transparent_one() {
    let mut b = connected();
    b.host("+++");
    b.advance(ms(1000));
    let out = b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",80\r");
    assert!(out.ends_with("OK\\r\\n\\r\\n+CIPOPEN: 1,0\\r\\n"), "{out}");
    b.host("AT+CIPSEND=1,3\r");
    assert_eq!(b.host("abc"), "\\r\\nOK\\r\\n\\r\\n+CIPSEND: 1,3,3\\r\\n");
    // Link 1 data is held while the host is in data mode, then shown after +++.
    b.host("ATO\r");
    let conn1 = b.last_conn();
    assert_eq!(
        b.event(NetEvent::Data {
            conn: conn1,
            data: b"x".to_vec()
        }),
        ""
    );
    b.advance(ms(1000));
    b.host("+++");
    assert_eq!(
        b.advance(ms(1000)),
        "\\r\\nOK\\r\\n\\r\\nRECV FROM:117.131.85.139:80\\r\\n+IPD1\\r\\nx"
    );
}

#[test]
fn transparent_open_failure_is_connect_fail() {
    let mut b = Bench::default();
    b.host("AT+CIPMODE=1\r");
    b.host("AT+NETOPEN\r");
    b.auto = false;
    b.host("AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",9\r");
    let conn = b.pending.iter().find_map(|c| match c {
        NetCommand::Open { conn, .. } => Some(*conn),
        _ => None,
    });
    let out = b.event(NetEvent::OpenFailed {
        conn: conn.unwrap(),
        error: at7600_core::OpenError::Refused,
    });
    assert_eq!(out, "\\r\\nCONNECT FAIL\\r\\n");
}

#[test]
fn dtr_off_with_d1_returns_to_command_mode_keeping_the_link() {
    let mut b = connected();
    b.host_dtr_cycle_expect("AT&D1\r", "\\r\\nOK\\r\\n");
    let out = b.host("AT+CIPOPEN?\r");
    assert!(out.contains("+CIPOPEN: 0,\"TCP\""), "{out}");
}

#[test]
fn dtr_off_with_d2_closes_the_link() {
    let mut b = connected();
    b.host_dtr_cycle_expect("AT&D2\r", "\\r\\n+IPCLOSE: 0,2\\r\\n");
    assert!(b.log.iter().any(|c| matches!(c, NetCommand::Close { .. })));
}

#[test]
fn dtr_off_with_d0_is_ignored() {
    let mut b = connected();
    b.host_dtr_cycle_expect("AT&D0\r", "");
    b.host("more");
    assert_eq!(wire(&b), b"more");
}

trait DtrCycle {
    fn host_dtr_cycle_expect(&mut self, setting: &str, expect: &str);
}

impl DtrCycle for Bench {
    /// Sets `AT&Dn` in command mode, goes back to data mode, drops DTR.
    fn host_dtr_cycle_expect(&mut self, setting: &str, expect: &str) {
        self.host("+++");
        self.advance(ms(1000));
        self.host(setting);
        self.host("ATO\r");
        assert_eq!(self.dtr(false), expect);
        self.dtr(true);
    }
}

#[test]
fn transparent_server_answers_connect_after_client() {
    let mut b = Bench::default();
    b.host("AT+CIPMODE=1\r");
    b.host("AT+NETOPEN\r");
    b.host("AT+SERVERSTART=8080,0\r");
    let conn = at7600_core::ConnId::accepted(1);
    let peer = "192.168.108.5:57202".parse().unwrap();
    let out = b.event(NetEvent::Accepted {
        server: 0,
        conn,
        peer,
    });
    assert_eq!(
        out,
        "\\r\\n+CLIENT: 0,0,192.168.108.5:57202\\r\\n\\r\\nCONNECT 115200\\r\\n"
    );
    b.host("to client");
    assert_eq!(wire(&b), b"to client");
}

#[test]
fn a_refused_chunk_is_resent_in_order_after_writable() {
    let mut b = connected();
    b.auto = false;
    b.host("first");
    let Some(NetCommand::Send { conn, data }) = b.pending.pop_front() else {
        panic!("expected a Send, got {:?}", b.pending)
    };
    assert_eq!(data, b"first");
    b.host("second");
    assert!(b.pending.is_empty(), "one send in flight at a time");
    b.event(NetEvent::SendDone {
        conn,
        outcome: at7600_core::SendOutcome::Full,
    });
    assert!(b.pending.is_empty(), "blocked until Writable");
    assert!(b.modem.wants_host_input());
    b.event(NetEvent::Writable { conn });
    let Some(NetCommand::Send { data, .. }) = b.pending.pop_front() else {
        panic!("expected the resend")
    };
    assert_eq!(data, b"firstsecond");
}

#[test]
fn a_host_that_outruns_the_network_is_told_to_stop() {
    let mut b = connected();
    b.auto = false;
    let chunk = vec![b'z'; 16 * 1024];
    for _ in 0..5 {
        b.host(&chunk);
    }
    assert!(!b.modem.wants_host_input());
}
