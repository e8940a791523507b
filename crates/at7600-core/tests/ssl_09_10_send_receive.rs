//! `ssl.md` §9 and §10: `AT+CCHSEND` with its queue and reports, and receiving in
//! automatic and manual mode, with back-pressure: nothing received is lost.

mod common;
use at7600_core::{ConnId, ModemConfig, NetCommand, NetEvent, SendOutcome};
use common::{show, Bench};
use std::time::Duration;

/// A started service with session 0 open over plain TCP; its connection.
fn open(report: u8, manual: u8) -> (Bench, ConnId) {
    let mut b = Bench::quiet();
    b.host(format!("AT+CCHSET={report},{manual}\r"));
    b.cch_start();
    b.cch_open(0, "example.com", 443, 2, 0);
    let conn = b.last_conn();
    (b, conn)
}

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| seed.wrapping_add((i % 251) as u8)).collect()
}

#[test]
fn cchsend_refusals_and_forms() {
    let mut b = Bench::quiet();
    b.cch_start();
    b.expect_answers(&[
        (
            "AT+CCHSEND=?",
            r"\r\n+CCHSEND: (0,1),(1-2048)\r\n\r\nOK\r\n",
        ),
        ("AT+CCHSEND?", r"\r\n+CCHSEND: 0,0,1,0\r\n\r\nOK\r\n"),
        ("AT+CCHSEND=0,10", r"\r\nERROR\r\n"),
    ]);
    b.cch_open(0, "example.com", 443, 2, 0);
    let conn = b.last_conn();
    b.expect_errors(&[
        "AT+CCHSEND=2,10",
        "AT+CCHSEND=0,0",
        "AT+CCHSEND=0,2049",
        "AT+CCHSEND=1,10",
        "AT+CCHSEND=0",
        "AT+CCHSEND",
    ]);
    b.auto = false;
    b.host("AT+CCHOPEN=1,\"example.com\",443\r");
    b.expect_answers(&[("AT+CCHSEND=1,10", r"\r\nERROR\r\n")]);
    b.event(NetEvent::PeerClosed { conn });
    b.expect_answers(&[("AT+CCHSEND=0,10", r"\r\nERROR\r\n")]);
}

#[test]
fn payload_bytes_are_all_data_and_report_0_is_silent_on_success() {
    let (mut b, _) = open(0, 0);
    let data = b"\x1a\x1b\x03+++\r\n";
    assert_eq!(b.host("AT+CCHSEND=0,8\r"), r"\r\n>");
    assert_eq!(b.host(data), r"\r\nOK\r\n");
    assert_eq!(b.sent_data(), vec![data.to_vec()]);
}

#[test]
fn payload_timeout_is_sendtimeout() {
    let (mut b, _) = open(1, 0);
    assert_eq!(b.host("AT+CCHSEND=0,10\r"), r"\r\n>");
    assert_eq!(b.host("12345"), "");
    assert_eq!(b.advance(Duration::from_secs(149)), "");
    assert_eq!(b.advance(Duration::from_secs(1)), r"\r\nERROR\r\n");
    b.host("AT+CCHCLOSE=0\r");
    b.host("AT+CCHCFG=\"sendtimeout\",0,60\r");
    b.cch_open(0, "example.com", 443, 2, 0);
    assert_eq!(b.host("AT+CCHSEND=0,10\r"), r"\r\n>");
    assert_eq!(b.advance(Duration::from_secs(60)), r"\r\nERROR\r\n");
    assert!(b.sent_data().is_empty());
}

#[test]
fn dtr_off_during_the_payload() {
    let (mut b, _) = open(1, 0);
    b.host("AT&D1\r");
    assert_eq!(b.host("AT+CCHSEND=0,10\r"), r"\r\n>");
    assert_eq!(b.dtr(false), r"\r\nERROR\r\n");
    b.dtr(true);
    b.expect_answers(&[("AT+CCHSEND?", r"\r\n+CCHSEND: 0,0,1,0\r\n\r\nOK\r\n")]);
}

#[test]
fn queue_full_waits_for_room_then_18() {
    let (mut b, conn) = open(1, 0);
    b.auto = false;
    let send = |b: &mut Bench, seed: u8| {
        assert_eq!(b.host("AT+CCHSEND=0,2048\r"), r"\r\n>");
        b.host(bytes(2048, seed))
    };
    for seed in 0..4 {
        assert_eq!(send(&mut b, seed), r"\r\nOK\r\n\r\n+CCHSEND: 0,0\r\n");
    }
    // 8192 bytes queued or in flight: the next payload waits.
    assert_eq!(send(&mut b, 4), r"\r\nOK\r\n");
    assert_eq!(send(&mut b, 5), r"\r\nOK\r\n");
    // A queue's worth waits at most: more is refused at the command.
    assert_eq!(send(&mut b, 6), r"\r\nOK\r\n");
    assert_eq!(send(&mut b, 7), r"\r\nOK\r\n");
    b.expect_errors(&["AT+CCHSEND=0,1"]);
    b.expect_answers(&[("AT+CCHSEND?", r"\r\n+CCHSEND: 0,16384,1,0\r\n\r\nOK\r\n")]);
    // The network takes the first send: room for one more payload.
    assert_eq!(
        b.event(NetEvent::SendDone {
            conn,
            outcome: SendOutcome::Accepted
        }),
        r"\r\n+CCHSEND: 0,0\r\n"
    );
    // The network stalls; the last three payloads find no room within sendtimeout.
    assert_eq!(
        b.advance(Duration::from_secs(150)),
        r"\r\n+CCHSEND: 0,18\r\n\r\n+CCHSEND: 0,18\r\n\r\n+CCHSEND: 0,18\r\n"
    );
    // Everything admitted went out in order, nothing else.
    b.auto = true;
    b.event(NetEvent::Writable { conn });
    let sent: Vec<u8> = b.sent_data().concat();
    let expected: Vec<u8> = (0..5).flat_map(|s| bytes(2048, s)).collect();
    assert_eq!(sent, expected);
}

#[test]
fn refused_sends_are_retried_in_order() {
    let (mut b, conn) = open(1, 0);
    b.auto = false;
    b.host("AT+CCHSEND=0,5\r");
    b.host("hello");
    b.host("AT+CCHSEND=0,5\r");
    b.host("world");
    let full = NetEvent::SendDone {
        conn,
        outcome: SendOutcome::Full,
    };
    assert_eq!(b.event(full), "");
    b.expect_answers(&[("AT+CCHSEND?", r"\r\n+CCHSEND: 0,10,1,0\r\n\r\nOK\r\n")]);
    b.auto = true;
    b.event(NetEvent::Writable { conn });
    assert_eq!(
        b.sent_data().last().map(Vec::as_slice),
        Some(&b"helloworld"[..])
    );
    b.expect_answers(&[("AT+CCHSEND?", r"\r\n+CCHSEND: 0,0,1,0\r\n\r\nOK\r\n")]);
}

#[test]
fn unsent_bytes_at_peer_close_are_4_and_at_network_loss_9() {
    let (mut b, conn) = open(0, 0);
    b.auto = false;
    b.host("AT+CCHSEND=0,5\r");
    assert_eq!(b.host("hello"), r"\r\nOK\r\n");
    assert_eq!(
        b.event(NetEvent::PeerClosed { conn }),
        r"\r\n+CCHSEND: 0,4\r\n\r\n+CCH_PEER_CLOSED: 0\r\n"
    );
    b.auto = true;
    b.host("AT+CCHCLOSE=0\r");
    b.cch_open(0, "example.com", 443, 2, 0);
    b.auto = false;
    b.host("AT+CCHSEND=0,5\r");
    b.host("hello");
    assert_eq!(
        b.event(NetEvent::NetworkLost),
        r"\r\n+CCHSEND: 0,9\r\n\r\n+CCH_PEER_CLOSED: 0\r\n"
    );
    // sim7600: the service stays started.
    b.auto = true;
    b.expect_answers(&[("AT+CCHCLOSE=0", r"\r\nOK\r\n\r\n+CCHCLOSE: 0,0\r\n")]);
}

#[test]
fn automatic_mode_pushes_frames_and_refuses_reads() {
    let (mut b, conn) = open(0, 0);
    let data = bytes(2100, 7);
    let expected = format!(
        r"\r\n+CCHRECV: DATA,0,1024\r\n{}\r\n+CCHRECV: DATA,0,1024\r\n{}\r\n+CCHRECV: DATA,0,52\r\n{}",
        show(&data[..1024]),
        show(&data[1024..2048]),
        show(&data[2048..])
    );
    assert_eq!(b.data(conn, &data), expected);
    b.expect_answers(&[
        ("AT+CCHRECV?", r"\r\n+CCHRECV: LEN,0,0\r\n\r\nOK\r\n"),
        ("AT+CCHRECV=0", r"\r\n+CCHRECV: 0,11\r\n\r\nERROR\r\n"),
        ("AT+CCHRECV=1,10", r"\r\n+CCHRECV: 1,11\r\n\r\nERROR\r\n"),
        ("AT+CCHRECV=2", r"\r\nERROR\r\n"),
        ("AT+CCHRECV=0,2049", r"\r\nERROR\r\n"),
        (
            "AT+CCHRECV=?",
            r"\r\n+CCHRECV: (0,1),(0-2048)\r\n\r\nOK\r\n",
        ),
    ]);
}

#[test]
fn pushes_wait_while_a_payload_is_typed() {
    let (mut b, conn) = open(1, 0);
    assert_eq!(b.host("AT+CCHSEND=0,4\r"), r"\r\n>");
    assert_eq!(b.host("ab"), "");
    assert_eq!(b.data(conn, b"xyz"), "");
    // In the order they happened: the data came before the payload was complete.
    assert_eq!(
        b.host("cd"),
        r"\r\nOK\r\n\r\n+CCHRECV: DATA,0,3\r\nxyz\r\n+CCHSEND: 0,0\r\n"
    );
}

#[test]
fn manual_mode_event_only_when_the_cache_was_empty() {
    let (mut b, conn) = open(0, 1);
    assert_eq!(b.data(conn, b"abc"), r"\r\n+CCHEVENT: 0,RECV EVENT\r\n");
    assert_eq!(b.data(conn, b"def"), "");
    assert_eq!(
        b.host("AT+CCHRECV=0,2\r"),
        r"\r\nOK\r\n\r\n+CCHRECV: DATA,0,2\r\nab\r\n+CCHRECV: 0,0\r\n"
    );
    assert_eq!(b.data(conn, b"g"), "", "a partial read does not re-arm");
    assert_eq!(
        b.host("AT+CCHRECV=0\r"),
        r"\r\nOK\r\n\r\n+CCHRECV: DATA,0,5\r\ncdefg\r\n+CCHRECV: 0,0\r\n"
    );
    assert_eq!(b.data(conn, b"h"), r"\r\n+CCHEVENT: 0,RECV EVENT\r\n");
    b.expect_answers(&[
        ("AT+CCHRECV?", r"\r\n+CCHRECV: LEN,1,0\r\n\r\nOK\r\n"),
        ("AT+CCHRECV=1", r"\r\n+CCHRECV: 1,11\r\n\r\nERROR\r\n"),
    ]);
}

#[test]
fn manual_mode_max_recv_len_0_per_personality() {
    let (mut b, conn) = open(0, 1);
    let data = bytes(3000, 1);
    b.data(conn, &data);
    let out = b.host("AT+CCHRECV=0,0\r");
    assert!(out.contains(r"+CCHRECV: DATA,0,1024\r\n"), "{out}");
    assert!(out.ends_with(r"\r\n+CCHRECV: 0,0\r\n"), "{out}");
    b.expect_answers(&[("AT+CCHRECV?", r"\r\n+CCHRECV: LEN,952,0\r\n\r\nOK\r\n")]);

    let mut b = Bench::a76xx();
    b.host("AT+CCHSET=0,1\r");
    b.cch_start();
    b.cch_open(0, "example.com", 443, 2, 0);
    let conn = b.last_conn();
    b.data(conn, &data);
    b.host("AT+CCHRECV=0,0\r");
    b.expect_answers(&[("AT+CCHRECV?", r"\r\n+CCHRECV: LEN,0,0\r\n\r\nOK\r\n")]);
}

#[test]
fn manual_cache_is_5496_with_back_pressure_and_nothing_lost() {
    let (mut b, conn) = open(0, 1);
    let data = bytes(20_000, 3);
    // The backend delivers more than the cache after the pause (reads in flight).
    assert_eq!(
        b.data(conn, &data[..9000]),
        r"\r\n+CCHEVENT: 0,RECV EVENT\r\n"
    );
    assert!(b.log.contains(&NetCommand::PauseRead { conn }));
    b.data(conn, &data[9000..]);
    b.expect_answers(&[("AT+CCHRECV?", r"\r\n+CCHRECV: LEN,5496,0\r\n\r\nOK\r\n")]);
    let mut got = Vec::new();
    for _ in 0..100 {
        let out = b.host("AT+CCHRECV=0,1024\r");
        if out.starts_with(r"\r\n+CCHRECV: 0,11") {
            break;
        }
        let body = out
            .strip_prefix(r"\r\nOK\r\n\r\n+CCHRECV: DATA,0,")
            .and_then(|rest| rest.split_once(r"\r\n"))
            .map(|(_, rest)| rest)
            .and_then(|rest| rest.split(r"\r\n+CCHRECV: 0,0\r\n").next())
            .expect("a frame");
        got.push(body.to_string());
    }
    assert_eq!(got.concat(), show(&data), "every byte once, in order");
    let resumes = b
        .log
        .iter()
        .filter(|c| matches!(c, NetCommand::ResumeRead { .. }))
        .count();
    assert_eq!(resumes, 1, "reading resumes once the held bytes fit");
}

#[test]
fn peer_closed_cache_stays_readable() {
    let (mut b, conn) = open(0, 1);
    b.data(conn, b"last words");
    assert_eq!(
        b.event(NetEvent::PeerClosed { conn }),
        r"\r\n+CCH_PEER_CLOSED: 0\r\n"
    );
    b.expect_answers(&[
        ("AT+CCHRECV?", r"\r\n+CCHRECV: LEN,10,0\r\n\r\nOK\r\n"),
        (
            "AT+CCHRECV=0",
            r"\r\nOK\r\n\r\n+CCHRECV: DATA,0,10\r\nlast words\r\n+CCHRECV: 0,0\r\n",
        ),
        ("AT+CCHRECV=0", r"\r\n+CCHRECV: 0,4\r\n\r\nERROR\r\n"),
        ("AT+CCHOPEN=0,\"example.com\",443", r"\r\nERROR\r\n"),
    ]);
}

#[test]
fn automatic_mode_stops_reading_while_the_host_lags() {
    let mut config = ModemConfig::default();
    config.limits.host_backlog = 4096;
    let mut b = Bench::new(config);
    b.host("ATE0\r");
    b.cch_start();
    b.cch_open(0, "example.com", 443, 2, 0);
    let conn = b.last_conn();
    // The host reads nothing for now.
    let data = bytes(10_000, 9);
    b.modem.handle_net(
        b.now,
        NetEvent::Data {
            conn,
            data: data.clone(),
        },
    );
    let cmds: Vec<_> = std::iter::from_fn(|| b.modem.poll_net())
        .take(100)
        .collect();
    assert_eq!(cmds, vec![NetCommand::PauseRead { conn }]);
    let out = b.drain_output();
    let cmds: Vec<_> = std::iter::from_fn(|| b.modem.poll_net())
        .take(100)
        .collect();
    assert_eq!(cmds, vec![NetCommand::ResumeRead { conn }]);
    // Every byte came out, in order, in frames.
    let payload = common::cch_frames(&out, 0);
    assert_eq!(payload, data);
}

#[test]
fn a_session_keeps_the_options_of_its_open() {
    let (mut b, conn) = open(0, 1);
    b.expect_answers(&[("AT+CCHSET=1,0", r"\r\nOK\r\n")]);
    assert_eq!(b.data(conn, b"abc"), r"\r\n+CCHEVENT: 0,RECV EVENT\r\n");
    assert_eq!(b.host("AT+CCHSEND=0,2\r"), r"\r\n>");
    assert_eq!(b.host("hi"), r"\r\nOK\r\n", "report 0 as at its open");
    // The next session takes the new options.
    b.cch_open(1, "example.com", 443, 2, 0);
    let conn1 = b.last_conn();
    assert_eq!(b.data(conn1, b"xy"), r"\r\n+CCHRECV: DATA,1,2\r\nxy");
    assert_eq!(b.host("AT+CCHSEND=1,2\r"), r"\r\n>");
    assert_eq!(b.host("hi"), r"\r\nOK\r\n\r\n+CCHSEND: 1,0\r\n");
}
