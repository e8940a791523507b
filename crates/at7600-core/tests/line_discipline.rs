//! V.25ter line discipline and URC ordering (clarifications §1; behaviour.md
//! "Line discipline").
mod common;
use at7600_core::{NetCommand, NetEvent};
use common::Bench;

#[test]
fn lower_case_at_is_accepted() {
    let mut b = Bench::default();
    assert_eq!(b.host("at\r"), r"at\r\r\nOK\r\n");
    assert_eq!(b.host("aT+csq\r"), r"aT+csq\r\r\n+CSQ: 25,99\r\n\r\nOK\r\n");
}

#[test]
fn bytes_before_at_are_ignored_and_not_echoed() {
    let mut b = Bench::default();
    assert_eq!(b.host(b"\x1a\nxyz\x00AT\r"), r"AT\r\r\nOK\r\n");
}

#[test]
fn a_then_other_than_t_drops_back_to_waiting() {
    let mut b = Bench::default();
    assert_eq!(b.host("AXAT\r"), r"AAT\r\r\nOK\r\n");
}

#[test]
fn empty_line_produces_nothing() {
    let mut b = Bench::default();
    assert_eq!(b.host("\r"), "");
    assert_eq!(b.host("\r\n"), "");
}

#[test]
fn bare_at_with_lf_is_ok_and_lf_is_swallowed() {
    let mut b = Bench::default();
    assert_eq!(b.host("AT\r\n"), r"AT\r\r\nOK\r\n");
    assert_eq!(b.host("AT\r\nAT\r\n"), r"AT\r\r\nOK\r\nAT\r\r\nOK\r\n");
}

#[test]
fn spaces_after_commas_are_tolerated() {
    let mut b = Bench::quiet();
    b.netopen();
    assert_eq!(
        b.host("AT+CIPOPEN=1, \"TCP\", \"117.131.85.139\", 5253\r"),
        r"\r\nOK\r\n\r\n+CIPOPEN: 1,0\r\n"
    );
}

#[test]
fn basic_commands_run_together_with_one_final_result() {
    let mut b = Bench::default();
    assert_eq!(b.host("ATE0V1&D2\r"), r"ATE0V1&D2\r\r\nOK\r\n");
    assert_eq!(b.host("AT\r"), r"\r\nOK\r\n");
}

#[test]
fn extended_commands_separated_by_semicolons() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CIPHEAD=0;+CIPHEAD?;+CIPSRIP?\r"),
        r"\r\n+CIPHEAD: 0\r\n\r\n+CIPSRIP: 1\r\n\r\nOK\r\n"
    );
}

#[test]
fn first_failure_ends_the_line() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CIPHEAD=5;+CIPSRIP=0\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CIPSRIP?\r"), r"\r\n+CIPSRIP: 1\r\n\r\nOK\r\n");
}

#[test]
fn a_slash_repeats_the_last_command_line() {
    let mut b = Bench::default();
    b.host("AT+CSQ\r");
    assert_eq!(b.host("A/"), r"A/\r\n+CSQ: 25,99\r\n\r\nOK\r\n");
}

#[test]
fn backspace_and_del_edit_the_line() {
    let mut b = Bench::default();
    assert_eq!(
        b.host(b"AT+CSX\x08Q\r"),
        r"AT+CSX\x08Q\r\r\n+CSQ: 25,99\r\n\r\nOK\r\n"
    );
    assert!(b.host(b"ATI9\x7f\r").ends_with(r"\r\nOK\r\n"));
}

#[test]
fn line_of_1024_bytes_is_accepted() {
    let mut b = Bench::quiet();
    // `AT` + 1024 bytes: `+CGDCONT=1,"IP","<apn>"` padded with spaces.
    let head = "+CGAUTH=1";
    let line = format!("AT{head}{}\r", " ".repeat(1024 - head.len()));
    assert_eq!(b.host(line), r"\r\nOK\r\n");
}

#[test]
fn line_over_1024_bytes_is_error_and_the_modem_keeps_working() {
    let mut b = Bench::quiet();
    let head = "+CGAUTH=1";
    let line = format!("AT{head}{}\r", " ".repeat(1025 - head.len()));
    assert_eq!(b.host(line), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT\r"), r"\r\nOK\r\n");
}

#[test]
fn bytes_past_the_line_limit_are_not_echoed() {
    let mut b = Bench::default();
    let body = "x".repeat(1030);
    let out = b.host(format!("AT{body}\r"));
    assert_eq!(out, format!(r"AT{}\r\r\nERROR\r\n", "x".repeat(1024)));
}

// ---- URC ordering -------------------------------------------------------------------

#[test]
fn urc_while_cdnsgip_waits_comes_after_its_final_result() {
    let mut b = Bench::quiet();
    b.netopen();
    let conn = b.open_tcp(1);
    b.auto = false;
    assert_eq!(b.host("AT+CDNSGIP=\"www.baidu.com\"\r"), "");
    assert_eq!(b.data(conn, b"early"), "");
    assert_eq!(b.event(NetEvent::PeerClosed { conn }), "");
    let Some(NetCommand::Resolve { query, .. }) = b.pending.pop_front() else {
        panic!("no Resolve")
    };
    assert_eq!(
        b.event(NetEvent::Resolved {
            query,
            addr: Some("61.135.169.121".parse().expect("ip"))
        }),
        r#"\r\n+CDNSGIP: 1,"www.baidu.com","61.135.169.121"\r\n\r\nOK\r\n\r\nRECV FROM:117.131.85.139:5253\r\n+IPD5\r\nearly\r\n+IPCLOSE: 1,1\r\n"#
    );
}

#[test]
fn urc_while_udp_cipopen_waits_comes_after_ok() {
    let mut b = Bench::quiet();
    b.netopen();
    let tcp = b.open_tcp(1);
    b.auto = false;
    assert_eq!(b.host("AT+CIPOPEN=2,\"UDP\",,,5000\r"), "");
    assert_eq!(b.data(tcp, b"hi"), "");
    let udp = b.last_conn();
    assert_eq!(
        b.event(NetEvent::Opened {
            conn: udp,
            remote: "0.0.0.0:0".parse().expect("addr"),
            local_port: 5000
        }),
        r"\r\n+CIPOPEN: 2,0\r\n\r\nOK\r\n\r\nRECV FROM:117.131.85.139:5253\r\n+IPD2\r\nhi"
    );
}

#[test]
fn urc_while_a_payload_is_half_typed_comes_after_ok() {
    let mut b = Bench::quiet();
    b.netopen();
    let conn = b.open_tcp(1);
    assert_eq!(b.host("AT+CIPSEND=1,5\r"), r"\r\n>");
    assert_eq!(b.host("HE"), "");
    assert_eq!(b.data(conn, b"in between"), "");
    assert_eq!(
        b.host("LLO"),
        r"\r\nOK\r\n\r\nRECV FROM:117.131.85.139:5253\r\n+IPD10\r\nin between\r\n+CIPSEND: 1,5,5\r\n"
    );
}

#[test]
fn urcs_are_released_in_arrival_order() {
    let mut b = Bench::quiet();
    b.netopen();
    b.host("AT+CIPRXGET=1\r");
    let c1 = b.open_tcp(1);
    let c2 = b.open_tcp(2);
    b.auto = false;
    b.host("AT+CDNSGIP=\"www.baidu.com\"\r");
    b.data(c2, b"x");
    b.data(c1, b"y");
    b.event(NetEvent::PeerClosed { conn: c2 });
    let Some(NetCommand::Resolve { query, .. }) = b.pending.pop_front() else {
        panic!("no Resolve")
    };
    assert_eq!(
        b.event(NetEvent::Resolved { query, addr: None }),
        r"\r\n+CDNSGIP: 0,10\r\n\r\nERROR\r\n\r\n+CIPRXGET: 1,2\r\n\r\n+CIPRXGET: 1,1\r\n\r\n+IPCLOSE: 2,1\r\n"
    );
}

#[test]
fn host_bytes_typed_while_busy_run_after_the_command() {
    let mut b = Bench::quiet();
    b.netopen();
    b.auto = false;
    assert_eq!(b.host("AT+CDNSGIP=\"www.baidu.com\"\rAT+CSQ\r"), "");
    let Some(NetCommand::Resolve { query, .. }) = b.pending.pop_front() else {
        panic!("no Resolve")
    };
    assert_eq!(
        b.event(NetEvent::Resolved { query, addr: None }),
        r"\r\n+CDNSGIP: 0,10\r\n\r\nERROR\r\n\r\n+CSQ: 25,99\r\n\r\nOK\r\n"
    );
}

#[test]
fn cdnsgip_without_answer_times_out_to_cdnsgip_0_10() {
    let mut b = Bench::quiet();
    b.netopen();
    b.auto = false;
    b.host("AT+CIPTIMEOUT=,3000\r");
    b.host("AT+CDNSGIP=\"www.baidu.com\"\r");
    assert_eq!(
        b.advance(std::time::Duration::from_millis(3000)),
        r"\r\n+CDNSGIP: 0,10\r\n\r\nERROR\r\n"
    );
}

#[test]
fn dtr_off_mid_line_discards_it() {
    let mut b = Bench::quiet();
    b.host("AT+CIPHEAD=0");
    assert_eq!(b.dtr(false), "");
    b.dtr(true);
    assert_eq!(b.host("\r"), "");
    assert_eq!(b.host("AT+CIPHEAD?\r"), r"\r\n+CIPHEAD: 1\r\n\r\nOK\r\n");
}

#[test]
fn dtr_off_mid_payload_is_error_and_sends_nothing() {
    let mut b = Bench::quiet();
    b.netopen();
    b.open_tcp(1);
    b.host("AT+CIPSEND=1,10\r");
    b.host("HALF");
    assert_eq!(b.dtr(false), r"\r\nERROR\r\n");
    b.dtr(true);
    assert!(b.sent_data().is_empty());
    assert_eq!(b.host("AT\r"), r"\r\nOK\r\n");
}
