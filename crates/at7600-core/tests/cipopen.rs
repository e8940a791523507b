//! `AT+CIPOPEN` in every form: TCP, UDP with and without a remote, domain names, and
//! each error path (manual §2.3; clarifications §2, §3, §9; behaviour.md).
mod common;
use at7600_core::{NetCommand, NetEvent, OpenError, Protocol};
use common::Bench;
use std::time::Duration;

fn opened() -> Bench {
    let mut b = Bench::quiet();
    b.netopen();
    b
}

#[test]
fn cipopen_test_form_lists_links_and_types() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CIPOPEN=?\r"),
        r#"\r\n+CIPOPEN: (0-9),("TCP","UDP")\r\n\r\nOK\r\n"#
    );
}

#[test]
fn cipopen_read_lists_ten_bare_links_when_none_is_used() {
    let mut b = Bench::quiet();
    let lines: String = (0..10).map(|i| format!(r"+CIPOPEN: {i}\r\n")).collect();
    assert_eq!(b.host("AT+CIPOPEN?\r"), format!(r"\r\n{lines}\r\nOK\r\n"));
}

#[test]
fn cipopen_tcp_answers_ok_then_urc() {
    let mut b = opened();
    assert_eq!(
        b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r"),
        r"\r\nOK\r\n\r\n+CIPOPEN: 1,0\r\n"
    );
}

#[test]
fn cipopen_tcp_urc_comes_when_the_connect_completes() {
    let mut b = opened();
    b.auto = false;
    assert_eq!(
        b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r"),
        r"\r\nOK\r\n"
    );
    let cmd = b.pending.pop_front().expect("open");
    let ev = b.answer(&cmd).expect("answer");
    assert_eq!(b.event(ev), r"\r\n+CIPOPEN: 1,0\r\n");
}

#[test]
fn cipopen_tcp_with_local_port_binds_it() {
    let mut b = opened();
    assert_eq!(
        b.host("AT+CIPOPEN=0,\"TCP\",\"117.131.85.139\",5253,6000\r"),
        r"\r\nOK\r\n\r\n+CIPOPEN: 0,0\r\n"
    );
    let open = b.log.iter().find(|c| matches!(c, NetCommand::Open { .. }));
    let Some(NetCommand::Open {
        protocol,
        remote,
        local_port,
        ..
    }) = open
    else {
        panic!("no Open issued")
    };
    assert_eq!(*protocol, Protocol::Tcp);
    assert_eq!(remote, &Some(("117.131.85.139".to_string(), 5253)));
    assert_eq!(*local_port, Some(6000));
}

#[test]
fn cipopen_tcp_domain_name_is_resolved_and_read_shows_the_address() {
    let mut b = opened();
    assert_eq!(
        b.host("AT+CIPOPEN=3,\"TCP\",\"peer.test\",5253\r"),
        r"\r\nOK\r\n\r\n+CIPOPEN: 3,0\r\n"
    );
    assert!(b
        .host("AT+CIPOPEN?\r")
        .contains(r#"\r\n+CIPOPEN: 3,"TCP","117.131.85.139",5253,-1\r\n"#));
}

#[test]
fn cipopen_tcp_unresolvable_name_is_urc_cipopen_n_11() {
    let mut b = opened();
    assert_eq!(
        b.host("AT+CIPOPEN=1,\"TCP\",\"nowhere.test\",5253\r"),
        r"\r\nOK\r\n\r\n+CIPOPEN: 1,11\r\n"
    );
    assert!(b.host("AT+CIPOPEN?\r").contains(r"\r\n+CIPOPEN: 1\r\n"));
}

fn failed_open(error: OpenError) -> String {
    let mut b = opened();
    b.auto = false;
    b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r");
    let conn = b.last_conn();
    b.event(NetEvent::OpenFailed { conn, error })
}

#[test]
fn cipopen_tcp_refused_is_urc_cipopen_n_1() {
    assert_eq!(failed_open(OpenError::Refused), r"\r\n+CIPOPEN: 1,1\r\n");
}

#[test]
fn cipopen_tcp_local_port_taken_is_urc_cipopen_n_6() {
    assert_eq!(failed_open(OpenError::Bind), r"\r\n+CIPOPEN: 1,6\r\n");
}

#[test]
fn cipopen_tcp_timeout_is_urc_cipopen_n_10() {
    let mut b = opened();
    b.auto = false;
    b.host("AT+CIPTIMEOUT=,3000\r");
    assert_eq!(
        b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r"),
        r"\r\nOK\r\n"
    );
    assert_eq!(b.advance(Duration::from_millis(2999)), "");
    assert_eq!(
        b.advance(Duration::from_millis(1)),
        r"\r\n+CIPOPEN: 1,10\r\n"
    );
    assert!(b
        .pending
        .iter()
        .any(|c| matches!(c, NetCommand::Close { .. })));
    assert!(b.host("AT+CIPOPEN?\r").contains(r"\r\n+CIPOPEN: 1\r\n"));
}

#[test]
fn cipopen_udp_without_remote_is_urc_before_ok() {
    let mut b = opened();
    assert_eq!(
        b.host("AT+CIPOPEN=1,\"UDP\",,,5000\r"),
        r"\r\n+CIPOPEN: 1,0\r\n\r\nOK\r\n"
    );
    assert!(b
        .host("AT+CIPOPEN?\r")
        .contains(r#"\r\n+CIPOPEN: 1,"UDP","0.0.0.0",0,-1\r\n"#));
}

#[test]
fn cipopen_udp_with_remote_is_urc_before_ok_and_read_shows_the_remote() {
    let mut b = opened();
    assert_eq!(
        b.host("AT+CIPOPEN=2,\"UDP\",\"117.131.85.139\",5254,5000\r"),
        r"\r\n+CIPOPEN: 2,0\r\n\r\nOK\r\n"
    );
    assert!(b
        .host("AT+CIPOPEN?\r")
        .contains(r#"\r\n+CIPOPEN: 2,"UDP","117.131.85.139",5254,-1\r\n"#));
}

#[test]
fn cipopen_udp_without_local_port_is_cipopen_n_3() {
    let mut b = opened();
    assert_eq!(
        b.host("AT+CIPOPEN=1,\"UDP\",\"117.131.85.139\",5254\r"),
        r"\r\n+CIPOPEN: 1,3\r\n\r\nERROR\r\n"
    );
    assert_eq!(
        b.host("AT+CIPOPEN=1,\"UDP\",,,\r"),
        r"\r\n+CIPOPEN: 1,3\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipopen_udp_bind_failure_is_cipopen_n_6_error() {
    let mut b = opened();
    b.auto = false;
    assert_eq!(b.host("AT+CIPOPEN=1,\"UDP\",,,5000\r"), "");
    let conn = b.last_conn();
    assert_eq!(
        b.event(NetEvent::OpenFailed {
            conn,
            error: OpenError::Bind
        }),
        r"\r\n+CIPOPEN: 1,6\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipopen_link_out_of_range_is_ip_error_invalid_parameter() {
    let mut b = opened();
    assert_eq!(
        b.host("AT+CIPOPEN=10,\"TCP\",\"117.131.85.139\",5253\r"),
        r"\r\n+IP ERROR: Invalid parameter\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipopen_before_netopen_is_cipopen_n_2() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r"),
        r"\r\n+CIPOPEN: 1,2\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipopen_on_a_link_in_use_is_cipopen_n_4() {
    let mut b = opened();
    b.open_tcp(1);
    assert_eq!(
        b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r"),
        r"\r\n+CIPOPEN: 1,4\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipopen_on_a_peer_closed_link_with_unread_data_is_cipopen_n_4() {
    let mut b = opened();
    b.host("AT+CIPRXGET=1\r");
    let conn = b.open_tcp(1);
    b.data(conn, b"unread");
    b.event(NetEvent::PeerClosed { conn });
    assert_eq!(
        b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r"),
        r"\r\n+CIPOPEN: 1,4\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipopen_bad_type_is_cipopen_n_3() {
    let mut b = opened();
    assert_eq!(
        b.host("AT+CIPOPEN=1,\"SCTP\",\"117.131.85.139\",5253\r"),
        r"\r\n+CIPOPEN: 1,3\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipopen_tcp_port_0_is_cipopen_n_3() {
    let mut b = opened();
    assert_eq!(
        b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",0\r"),
        r"\r\n+CIPOPEN: 1,3\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipopen_port_over_65535_is_cipopen_n_3() {
    let mut b = opened();
    assert_eq!(
        b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",65536\r"),
        r"\r\n+CIPOPEN: 1,3\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipopen_bad_host_is_cipopen_n_3() {
    let mut b = opened();
    assert_eq!(
        b.host("AT+CIPOPEN=1,\"TCP\",\"bad_host\",5253\r"),
        r"\r\n+CIPOPEN: 1,3\r\n\r\nERROR\r\n"
    );
    assert_eq!(
        b.host("AT+CIPOPEN=1,\"TCP\",\"\",5253\r"),
        r"\r\n+CIPOPEN: 1,3\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipopen_tcp_missing_port_is_cipopen_n_3() {
    let mut b = opened();
    assert_eq!(
        b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\"\r"),
        r"\r\n+CIPOPEN: 1,3\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipopen_execute_form_is_error() {
    let mut b = opened();
    assert_eq!(b.host("AT+CIPOPEN\r"), r"\r\nERROR\r\n");
}

#[test]
fn cipclose_while_connecting_abandons_without_cipopen_report() {
    let mut b = opened();
    b.auto = false;
    b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r");
    let conn = b.last_conn();
    assert_eq!(
        b.host("AT+CIPCLOSE=1\r"),
        r"\r\nOK\r\n\r\n+CIPCLOSE: 1,0\r\n"
    );
    assert_eq!(
        b.event(NetEvent::Opened {
            conn,
            remote: "117.131.85.139:5253".parse().expect("addr"),
            local_port: 40000
        }),
        ""
    );
    assert_eq!(b.advance(Duration::from_secs(200)), "");
}
