//! `AT+CIPSEND`: fixed and variable length, ETX escaping, ESC cancel, UDP destinations,
//! limits, the reports, and `AT+CIPSENDMODE=1` (manual §2.4, §2.11; clarifications §1,
//! §2, §5; behaviour.md "Sending").
mod common;
use at7600_core::{NetCommand, NetEvent, SendOutcome};
use common::Bench;
use std::net::SocketAddrV4;
use std::time::Duration;

/// Network open, TCP link 1 open, echo off.
fn tcp() -> Bench {
    let mut b = Bench::quiet();
    b.netopen();
    b.open_tcp(1);
    b
}

#[test]
fn cipsend_test_form_lists_links_and_lengths() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CIPSEND=?\r"),
        r"\r\n+CIPSEND: (0-9),(1-1500)\r\n\r\nOK\r\n"
    );
}

#[test]
fn cipsend_fixed_length_prompts_then_ok_then_report() {
    let mut b = tcp();
    assert_eq!(b.host("AT+CIPSEND=1,5\r"), r"\r\n>");
    assert_eq!(b.host("HELLO"), r"\r\nOK\r\n\r\n+CIPSEND: 1,5,5\r\n");
    assert_eq!(b.sent_data(), [b"HELLO".to_vec()]);
}

#[test]
fn cipsend_payload_is_not_echoed() {
    let mut b = Bench::default();
    b.netopen();
    b.open_tcp(1);
    assert_eq!(b.host("AT+CIPSEND=1,3\r"), r"AT+CIPSEND=1,3\r\r\n>");
    assert_eq!(b.host("abc"), r"\r\nOK\r\n\r\n+CIPSEND: 1,3,3\r\n");
}

#[test]
fn cipsend_fixed_length_waits_for_all_bytes() {
    let mut b = tcp();
    b.host("AT+CIPSEND=1,5\r");
    assert_eq!(b.host("HEL"), "");
    assert_eq!(b.host("LOEXTRA"), r"\r\nOK\r\n\r\n+CIPSEND: 1,5,5\r\n");
    assert_eq!(b.sent_data(), [b"HELLO".to_vec()]);
}

#[test]
fn cipsend_fixed_length_takes_ctrl_z_esc_and_etx_as_data() {
    let mut b = tcp();
    b.host("AT+CIPSEND=1,4\r");
    assert_eq!(
        b.host(b"\x1a\x1b\x03\r"),
        r"\r\nOK\r\n\r\n+CIPSEND: 1,4,4\r\n"
    );
    assert_eq!(b.sent_data(), [b"\x1a\x1b\x03\r".to_vec()]);
}

#[test]
fn cipsend_variable_length_ends_with_ctrl_z() {
    let mut b = tcp();
    assert_eq!(b.host("AT+CIPSEND=1\r"), r"\r\n>");
    assert_eq!(
        b.host("HELLOWORLD\x1a"),
        r"\r\nOK\r\n\r\n+CIPSEND: 1,10,10\r\n"
    );
    assert_eq!(b.sent_data(), [b"HELLOWORLD".to_vec()]);
}

#[test]
fn cipsend_variable_length_with_empty_length_field() {
    let mut b = tcp();
    assert_eq!(b.host("AT+CIPSEND=1,\r"), r"\r\n>");
    assert_eq!(b.host("abc\x1a"), r"\r\nOK\r\n\r\n+CIPSEND: 1,3,3\r\n");
}

#[test]
fn cipsend_variable_length_etx_escapes_ctrl_z_esc_and_etx() {
    let mut b = tcp();
    b.host("AT+CIPSEND=1\r");
    assert_eq!(
        b.host(b"A\x03\x1aB\x03\x1bC\x03\x03D\x1a"),
        r"\r\nOK\r\n\r\n+CIPSEND: 1,7,7\r\n"
    );
    assert_eq!(b.sent_data(), [b"A\x1aB\x1bC\x03D".to_vec()]);
}

#[test]
fn cipsend_variable_length_etx_before_another_byte_keeps_both() {
    let mut b = tcp();
    b.host("AT+CIPSEND=1\r");
    assert_eq!(b.host(b"\x03X\x1a"), r"\r\nOK\r\n\r\n+CIPSEND: 1,2,2\r\n");
    assert_eq!(b.sent_data(), [b"\x03X".to_vec()]);
}

#[test]
fn cipsend_variable_length_esc_cancels_with_ok_and_sends_nothing() {
    let mut b = tcp();
    b.host("AT+CIPSEND=1\r");
    assert_eq!(b.host(b"HELLO\x1b"), r"\r\nOK\r\n");
    assert!(b.sent_data().is_empty());
    assert_eq!(b.host("AT\r"), r"\r\nOK\r\n");
}

#[test]
fn cipsend_fixed_1500_is_the_maximum() {
    let mut b = tcp();
    assert_eq!(b.host("AT+CIPSEND=1,1500\r"), r"\r\n>");
    assert_eq!(
        b.host(vec![b'x'; 1500]),
        r"\r\nOK\r\n\r\n+CIPSEND: 1,1500,1500\r\n"
    );
}

#[test]
fn cipsend_fixed_1501_is_ciperror_3() {
    let mut b = tcp();
    assert_eq!(
        b.host("AT+CIPSEND=1,1501\r"),
        r"\r\n+CIPERROR: 3\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipsend_length_0_is_ciperror_3() {
    let mut b = tcp();
    assert_eq!(
        b.host("AT+CIPSEND=1,0\r"),
        r"\r\n+CIPERROR: 3\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipsend_variable_1500_bytes_is_accepted() {
    let mut b = tcp();
    b.host("AT+CIPSEND=1\r");
    let mut p = vec![b'y'; 1500];
    p.push(0x1a);
    assert_eq!(b.host(p), r"\r\nOK\r\n\r\n+CIPSEND: 1,1500,1500\r\n");
}

#[test]
fn cipsend_variable_over_1500_bytes_is_ciperror_3_and_sends_nothing() {
    let mut b = tcp();
    b.host("AT+CIPSEND=1\r");
    let mut p = vec![b'y'; 1501];
    p.push(0x1a);
    assert_eq!(b.host(p), r"\r\n+CIPERROR: 3\r\n\r\nERROR\r\n");
    assert!(b.sent_data().is_empty());
    assert_eq!(b.host("AT\r"), r"\r\nOK\r\n");
}

#[test]
fn cipsend_variable_empty_payload_is_ciperror_3() {
    let mut b = tcp();
    b.host("AT+CIPSEND=1\r");
    assert_eq!(b.host(b"\x1a"), r"\r\n+CIPERROR: 3\r\n\r\nERROR\r\n");
    assert!(b.sent_data().is_empty());
}

#[test]
fn cipsend_lf_right_after_cr_is_swallowed_not_payload() {
    let mut b = tcp();
    assert_eq!(b.host("AT+CIPSEND=1,5\r"), r"\r\n>");
    assert_eq!(b.host("\nHELLO"), r"\r\nOK\r\n\r\n+CIPSEND: 1,5,5\r\n");
    assert_eq!(b.sent_data(), [b"HELLO".to_vec()]);
}

#[test]
fn cipsend_lf_not_right_after_cr_is_payload() {
    let mut b = tcp();
    b.host("AT+CIPSEND=1,3\r");
    b.host("a");
    assert_eq!(b.host("\nb"), r"\r\nOK\r\n\r\n+CIPSEND: 1,3,3\r\n");
    assert_eq!(b.sent_data(), [b"a\nb".to_vec()]);
}

#[test]
fn cipsend_payload_in_the_same_read_as_the_command() {
    let mut b = tcp();
    assert_eq!(
        b.host("AT+CIPSEND=1,5\r\nHELLO"),
        r"\r\n>\r\nOK\r\n\r\n+CIPSEND: 1,5,5\r\n"
    );
    assert_eq!(b.sent_data(), [b"HELLO".to_vec()]);
}

#[test]
fn cipsend_variable_payload_and_next_command_in_one_read() {
    let mut b = tcp();
    assert_eq!(
        b.host("AT+CIPSEND=1\r\nabc\x1aAT\r"),
        r"\r\n>\r\nOK\r\n\r\nOK\r\n\r\n+CIPSEND: 1,3,3\r\n"
    );
}

#[test]
fn cipsend_to_a_link_not_open_is_ciperror_3() {
    let mut b = tcp();
    assert_eq!(
        b.host("AT+CIPSEND=2,5\r"),
        r"\r\n+CIPERROR: 3\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipsend_before_netopen_is_ciperror_3() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CIPSEND=0,5\r"),
        r"\r\n+CIPERROR: 3\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipsend_link_out_of_range_is_ip_error_invalid_parameter() {
    let mut b = tcp();
    assert_eq!(
        b.host("AT+CIPSEND=10,5\r"),
        r"\r\n+IP ERROR: Invalid parameter\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipsend_execute_form_is_error() {
    let mut b = tcp();
    assert_eq!(b.host("AT+CIPSEND\r"), r"\r\nERROR\r\n");
}

#[test]
fn cipsend_tcp_ignores_a_destination() {
    let mut b = tcp();
    assert_eq!(b.host("AT+CIPSEND=1,2,\"1.2.3.4\",9\r"), r"\r\n>");
    b.host("hi");
    assert!(matches!(
        b.log
            .iter()
            .rev()
            .find(|c| matches!(c, NetCommand::Send { .. } | NetCommand::SendTo { .. })),
        Some(NetCommand::Send { .. })
    ));
}

fn udp() -> Bench {
    let mut b = Bench::quiet();
    b.netopen();
    b.open_udp(1);
    b
}

fn last_send_to(b: &Bench) -> Option<(SocketAddrV4, Vec<u8>)> {
    b.log.iter().rev().find_map(|c| match c {
        NetCommand::SendTo { to, data, .. } => Some((*to, data.clone())),
        _ => None,
    })
}

#[test]
fn cipsend_udp_fixed_length_with_destination() {
    let mut b = udp();
    assert_eq!(b.host("AT+CIPSEND=1,5,\"117.131.85.139\",5254\r"), r"\r\n>");
    assert_eq!(b.host("HELLO"), r"\r\nOK\r\n\r\n+CIPSEND: 1,5,5\r\n");
    assert_eq!(
        last_send_to(&b),
        Some((
            "117.131.85.139:5254".parse().expect("addr"),
            b"HELLO".to_vec()
        ))
    );
}

#[test]
fn cipsend_udp_variable_length_with_destination() {
    let mut b = udp();
    assert_eq!(b.host("AT+CIPSEND=1,,\"117.131.85.139\",5254\r"), r"\r\n>");
    assert_eq!(
        b.host("HELLOSERVER\x1a"),
        r"\r\nOK\r\n\r\n+CIPSEND: 1,11,11\r\n"
    );
    assert_eq!(
        last_send_to(&b),
        Some((
            "117.131.85.139:5254".parse().expect("addr"),
            b"HELLOSERVER".to_vec()
        ))
    );
}

#[test]
fn cipsend_udp_without_destination_is_ciperror_3() {
    let mut b = udp();
    assert_eq!(
        b.host("AT+CIPSEND=1,5\r"),
        r"\r\n+CIPERROR: 3\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipsend_udp_bad_destination_is_ciperror_3() {
    let mut b = udp();
    assert_eq!(
        b.host("AT+CIPSEND=1,5,\"999.1.1.1\",5254\r"),
        r"\r\n+CIPERROR: 3\r\n\r\nERROR\r\n"
    );
    assert_eq!(
        b.host("AT+CIPSEND=1,5,\"117.131.85.139\",70000\r"),
        r"\r\n+CIPERROR: 3\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipsend_udp_opened_with_remote_sends_there_without_destination() {
    let mut b = Bench::quiet();
    b.netopen();
    b.host("AT+CIPOPEN=2,\"UDP\",\"117.131.85.139\",5254,5000\r");
    assert_eq!(b.host("AT+CIPSEND=2,2\r"), r"\r\n>");
    assert_eq!(b.host("hi"), r"\r\nOK\r\n\r\n+CIPSEND: 2,2,2\r\n");
    assert_eq!(
        last_send_to(&b),
        Some(("117.131.85.139:5254".parse().expect("addr"), b"hi".to_vec()))
    );
}

fn send_with_outcome(outcome: SendOutcome) -> String {
    let mut b = tcp();
    b.auto = false;
    b.host("AT+CIPSEND=1,5\r");
    assert_eq!(b.host("HELLO"), r"\r\nOK\r\n");
    let conn = b.last_conn();
    b.event(NetEvent::SendDone { conn, outcome })
}

#[test]
fn cipsend_report_waits_for_the_stack() {
    assert_eq!(
        send_with_outcome(SendOutcome::Accepted),
        r"\r\n+CIPSEND: 1,5,5\r\n"
    );
}

#[test]
fn cipsend_buffer_full_reports_cnf_0() {
    assert_eq!(
        send_with_outcome(SendOutcome::Full),
        r"\r\n+CIPSEND: 1,5,0\r\n"
    );
}

#[test]
fn cipsend_disconnected_reports_cnf_minus_1() {
    assert_eq!(
        send_with_outcome(SendOutcome::Disconnected),
        r"\r\n+CIPSEND: 1,5,-1\r\n"
    );
}

#[test]
fn cipsend_reports_of_a_link_closed_meanwhile_still_come() {
    let mut b = tcp();
    let conn = b.last_conn();
    b.auto = false;
    b.host("AT+CIPSEND=1,5\r");
    b.host("HELLO");
    assert_eq!(
        b.event(NetEvent::PeerClosed { conn }),
        r"\r\n+IPCLOSE: 1,1\r\n"
    );
    assert_eq!(
        b.event(NetEvent::SendDone {
            conn,
            outcome: SendOutcome::Disconnected
        }),
        r"\r\n+CIPSEND: 1,5,-1\r\n"
    );
}

#[test]
fn cipsend_payload_not_complete_within_the_timeout_is_error() {
    let mut b = tcp();
    b.host("AT+CIPTIMEOUT=,,3000\r");
    b.host("AT+CIPSEND=1,5\r");
    b.host("HEL");
    assert_eq!(b.advance(Duration::from_millis(2999)), "");
    assert_eq!(b.advance(Duration::from_millis(1)), r"\r\nERROR\r\n");
    assert!(b.sent_data().is_empty());
    assert_eq!(b.host("AT\r"), r"\r\nOK\r\n");
}

#[test]
fn cipsendmode_1_holds_the_report_until_the_peer_acknowledged() {
    let mut b = tcp();
    let conn = b.last_conn();
    b.host("AT+CIPSENDMODE=1\r");
    b.auto = false;
    b.host("AT+CIPSEND=1,5\r");
    assert_eq!(b.host("HELLO"), r"\r\nOK\r\n");
    assert_eq!(
        b.event(NetEvent::SendDone {
            conn,
            outcome: SendOutcome::Accepted
        }),
        ""
    );
    b.advance(Duration::from_millis(100));
    assert!(b
        .pending
        .iter()
        .any(|c| matches!(c, NetCommand::QueryAck { .. })));
    assert_eq!(b.event(NetEvent::AckStatus { conn, acked: 3 }), "");
    assert_eq!(
        b.event(NetEvent::AckStatus { conn, acked: 5 }),
        r"\r\n+CIPSEND: 1,5,5\r\n"
    );
}

#[test]
fn cipsendmode_1_ack_timeout_is_cnf_minus_1_and_ipclose_2() {
    let mut b = tcp();
    let conn = b.last_conn();
    b.host("AT+CIPSENDMODE=1\r");
    b.host("AT+CIPTIMEOUT=,,3000\r");
    b.auto = false;
    b.host("AT+CIPSEND=1,5\r");
    b.host("HELLO");
    b.event(NetEvent::SendDone {
        conn,
        outcome: SendOutcome::Accepted,
    });
    assert_eq!(b.advance(Duration::from_millis(2990)), "");
    assert_eq!(
        b.advance(Duration::from_millis(20)),
        r"\r\n+CIPSEND: 1,5,-1\r\n\r\n+IPCLOSE: 1,2\r\n"
    );
    assert!(b.host("AT+CIPOPEN?\r").contains(r"\r\n+CIPOPEN: 1\r\n"));
}

#[test]
fn cipsendmode_0_reports_without_waiting_for_ack() {
    let mut b = tcp();
    let conn = b.last_conn();
    b.auto = false;
    b.host("AT+CIPSEND=1,5\r");
    b.host("HELLO");
    assert_eq!(
        b.event(NetEvent::SendDone {
            conn,
            outcome: SendOutcome::Accepted
        }),
        r"\r\n+CIPSEND: 1,5,5\r\n"
    );
}

#[test]
fn cipsendmode_1_reports_each_send_when_the_ack_covers_it() {
    let mut b = tcp();
    let conn = b.last_conn();
    b.host("AT+CIPSENDMODE=1\r");
    b.auto = false;
    for _ in 0..2 {
        b.host("AT+CIPSEND=1,5\r");
        b.host("HELLO");
        b.event(NetEvent::SendDone {
            conn,
            outcome: SendOutcome::Accepted,
        });
    }
    assert_eq!(
        b.event(NetEvent::AckStatus { conn, acked: 5 }),
        r"\r\n+CIPSEND: 1,5,5\r\n"
    );
    assert_eq!(
        b.event(NetEvent::AckStatus { conn, acked: 10 }),
        r"\r\n+CIPSEND: 1,5,5\r\n"
    );
}

#[test]
fn cipsend_to_a_link_that_closed_while_the_payload_was_typed_reports_minus_1() {
    let mut b = tcp();
    let conn = b.last_conn();
    b.host("AT+CIPSEND=1,5\r");
    b.host("HE");
    assert_eq!(b.event(NetEvent::PeerClosed { conn }), "");
    assert_eq!(
        b.host("LLO"),
        r"\r\nOK\r\n\r\n+IPCLOSE: 1,1\r\n\r\n+CIPSEND: 1,5,-1\r\n"
    );
    assert!(b.sent_data().is_empty());
}
