//! `AT+SERVERSTART`, `AT+SERVERSTOP` and accepted clients (manual §2.14, §2.15, §6.4.2;
//! clarifications §3; behaviour.md "Servers").
mod common;
use at7600_core::{ConnId, NetCommand, NetEvent};
use common::Bench;

fn opened() -> Bench {
    let mut b = Bench::quiet();
    b.netopen();
    b
}

fn accept(b: &mut Bench, server: u8, n: u64) -> String {
    b.event(NetEvent::Accepted {
        server,
        conn: ConnId::accepted(n),
        peer: "192.168.108.5:57202".parse().expect("addr"),
    })
}

#[test]
fn serverstart_test_form() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+SERVERSTART=?\r"),
        r"\r\n+SERVERSTART: (0-65535),(0-3)\r\n\r\nOK\r\n"
    );
}

#[test]
fn serverstart_then_read_lists_listening_servers() {
    let mut b = opened();
    assert_eq!(b.host("AT+SERVERSTART?\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+SERVERSTART=8080,0\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+SERVERSTART=9090, 1\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+SERVERSTART?\r"),
        r"\r\n+SERVERSTART: 0,8080\r\n+SERVERSTART: 1,9090\r\n\r\nOK\r\n"
    );
}

#[test]
fn serverstart_before_netopen_is_ciperror_2() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+SERVERSTART=8080,0\r"),
        r"\r\n+CIPERROR: 2\r\n\r\nERROR\r\n"
    );
    assert_eq!(
        b.host("AT+SERVERSTART?\r"),
        r"\r\n+CIPERROR: 2\r\n\r\nERROR\r\n"
    );
}

#[test]
fn serverstart_bad_port_index_or_backlog_is_ciperror_3() {
    let mut b = opened();
    for bad in ["65536,0", "8080,4", "8080,0,0", "8080,0,4", "8080", "x,0"] {
        assert_eq!(
            b.host(format!("AT+SERVERSTART={bad}\r")),
            r"\r\n+CIPERROR: 3\r\n\r\nERROR\r\n",
            "{bad}"
        );
    }
}

#[test]
fn serverstart_index_in_use_is_ciperror_7() {
    let mut b = opened();
    b.host("AT+SERVERSTART=8080,0\r");
    assert_eq!(
        b.host("AT+SERVERSTART=8081,0\r"),
        r"\r\n+CIPERROR: 7\r\n\r\nERROR\r\n"
    );
}

#[test]
fn serverstart_port_not_bindable_is_ciperror_6() {
    let mut b = opened();
    b.auto = false;
    assert_eq!(b.host("AT+SERVERSTART=80,2\r"), "");
    assert!(matches!(
        b.pending.pop_front(),
        Some(NetCommand::Listen {
            server: 2,
            port: 80,
            backlog: 3,
            keepalive: None,
        })
    ));
    assert_eq!(
        b.event(NetEvent::ListenFailed { server: 2 }),
        r"\r\n+CIPERROR: 6\r\n\r\nERROR\r\n"
    );
    assert_eq!(b.host("AT+SERVERSTART?\r"), r"\r\nOK\r\n");
}

#[test]
fn accepted_client_is_urc_client_and_shows_its_server_in_cipopen_read() {
    let mut b = opened();
    b.host("AT+SERVERSTART=9090,1\r");
    assert_eq!(
        accept(&mut b, 1, 1),
        r"\r\n+CLIENT: 0,1,192.168.108.5:57202\r\n"
    );
    assert!(b
        .host("AT+CIPOPEN?\r")
        .starts_with(r#"\r\n+CIPOPEN: 0,"TCP","192.168.108.5",57202,1\r\n+CIPOPEN: 1\r\n"#));
}

#[test]
fn accepted_client_takes_the_lowest_free_link() {
    let mut b = opened();
    b.open_tcp(0);
    b.open_tcp(1);
    b.host("AT+SERVERSTART=8080,0\r");
    assert_eq!(
        accept(&mut b, 0, 1),
        r"\r\n+CLIENT: 2,0,192.168.108.5:57202\r\n"
    );
}

#[test]
fn accepted_socket_sends_fixed_length() {
    let mut b = opened();
    b.host("AT+SERVERSTART=8080,0\r");
    accept(&mut b, 0, 1);
    assert_eq!(b.host("AT+CIPSEND=0,5\r"), r"\r\n>");
    assert_eq!(b.host("HELLO"), r"\r\nOK\r\n\r\n+CIPSEND: 0,5,5\r\n");
}

#[test]
fn accepted_socket_variable_length_send_is_ciperror_4() {
    let mut b = opened();
    b.host("AT+SERVERSTART=8080,0\r");
    accept(&mut b, 0, 1);
    assert_eq!(
        b.host("AT+CIPSEND=0\r"),
        r"\r\n+CIPERROR: 4\r\n\r\nERROR\r\n"
    );
}

#[test]
fn client_refused_when_all_ten_links_are_in_use() {
    let mut b = opened();
    for i in 0..10 {
        b.open_tcp(i);
    }
    b.host("AT+SERVERSTART=8080,0\r");
    assert_eq!(accept(&mut b, 0, 7), "");
    assert!(b
        .log
        .iter()
        .any(|c| matches!(c, NetCommand::Close { conn } if *conn == ConnId::accepted(7))));
}

#[test]
fn serverstop_is_serverstop_i_0_then_ok() {
    let mut b = opened();
    b.host("AT+SERVERSTART=8080,0\r");
    assert_eq!(
        b.host("AT+SERVERSTOP=0\r"),
        r"\r\n+SERVERSTOP: 0,0\r\n\r\nOK\r\n"
    );
    assert_eq!(b.host("AT+SERVERSTART?\r"), r"\r\nOK\r\n");
}

#[test]
fn serverstop_refused_while_an_accepted_socket_is_open() {
    let mut b = opened();
    b.host("AT+SERVERSTART=9090,1\r");
    accept(&mut b, 1, 1);
    assert_eq!(
        b.host("AT+SERVERSTOP=1\r"),
        r"\r\n+SERVERSTOP: 1,9\r\n\r\nERROR\r\n"
    );
    assert_eq!(
        b.host("AT+CIPCLOSE=0\r"),
        r"\r\nOK\r\n\r\n+CIPCLOSE: 0,0\r\n"
    );
    assert_eq!(
        b.host("AT+SERVERSTOP=1\r"),
        r"\r\n+SERVERSTOP: 1,0\r\n\r\nOK\r\n"
    );
}

#[test]
fn serverstop_on_a_server_not_listening_is_serverstop_i_4() {
    let mut b = opened();
    assert_eq!(
        b.host("AT+SERVERSTOP=2\r"),
        r"\r\n+SERVERSTOP: 2,4\r\n\r\nERROR\r\n"
    );
}

#[test]
fn serverstop_test_form_and_bad_index() {
    let mut b = opened();
    assert_eq!(
        b.host("AT+SERVERSTOP=?\r"),
        r"\r\n+SERVERSTOP: (0-3)\r\n\r\nOK\r\n"
    );
    assert_eq!(b.host("AT+SERVERSTOP=4\r"), r"\r\nERROR\r\n");
}

#[test]
fn s6_4_2_tcp_server_non_transparent_mode() {
    let mut b = Bench::default();
    b.host("AT+NETOPEN\r");
    b.host("AT+SERVERSTART=8080,0\r");
    b.host("AT+SERVERSTART=9090,1\r");
    b.host("AT+SERVERSTART=7070,2\r");
    b.host("AT+SERVERSTART=6060,3\r");
    accept(&mut b, 1, 1);
    b.host("AT+CIPOPEN?\r");
    b.host("AT+CIPSEND=0,5\r");
    b.host("HELLO");
    b.host("AT+SERVERSTOP=0\r");
    b.host("AT+SERVERSTOP=1\r");
    b.host("AT+CIPCLOSE=0\r");
    b.host("AT+SERVERSTOP=1\r");
    b.host("AT+SERVERSTOP=2\r");
    b.host("AT+SERVERSTOP=3\r");
    b.host("AT+NETCLOSE\r");
    insta::assert_snapshot!(b.transcript());
}

/// `AT+CTCPKA` (more-commands.md §5.7) applies to the links a server accepts: the
/// setting in force at `AT+SERVERSTART` goes with the listen request.
#[test]
fn serverstart_carries_the_ctcpka_keepalive() {
    let mut b = opened();
    b.auto = false;
    b.host("AT+CTCPKA=1,2,5,1\r");
    b.host("AT+SERVERSTART=80,2\r");
    let keepalive = match b.pending.pop_front() {
        Some(NetCommand::Listen { keepalive, .. }) => keepalive,
        other => panic!("expected Listen, got {other:?}"),
    };
    let k = keepalive.expect("keepalive on");
    assert_eq!((k.idle_min, k.count, k.interval_min), (2, 5, 1));
}
