//! Random CCH command sequences (`ssl.md`): commands of the whole set, payloads, DTR,
//! time and network events in any order. The modem never panics and never leaves a
//! deadline in the past; in manual receive mode with the session kept open, every
//! received byte is served by `AT+CCHRECV` exactly once, in order. Bounded by proptest.

mod common;
use at7600_core::{ConnId, NetEvent, SendOutcome};
use common::{Bench, TlsScript};
use proptest::prelude::*;
use std::time::Duration;

const HOST: &[&str] = &[
    "AT+CCHSTART\r",
    "AT+CCHSTOP\r",
    "AT+CCHSET=1,1\r",
    "AT+CCHSET=0,0\r",
    "AT+CCHMODE=1\r",
    "AT+CCHMODE=0\r",
    "AT+CCHOPEN=0,\"example.com\",443\r",
    "AT+CCHOPEN=1,\"example.com\",80,1\r",
    "AT+CCHOPEN?\r",
    "AT+CCHCLOSE=0\r",
    "AT+CCHCLOSE=1\r",
    "AT+CCHSEND=0,5\r",
    "AT+CCHSEND=1,2048\r",
    "AT+CCHSEND?\r",
    "AT+CCHRECV=0\r",
    "AT+CCHRECV=1,0\r",
    "AT+CCHRECV=0,7\r",
    "AT+CCHRECV?\r",
    "AT+CCHSSLCFG=0,1\r",
    "AT+CCHCFG=\"sendtimeout\",1,60\r",
    "AT+CSSLCFG=\"authmode\",0,1\r",
    "AT+CSSLCFG=\"cacert\",0,\"ca.pem\"\r",
    "AT+CCERTDOWN=\"ca.pem\",6\r",
    "AT+CCERTDELE=\"ca.pem\"\r",
    "AT+CCERTLIST\r",
    "AT+CGATT=0\r",
    "AT+CGATT=1\r",
    "AT+CRESET\r",
    "ATO\r",
    "+++",
    "AT&D2\r",
    "hello\x1a\x1b",
    "ATE0\r",
];

#[derive(Debug, Clone)]
enum Step {
    Host(usize),
    Data(usize, u16),
    Peer(usize),
    Connected(usize),
    SendDone(usize, bool),
    Writable(usize),
    NetworkLost,
    Dtr(bool),
    Wait(u32),
    Tls(u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..HOST.len()).prop_map(Step::Host),
        2 => (0..4usize, 1..3000u16).prop_map(|(c, n)| Step::Data(c, n)),
        1 => (0..4usize).prop_map(Step::Peer),
        1 => (0..4usize).prop_map(Step::Connected),
        1 => (0..4usize, any::<bool>()).prop_map(|(c, ok)| Step::SendDone(c, ok)),
        1 => (0..4usize).prop_map(Step::Writable),
        1 => Just(Step::NetworkLost),
        1 => any::<bool>().prop_map(Step::Dtr),
        1 => (0..200_000u32).prop_map(Step::Wait),
        1 => (0..3u8).prop_map(Step::Tls),
    ]
}

/// The connections opened so far, newest last (plus one that never existed).
fn conn(b: &Bench, i: usize) -> ConnId {
    let opened: Vec<ConnId> = b
        .log
        .iter()
        .filter_map(|c| match c {
            at7600_core::NetCommand::Open { conn, .. } => Some(*conn),
            _ => None,
        })
        .collect();
    opened.iter().rev().nth(i).copied().unwrap_or(ConnId(999))
}

fn run(b: &mut Bench, s: &Step) {
    match s {
        Step::Host(i) => {
            b.host(HOST[*i]);
        }
        Step::Data(c, n) => {
            let conn = conn(b, *c);
            b.data(conn, &vec![b'd'; usize::from(*n)]);
        }
        Step::Peer(c) => {
            let conn = conn(b, *c);
            b.event(NetEvent::PeerClosed { conn });
        }
        Step::Connected(c) => {
            let conn = conn(b, *c);
            b.event(NetEvent::Connected { conn });
        }
        Step::SendDone(c, ok) => {
            let conn = conn(b, *c);
            let outcome = if *ok {
                SendOutcome::Accepted
            } else {
                SendOutcome::Full
            };
            b.event(NetEvent::SendDone { conn, outcome });
        }
        Step::Writable(c) => {
            let conn = conn(b, *c);
            b.event(NetEvent::Writable { conn });
        }
        Step::NetworkLost => {
            b.event(NetEvent::NetworkLost);
        }
        Step::Dtr(on) => {
            b.dtr(*on);
        }
        Step::Wait(ms) => {
            b.advance(Duration::from_millis(u64::from(*ms)));
        }
        Step::Tls(t) => {
            b.tls = match t {
                0 => TlsScript::Succeed,
                1 => TlsScript::Stall,
                _ => TlsScript::Fail(at7600_core::OpenError::Handshake),
            };
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_cch_sequences_never_panic(steps in proptest::collection::vec(step(), 1..80)) {
        let mut b = Bench::quiet();
        for s in &steps {
            run(&mut b, s);
            // Whatever is due now is served now; nothing stays in the past.
            b.advance(Duration::ZERO);
            let now = b.now;
            prop_assert!(b.modem.poll_timeout().is_none_or(|at| at > now));
        }
        b.advance(Duration::from_secs(1000));
        prop_assert!(b.modem.poll_timeout().is_none_or(|at| at > b.now));
    }

    #[test]
    fn manual_mode_serves_every_byte_once(
        chunks in proptest::collection::vec((1..4000usize, 0..2049usize, any::<bool>()), 1..40)
    ) {
        let mut b = Bench::quiet();
        b.host("AT+CCHSET=0,1\r");
        b.cch_start();
        b.cch_open(0, "example.com", 443, 2, 0);
        let conn = b.last_conn();
        let mut sent = Vec::new();
        let mut read = Vec::new();
        let mut next = 0u8;
        for (len, max, read_now) in chunks {
            let data: Vec<u8> = (0..len).map(|_| { next = next.wrapping_add(1); next }).collect();
            sent.extend(&data);
            b.modem.handle_net(b.now, NetEvent::Data { conn, data });
            let _ = b.host("");
            if read_now {
                read.extend(recv(&mut b, max));
            }
        }
        for _ in 0..1000 {
            let got = recv(&mut b, 2048);
            if got.is_empty() {
                break;
            }
            read.extend(got);
        }
        prop_assert_eq!(read, sent);
    }
}

/// `AT+CCHRECV=0,<max>`: the raw bytes of its frames (empty when nothing is cached).
fn recv(b: &mut Bench, max: usize) -> Vec<u8> {
    b.modem
        .handle_host(b.now, format!("AT+CCHRECV=0,{max}\r").as_bytes());
    let out = b.drain_output();
    while b.modem.poll_net().is_some() {}
    common::cch_frames(&out, 0)
}
