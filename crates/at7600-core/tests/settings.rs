//! The setting commands: `AT+CIPHEAD`, `AT+CIPSRIP`, `AT+CIPMODE`, `AT+CIPSENDMODE`,
//! `AT+CIPTIMEOUT`, `AT+CIPCCFG`, and `AT+CIPACK` (manual §2.8-2.13, §2.16;
//! clarifications §3, §4, §7).
mod common;
use common::Bench;
use std::time::Duration;

fn tcp() -> (Bench, at7600_core::ConnId) {
    let mut b = Bench::quiet();
    b.netopen();
    let conn = b.open_tcp(1);
    (b, conn)
}

#[test]
fn ciphead_forms() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CIPHEAD=?\r"),
        r"\r\n+CIPHEAD: (0-1)\r\n\r\nOK\r\n"
    );
    assert_eq!(b.host("AT+CIPHEAD?\r"), r"\r\n+CIPHEAD: 1\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CIPHEAD=0\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CIPHEAD?\r"), r"\r\n+CIPHEAD: 0\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CIPHEAD\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CIPHEAD?\r"), r"\r\n+CIPHEAD: 1\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CIPHEAD=2\r"), r"\r\nERROR\r\n");
}

#[test]
fn cipsrip_forms() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CIPSRIP=?\r"),
        r"\r\n+CIPSRIP: (0-1)\r\n\r\nOK\r\n"
    );
    assert_eq!(b.host("AT+CIPSRIP?\r"), r"\r\n+CIPSRIP: 1\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CIPSRIP=0\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CIPSRIP?\r"), r"\r\n+CIPSRIP: 0\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CIPSRIP\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CIPSRIP?\r"), r"\r\n+CIPSRIP: 1\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CIPSRIP=x\r"), r"\r\nERROR\r\n");
}

fn push_with(srip: u8, head: u8) -> String {
    let (mut b, conn) = tcp();
    b.host(format!("AT+CIPSRIP={srip};+CIPHEAD={head}\r"));
    b.data(conn, b"data from server")
}

#[test]
fn push_header_srip_1_head_1() {
    assert_eq!(
        push_with(1, 1),
        r"\r\nRECV FROM:117.131.85.139:5253\r\n+IPD16\r\ndata from server"
    );
}

#[test]
fn push_header_srip_1_head_0() {
    assert_eq!(
        push_with(1, 0),
        r"\r\nRECV FROM:117.131.85.139:5253\r\ndata from server"
    );
}

#[test]
fn push_header_srip_0_head_1() {
    assert_eq!(push_with(0, 1), r"\r\n+IPD16\r\ndata from server");
}

#[test]
fn push_header_srip_0_head_0_is_raw_data() {
    assert_eq!(push_with(0, 0), "data from server");
}

#[test]
fn cipmode_forms() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CIPMODE=?\r"),
        r"\r\n+CIPMODE: (0-1)\r\n\r\nOK\r\n"
    );
    assert_eq!(b.host("AT+CIPMODE?\r"), r"\r\n+CIPMODE: 0\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CIPMODE=1\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CIPMODE?\r"), r"\r\n+CIPMODE: 1\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CIPMODE\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CIPMODE?\r"), r"\r\n+CIPMODE: 0\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CIPMODE=2\r"), r"\r\nERROR\r\n");
}

#[test]
fn cipmode_cannot_change_after_netopen() {
    let mut b = Bench::quiet();
    b.netopen();
    assert_eq!(b.host("AT+CIPMODE=1\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CIPMODE=0\r"), r"\r\nOK\r\n");
}

#[test]
fn cipsendmode_forms() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CIPSENDMODE=?\r"),
        r"\r\n+CIPSENDMODE: (0-1)\r\n\r\nOK\r\n"
    );
    assert_eq!(
        b.host("AT+CIPSENDMODE?\r"),
        r"\r\n+CIPSENDMODE: 0\r\n\r\nOK\r\n"
    );
    assert_eq!(b.host("AT+CIPSENDMODE=1\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+CIPSENDMODE?\r"),
        r"\r\n+CIPSENDMODE: 1\r\n\r\nOK\r\n"
    );
    assert_eq!(b.host("AT+CIPSENDMODE=2\r"), r"\r\nERROR\r\n");
}

#[test]
fn ciptimeout_read_defaults() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CIPTIMEOUT?\r"),
        r"\r\n+CIPTIMEOUT: 120000,120000,120000\r\n\r\nOK\r\n"
    );
}

#[test]
fn ciptimeout_write_with_empty_fields_keeps_the_others() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CIPTIMEOUT=,,5000\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+CIPTIMEOUT?\r"),
        r"\r\n+CIPTIMEOUT: 120000,120000,5000\r\n\r\nOK\r\n"
    );
    assert_eq!(b.host("AT+CIPTIMEOUT=3000,,\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CIPTIMEOUT=,60000\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+CIPTIMEOUT?\r"),
        r"\r\n+CIPTIMEOUT: 3000,60000,5000\r\n\r\nOK\r\n"
    );
}

#[test]
fn ciptimeout_out_of_range_is_error() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CIPTIMEOUT=2999\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CIPTIMEOUT=,120001\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CIPTIMEOUT=1,2,3,4\r"), r"\r\nERROR\r\n");
    assert_eq!(
        b.host("AT+CIPTIMEOUT?\r"),
        r"\r\n+CIPTIMEOUT: 120000,120000,120000\r\n\r\nOK\r\n"
    );
}

#[test]
fn cipccfg_test_form() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CIPCCFG=?\r"),
        r"\r\n+CIPCCFG: (0-10),(0-1000),(0),(0-1),(0-1),(0-1),(500-120000)\r\n\r\nOK\r\n"
    );
}

#[test]
fn cipccfg_read_defaults() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CIPCCFG?\r"),
        r"\r\n+CIPCCFG: 10,0,0,1,0,0,500\r\n\r\nOK\r\n"
    );
}

#[test]
fn cipccfg_write_accepts_the_clarifications_examples() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CIPCCFG=10,0,0,0,1,0,75000\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+CIPCCFG?\r"),
        r"\r\n+CIPCCFG: 10,0,0,0,1,0,75000\r\n\r\nOK\r\n"
    );
    assert_eq!(b.host("AT+CIPCCFG=10,0,0,1,1,0,120000\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+CIPCCFG?\r"),
        r"\r\n+CIPCCFG: 10,0,0,1,1,0,120000\r\n\r\nOK\r\n"
    );
}

#[test]
fn cipccfg_write_with_empty_fields_and_execute_resets() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CIPCCFG=,200\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+CIPCCFG?\r"),
        r"\r\n+CIPCCFG: 10,200,0,1,0,0,500\r\n\r\nOK\r\n"
    );
    assert_eq!(b.host("AT+CIPCCFG\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+CIPCCFG?\r"),
        r"\r\n+CIPCCFG: 10,0,0,1,0,0,500\r\n\r\nOK\r\n"
    );
}

#[test]
fn cipccfg_out_of_range_is_error() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CIPCCFG=11\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CIPCCFG=,1001\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CIPCCFG=,,1\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CIPCCFG=,,,,,,499\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CIPCCFG=,,,,,,120001\r"), r"\r\nERROR\r\n");
}

#[test]
fn cipccfg_err_mode_0_prints_numeric_err_info() {
    let mut b = Bench::quiet();
    b.host("AT+CIPCCFG=,,,0\r");
    assert_eq!(b.host("AT+IPADDR\r"), r"\r\n+IP ERROR: 8\r\n\r\nERROR\r\n");
    b.netopen();
    assert_eq!(b.host("AT+NETOPEN\r"), r"\r\n+IP ERROR: 4\r\n\r\nERROR\r\n");
}

#[test]
fn cipccfg_header_type_1_is_receive_link_len() {
    let (mut b, conn) = tcp();
    b.host("AT+CIPCCFG=,,,,1\r");
    assert_eq!(
        b.data(conn, b"data from server"),
        r"\r\nRECV FROM:117.131.85.139:5253\r\n+RECEIVE,1,16\r\ndata from server"
    );
}

#[test]
fn cipccfg_delay_tm_delays_push_output() {
    let (mut b, conn) = tcp();
    b.host("AT+CIPCCFG=,500\r");
    assert_eq!(b.data(conn, b"late"), "");
    assert_eq!(b.advance(Duration::from_millis(499)), "");
    assert_eq!(
        b.advance(Duration::from_millis(1)),
        r"\r\nRECV FROM:117.131.85.139:5253\r\n+IPD4\r\nlate"
    );
}

#[test]
fn cipack_test_form() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CIPACK=?\r"), r"\r\n+CIPACK: (0-9)\r\n\r\nOK\r\n");
}

#[test]
fn cipack_counts_sent_acked_and_received() {
    let (mut b, conn) = tcp();
    assert_eq!(b.host("AT+CIPACK=1\r"), r"\r\n+CIPACK: 0,0,0\r\n\r\nOK\r\n");
    b.host("AT+CIPSEND=1,5\r");
    b.host("HELLO");
    b.data(conn, b"data from server");
    assert_eq!(
        b.host("AT+CIPACK=1\r"),
        r"\r\n+CIPACK: 5,5,16\r\n\r\nOK\r\n"
    );
}

#[test]
fn cipack_on_a_link_not_open_is_ip_error_connection_is_not_created() {
    let (mut b, _) = tcp();
    assert_eq!(
        b.host("AT+CIPACK=2\r"),
        r"\r\n+IP ERROR: Connection is not created\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipack_before_netopen_is_ip_error_network_not_opened() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CIPACK=0\r"),
        r"\r\n+IP ERROR: Network not opened\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipack_on_udp_is_ip_error_operation_not_supported() {
    let mut b = Bench::quiet();
    b.netopen();
    b.open_udp(1);
    assert_eq!(
        b.host("AT+CIPACK=1\r"),
        r"\r\n+IP ERROR: Operation not supported\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipack_link_out_of_range_is_ip_error_invalid_parameter() {
    let (mut b, _) = tcp();
    assert_eq!(
        b.host("AT+CIPACK=10\r"),
        r"\r\n+IP ERROR: Invalid parameter\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipccfg_retries_and_timeout_reach_the_socket_options() {
    let mut b = Bench::quiet();
    b.netopen();
    b.host("AT+CIPCCFG=3,,,,,,2000\r");
    b.open_tcp(1);
    let opts = b.log.iter().find_map(|c| match c {
        at7600_core::NetCommand::Open { options, .. } => Some(*options),
        _ => None,
    });
    let opts = opts.expect("an Open was issued");
    assert_eq!(opts.retries, 3);
    assert_eq!(opts.min_rto, Duration::from_millis(2000));
}
