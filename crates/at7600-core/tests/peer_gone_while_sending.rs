//! §2.2 `AT+CIPSEND` and §2.6 `+IPCLOSE`: a peer that answers and goes away while the
//! host is still sending (issue 9, item 3). The backend reports the failed sends
//! first and `PeerClosed` only after the last received byte: the core delivers every
//! one of those bytes, in order, before `+IPCLOSE`, in both receive modes, and the
//! report of a send always comes before the answer that followed it.
mod common;
use at7600_core::{NetCommand, NetEvent, SendOutcome};
use common::Bench;

fn opened() -> Bench {
    let mut b = Bench::quiet();
    b.netopen();
    b
}

/// Sends `payload` on `link` with the network answering `outcome`; returns the output.
fn send(b: &mut Bench, link: usize, payload: &str, outcome: SendOutcome) -> String {
    b.auto = false;
    let mut out = b.host(format!("AT+CIPSEND={link},{}\r", payload.len()));
    out.push_str(&b.host(payload));
    let Some(NetCommand::Send { conn, .. }) = b.pending.pop_back() else {
        panic!("no Send issued: {out}");
    };
    b.pending.clear();
    b.auto = true;
    out.push_str(&b.event(NetEvent::SendDone { conn, outcome }));
    out
}

#[test]
fn direct_push_delivers_the_bytes_after_a_failed_send_then_ipclose() {
    let mut b = opened();
    let conn = b.open_tcp(1);
    assert_eq!(
        send(&mut b, 1, "hello", SendOutcome::Disconnected),
        r"\r\n>\r\nOK\r\n\r\n+CIPSEND: 1,5,-1\r\n"
    );
    assert_eq!(
        b.data(conn, b"late answer"),
        r"\r\nRECV FROM:117.131.85.139:5253\r\n+IPD11\r\nlate answer"
    );
    assert_eq!(
        b.event(NetEvent::PeerClosed { conn }),
        r"\r\n+IPCLOSE: 1,1\r\n"
    );
}

#[test]
fn buffer_access_keeps_the_bytes_after_a_failed_send_then_ipclose() {
    let mut b = opened();
    b.host("AT+CIPRXGET=1\r");
    let conn = b.open_tcp(1);
    send(&mut b, 1, "hello", SendOutcome::Disconnected);
    assert_eq!(b.data(conn, b"late answer"), r"\r\n+CIPRXGET: 1,1\r\n");
    assert_eq!(
        b.event(NetEvent::PeerClosed { conn }),
        r"\r\n+IPCLOSE: 1,1\r\n"
    );
    assert_eq!(
        b.host("AT+CIPRXGET=2,1\r"),
        r"\r\n+CIPRXGET: 2,1,11,0\r\nlate answer\r\nOK\r\n"
    );
}

#[test]
fn the_report_comes_before_an_answer_that_arrives_with_it() {
    let mut b = opened();
    let conn = b.open_tcp(1);
    let out = send(&mut b, 1, "ping", SendOutcome::Accepted);
    let out = out + &b.data(conn, b"pong");
    assert_eq!(
        out,
        r"\r\n>\r\nOK\r\n\r\n+CIPSEND: 1,4,4\r\n\r\nRECV FROM:117.131.85.139:5253\r\n+IPD4\r\npong"
    );
}

#[test]
fn cipsendmode_1_report_comes_before_an_answer_that_carries_the_ack() {
    let mut b = opened();
    b.host("AT+CIPSENDMODE=1\r");
    let conn = b.open_tcp(1);
    let mut out = send(&mut b, 1, "ping", SendOutcome::Accepted);
    // As a backend reports it: the answer's ACK first, then the answer.
    out.push_str(&b.event(NetEvent::AckStatus { conn, acked: 4 }));
    out.push_str(&b.data(conn, b"pong"));
    assert_eq!(
        out,
        r"\r\n>\r\nOK\r\n\r\n+CIPSEND: 1,4,4\r\n\r\nRECV FROM:117.131.85.139:5253\r\n+IPD4\r\npong"
    );
}
