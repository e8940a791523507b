//! Random sessions: commands, payloads, `+++`, DTR, time and network events in any
//! order (including events for connections that don't exist). The modem never panics,
//! never reports a deadline that stays in the past, and never leaves an open link
//! paused once the host has read everything. Seeded and bounded.
mod common;
use at7600_core::{ConnId, LinkState, NetCommand, NetEvent, SendOutcome};
use common::Bench;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

/// xorshift64: a fixed, documented sequence per seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const HOST: &[&str] = &[
    "AT+NETOPEN\r",
    "AT+NETCLOSE\r",
    "AT+CIPMODE=1\r",
    "AT+CIPMODE=0\r",
    "AT+CIPOPEN=0,\"TCP\",\"1.2.3.4\",80\r",
    "AT+CIPOPEN=1,\"TCP\",\"1.2.3.4\",80\r",
    "AT+CIPOPEN=2,\"UDP\",,,5000\r",
    "AT+CIPCLOSE=0\r",
    "AT+CIPCLOSE=1\r",
    "AT+CIPCLOSE=2\r",
    "AT+CIPSEND=1,5\r",
    "AT+CIPSEND=1\r",
    "AT+CIPSEND=2,3,\"1.2.3.4\",9\r",
    "AT+CIPRXGET=1\r",
    "AT+CIPRXGET=0\r",
    "AT+CIPRXGET=2,1\r",
    "AT+CIPRXGET=3,1,7\r",
    "AT+CIPRXGET=4,1\r",
    "AT+SERVERSTART=80,0\r",
    "AT+SERVERSTOP=0\r",
    "AT+CIPSENDMODE=1\r",
    "AT+CIPACK=1\r",
    "AT+CDNSGIP=\"peer.test\"\r",
    "ATO\r",
    "+++",
    "AT&D2\r",
    "AT&D1\r",
    "ATV0\r",
    "ATV1\r",
    "AT+CIPCCFG=10,100\r",
    "AT+CIPOPEN?\r",
    "hello\x1a",
    "\x1b",
    "\x03\x1a",
    "A/",
    "\r\n",
    "ATE0\r",
];

fn random_event(r: &mut Rng) -> NetEvent {
    let conn = ConnId(1 + r.pick(8) as u64);
    let from = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9);
    match r.pick(8) {
        0 => NetEvent::Data {
            conn,
            data: vec![b'z'; 1 + r.pick(3000)],
        },
        1 => NetEvent::PeerClosed { conn },
        2 => NetEvent::Closed { conn },
        3 => NetEvent::SendDone {
            conn,
            outcome: [
                SendOutcome::Accepted,
                SendOutcome::Full,
                SendOutcome::Disconnected,
            ][r.pick(3)],
        },
        4 => NetEvent::Writable { conn },
        5 => NetEvent::NetworkLost,
        6 => NetEvent::Accepted {
            server: 0,
            conn: ConnId::accepted(r.pick(100) as u64),
            peer: from,
        },
        _ => NetEvent::Datagram {
            conn,
            from,
            data: vec![1; r.pick(100)],
        },
    }
}

#[test]
fn random_sessions_keep_every_invariant() {
    for seed in 1..=3000u64 {
        let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut b = Bench::default();
        b.auto = r.pick(2) == 0;
        for _ in 0..200 {
            match r.pick(10) {
                0..=4 => {
                    b.host(HOST[r.pick(HOST.len())]);
                }
                5 => {
                    b.advance(Duration::from_millis(
                        [1, 50, 1000, 1100, 130_000][r.pick(5)],
                    ));
                }
                6 => {
                    b.dtr(r.pick(2) == 0);
                }
                _ => {
                    // Answer a held command (sometimes twice), then a random event.
                    if let Some(cmd) = b.pending.pop_front() {
                        if r.pick(4) == 0 {
                            b.pending.push_back(cmd.clone());
                        }
                        if let Some(ev) = b.answer(&cmd) {
                            b.event(ev);
                        }
                    }
                    let ev = random_event(&mut r);
                    b.event(ev);
                }
            }
            if b.modem.poll_timeout().is_some_and(|t| t <= b.now) {
                b.modem.handle_timeout(b.now);
                let due = b.modem.poll_timeout().filter(|t| *t <= b.now);
                assert!(
                    due.is_none(),
                    "seed {seed}: deadline {due:?} stuck at {:?}",
                    b.now
                );
            }
        }
        b.advance(Duration::from_secs(400));
        let status = b.modem.status();
        if status.data_mode {
            continue;
        }
        for l in status.links.iter().filter(|l| l.state == LinkState::Open) {
            if l.buffered >= 32 * 1024 {
                continue; // paused for its own full buffer, as it should be
            }
            let last = b.log.iter().rev().find_map(|c| match c {
                NetCommand::PauseRead { conn } if *conn == l.conn => Some(true),
                NetCommand::ResumeRead { conn } if *conn == l.conn => Some(false),
                _ => None,
            });
            assert_ne!(last, Some(true), "seed {seed}: link {} left paused", l.link);
        }
    }
}
