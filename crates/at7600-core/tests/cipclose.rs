//! `AT+CIPCLOSE` in every form and the close URCs of chapter 5 (manual §2.6;
//! clarifications §2, §3, §7; behaviour.md).
mod common;
use at7600_core::NetEvent;
use common::Bench;

fn opened() -> Bench {
    let mut b = Bench::quiet();
    b.netopen();
    b
}

#[test]
fn cipclose_test_form_lists_links() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CIPCLOSE=?\r"),
        r"\r\n+CIPCLOSE: (0-9)\r\n\r\nOK\r\n"
    );
}

#[test]
fn cipclose_read_form_is_always_ten_values() {
    let mut b = opened();
    assert_eq!(
        b.host("AT+CIPCLOSE?\r"),
        r"\r\n+CIPCLOSE: 0,0,0,0,0,0,0,0,0,0\r\n\r\nOK\r\n"
    );
    b.open_tcp(0);
    b.open_udp(9);
    assert_eq!(
        b.host("AT+CIPCLOSE?\r"),
        r"\r\n+CIPCLOSE: 1,0,0,0,0,0,0,0,0,1\r\n\r\nOK\r\n"
    );
}

#[test]
fn cipclose_tcp_is_ok_then_urc() {
    let mut b = opened();
    b.open_tcp(1);
    assert_eq!(
        b.host("AT+CIPCLOSE=1\r"),
        r"\r\nOK\r\n\r\n+CIPCLOSE: 1,0\r\n"
    );
}

#[test]
fn cipclose_tcp_urc_comes_when_the_close_completes() {
    let mut b = opened();
    let conn = b.open_tcp(1);
    b.auto = false;
    assert_eq!(b.host("AT+CIPCLOSE=1\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.event(NetEvent::Closed { conn }),
        r"\r\n+CIPCLOSE: 1,0\r\n"
    );
}

#[test]
fn cipclose_udp_is_urc_then_ok() {
    let mut b = opened();
    b.open_udp(1);
    assert_eq!(
        b.host("AT+CIPCLOSE=1\r"),
        r"\r\n+CIPCLOSE: 1,0\r\n\r\nOK\r\n"
    );
}

#[test]
fn cipclose_link_not_open_is_cipclose_n_4_at_once() {
    let mut b = opened();
    b.auto = false;
    assert_eq!(
        b.host("AT+CIPCLOSE=3\r"),
        r"\r\n+CIPCLOSE: 3,4\r\n\r\nERROR\r\n"
    );
    assert!(b.pending.is_empty());
}

#[test]
fn cipclose_before_netopen_is_cipclose_n_4() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CIPCLOSE=0\r"),
        r"\r\n+CIPCLOSE: 0,4\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipclose_link_out_of_range_is_ip_error_invalid_parameter() {
    let mut b = opened();
    assert_eq!(
        b.host("AT+CIPCLOSE=10\r"),
        r"\r\n+IP ERROR: Invalid parameter\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cipclose_execute_form_is_error() {
    let mut b = opened();
    assert_eq!(b.host("AT+CIPCLOSE\r"), r"\r\nERROR\r\n");
}

#[test]
fn cipclose_twice_while_closing_is_cipclose_n_4() {
    let mut b = opened();
    b.open_tcp(1);
    b.auto = false;
    b.host("AT+CIPCLOSE=1\r");
    assert_eq!(
        b.host("AT+CIPCLOSE=1\r"),
        r"\r\n+CIPCLOSE: 1,4\r\n\r\nERROR\r\n"
    );
}

#[test]
fn peer_closed_is_urc_ipclose_n_1_and_frees_the_link() {
    let mut b = opened();
    let conn = b.open_tcp(1);
    assert_eq!(
        b.event(NetEvent::PeerClosed { conn }),
        r"\r\n+IPCLOSE: 1,1\r\n"
    );
    assert!(b.host("AT+CIPOPEN?\r").contains(r"\r\n+CIPOPEN: 1\r\n"));
    assert_eq!(
        b.host("AT+CIPCLOSE=1\r"),
        r"\r\n+CIPCLOSE: 1,4\r\n\r\nERROR\r\n"
    );
    assert!(b
        .host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r")
        .ends_with(r"+CIPOPEN: 1,0\r\n"));
}

#[test]
fn peer_closed_in_buffer_mode_is_ipclose_at_once_and_link_counts_as_closed() {
    let mut b = opened();
    b.host("AT+CIPRXGET=1\r");
    let conn = b.open_tcp(1);
    b.data(conn, b"abc");
    assert_eq!(
        b.event(NetEvent::PeerClosed { conn }),
        r"\r\n+IPCLOSE: 1,1\r\n"
    );
    assert_eq!(
        b.host("AT+CIPCLOSE?\r"),
        r"\r\n+CIPCLOSE: 0,0,0,0,0,0,0,0,0,0\r\n\r\nOK\r\n"
    );
}

#[test]
fn cipclose_on_a_peer_closed_link_with_data_frees_it() {
    let mut b = opened();
    b.host("AT+CIPRXGET=1\r");
    let conn = b.open_tcp(1);
    b.data(conn, b"abc");
    b.event(NetEvent::PeerClosed { conn });
    assert_eq!(
        b.host("AT+CIPCLOSE=1\r"),
        r"\r\nOK\r\n\r\n+CIPCLOSE: 1,0\r\n"
    );
    assert_eq!(
        b.host("AT+CIPRXGET=4,1\r"),
        r"\r\n+IP ERROR: No data\r\n\r\nERROR\r\n"
    );
}

fn closes(b: &Bench, conn: at7600_core::ConnId) -> usize {
    b.log
        .iter()
        .filter(|c| matches!(c, at7600_core::NetCommand::Close { conn: c } if *c == conn))
        .count()
}

#[test]
fn a_peer_closed_link_with_data_is_closed_on_the_network_once() {
    let mut b = opened();
    b.host("AT+CIPRXGET=1\r");
    let conn = b.open_tcp(1);
    b.data(conn, b"abc");
    b.event(NetEvent::PeerClosed { conn });
    b.host("AT+CIPCLOSE=1\r");
    assert_eq!(closes(&b, conn), 1);
}

#[test]
fn links_broken_by_a_network_loss_are_closed_on_the_network_once() {
    let mut b = opened();
    let c1 = b.open_tcp(1);
    let c2 = b.open_tcp(2);
    b.event(NetEvent::NetworkLost);
    b.host("AT+CIPCLOSE=1\r");
    b.host("AT+NETCLOSE\r");
    assert_eq!((closes(&b, c1), closes(&b, c2)), (1, 1));
}
