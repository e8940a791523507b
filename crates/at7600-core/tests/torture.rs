//! The torture mode (docs/timing.md): output cut at random byte boundaries with small
//! pauses, URCs at the earliest moment or held back, every choice logged, and the same
//! seed giving the same bytes at the same instants.
mod common;
use at7600_core::config::Torture;
use at7600_core::{ModemConfig, TortureChoice};
use common::Bench;
use std::time::Duration;

/// What the host sends, and when (ms).
const SCRIPT: [(u64, &str); 6] = [
    (0, "ATE0\r"),
    (100, "AT+NETOPEN\r"),
    (2000, "AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r"),
    (4000, "AT+CIPSEND=1,5\r"),
    (4001, "hello"),
    (6000, "ATI;+CSQ;+CIPOPEN?\r"),
];

/// Runs the script on a modem with `torture`, answering the network at once; returns
/// each piece the host could read, with the instant it became readable.
fn run(torture: Option<Torture>) -> Vec<(Duration, String)> {
    let mut b = Bench::new(ModemConfig {
        torture,
        ..Default::default()
    });
    let mut writes = Vec::new();
    let end = Duration::from_secs(10);
    let mut script = SCRIPT.iter().peekable();
    for _ in 0..100_000 {
        let next_input = script.peek().map(|(ms, _)| Duration::from_millis(*ms));
        let next = [next_input, b.modem.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let Some(now) = next.filter(|t| *t <= end) else {
            break;
        };
        if next_input == Some(now) {
            if let Some((_, text)) = script.next() {
                b.modem.handle_host(now, text.as_bytes());
            }
        } else {
            b.modem.handle_timeout(now);
        }
        while let Some(cmd) = b.modem.poll_net() {
            if let Some(ev) = b.answer(&cmd) {
                b.modem.handle_net(now, ev);
            }
        }
        let out = b.modem.host_output_contiguous().to_vec();
        if !out.is_empty() {
            b.modem.consume_host_output(out.len());
            writes.push((now, common::show(&out)));
        }
    }
    writes
}

fn seeded(seed: u64) -> Option<Torture> {
    Some(Torture {
        seed,
        ..Default::default()
    })
}

fn joined(writes: &[(Duration, String)]) -> String {
    writes.iter().map(|(_, s)| s.as_str()).collect()
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_pauses() {
    let a = run(seeded(42));
    assert_eq!(a, run(seeded(42)));
    assert_ne!(a, run(seeded(43)));
}

#[test]
fn tortured_output_is_the_same_bytes_cut_into_pieces_with_pauses() {
    let plain = run(None);
    for seed in 1..=20 {
        let tortured = run(seeded(seed));
        assert_eq!(joined(&tortured), joined(&plain), "seed {seed}");
        assert!(
            tortured.len() > plain.len() * 3,
            "seed {seed}: cut into pieces"
        );
        for pair in tortured.windows(2) {
            assert!(pair[1].0 > pair[0].0, "seed {seed}: a pause between pieces");
        }
    }
}

#[test]
fn every_choice_is_logged_within_its_bounds() {
    let params = Torture {
        seed: 9,
        max_piece: 4,
        max_pause_ms: 3,
        max_urc_delay_ms: 50,
    };
    let mut b = Bench::new(ModemConfig {
        torture: Some(params),
        ..Default::default()
    });
    b.host("ATE0\r");
    b.advance(Duration::from_secs(1));
    b.modem.take_torture_log();
    // What is readable at once (the network answers at once here), then the rest.
    let mut out = b.host("AT+NETOPEN\r");
    out += &b.advance(Duration::from_secs(1));
    assert_eq!(out, r"\r\nOK\r\n\r\n+NETOPEN: 0\r\n");
    let log = b.modem.take_torture_log();
    let mut pieces = 0;
    let mut urcs = 0;
    for (_, choice) in &log {
        match choice {
            TortureChoice::Piece { len, pause } => {
                pieces += len;
                assert!((1..=4).contains(len));
                assert!((1..=3).contains(&pause.as_millis()));
            }
            TortureChoice::UrcDelay { delay } => {
                urcs += 1;
                assert!(delay.as_millis() <= 50);
            }
        }
    }
    assert_eq!(pieces, "\r\nOK\r\n\r\n+NETOPEN: 0\r\n".len(), "every byte");
    assert_eq!(urcs, 1);
    assert!(b.modem.take_torture_log().is_empty(), "drained");
}

#[test]
fn urcs_come_at_the_earliest_moment_or_are_held_back() {
    let mut earliest = 0;
    let mut held = 0;
    for seed in 1..=40 {
        let writes = run(seeded(seed));
        let text = joined(&writes);
        assert!(text.contains(r"OK\r\n\r\n+NETOPEN: 0\r\n"), "{text}");
        // When did the +NETOPEN URC's first byte become readable, against the OK's?
        let mut seen = String::new();
        let mut ok_at = None;
        let mut urc_at = None;
        for (at, piece) in &writes {
            seen.push_str(piece);
            if ok_at.is_none() && seen.contains(r"\r\nOK\r\n\r\n+N") {
                ok_at = Some(*at);
            }
            if seen.contains("+NETOPEN") && urc_at.is_none() {
                urc_at = Some(*at);
            }
        }
        if ok_at.is_some() && ok_at == urc_at {
            earliest += 1;
        } else {
            held += 1;
        }
    }
    assert!(earliest > 0 && held > 0, "{earliest} earliest, {held} held");
}

#[test]
fn the_docs_example_reads_one_csq_in_pieces() {
    let config = ModemConfig {
        torture: seeded(42),
        ..Default::default()
    };
    let mut modem = at7600_core::Modem::new(config);
    modem.handle_host(Duration::ZERO, b"AT+CSQ\r");
    let mut pieces = Vec::new();
    for _ in 0..1000 {
        let Some(at) = modem.poll_timeout() else {
            break;
        };
        modem.handle_timeout(at);
        let piece = modem.host_output_contiguous().to_vec();
        modem.consume_host_output(piece.len());
        pieces.push((at, piece));
    }
    let joined: Vec<u8> = pieces.iter().flat_map(|(_, p)| p.clone()).collect();
    assert_eq!(joined, b"AT+CSQ\r\r\n+CSQ: 25,99\r\n\r\nOK\r\n");
    assert!(pieces.len() > 2, "{pieces:?}");
}

/// Commands of this page and of the TCP/IP set, in any order, as a fuzzing host types.
const WORDS: [&str; 16] = [
    "AT\r",
    "ATE0\r",
    "AT+NETOPEN\r",
    "AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r",
    "AT+CIPSEND=1,3\rabc",
    "AT+CFUN=0\r",
    "AT+CFUN=1\r",
    "AT+CRESET\r",
    "AT+CPING=\"192.0.2.7\",1,2,64,1000,10000\r",
    "AT+CCLK?\r",
    "AT+CGATT=0;+CGATT=1\r",
    "AT+NETCLOSE\r",
    "AT+CREG=2;+CEREG=2;+CNSMOD=1\r",
    "AT+AUTOCSQ=1,0\r",
    "AT+CIPSENDMODE=1\r",
    "\x1b\r\n",
];

/// Runs `words` at the given offsets (ms) on a modem with `config`; the host's reads.
fn session(config: &ModemConfig, words: &[(u64, usize)]) -> Vec<(Duration, Vec<u8>)> {
    let mut b = Bench::new(config.clone());
    let mut reads = Vec::new();
    let mut t = Duration::ZERO;
    for (gap, word) in words {
        t += Duration::from_millis(*gap);
        run_until(&mut b, t, &mut reads);
        b.modem
            .handle_host(t, WORDS[*word % WORDS.len()].as_bytes());
        drain(&mut b, t, &mut reads);
    }
    // The host keeps reading after its last word: answers the module's timing
    // holds back (20 ms for a command, more for NETOPEN) still arrive.
    run_until(&mut b, t + Duration::from_secs(10), &mut reads);
    reads
}

/// Fires every deadline due by `t`, draining after each.
fn run_until(b: &mut Bench, t: Duration, reads: &mut Vec<(Duration, Vec<u8>)>) {
    for _ in 0..10_000 {
        match b.modem.poll_timeout() {
            Some(at) if at <= t => {
                b.modem.handle_timeout(at);
                drain(b, at, reads);
            }
            _ => break,
        }
    }
}

/// Answers the network at once and takes what the host can read at `now`.
fn drain(b: &mut Bench, now: Duration, reads: &mut Vec<(Duration, Vec<u8>)>) {
    for _ in 0..1000 {
        let Some(cmd) = b.modem.poll_net() else { break };
        if let Some(ev) = b.answer(&cmd) {
            b.modem.handle_net(now, ev);
        }
    }
    let out = b.modem.host_output_contiguous().to_vec();
    b.modem.consume_host_output(out.len());
    if !out.is_empty() {
        reads.push((now, out));
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Under torture and the module's timing, any session replays byte for byte with
    /// its seed, and never panics.
    #[test]
    fn any_session_replays_identically_with_its_seed(
        seed in 0u64..1000,
        words in proptest::collection::vec((0u64..3000, 0usize..16), 1..25),
    ) {
        let config = ModemConfig {
            torture: seeded(seed),
            timing: at7600_core::config::Timing::module(),
            ..Default::default()
        };
        let a = session(&config, &words);
        let read: usize = a.iter().map(|(_, r)| r.len()).sum();
        // A session with an AT command in it gets an answer; ESC on an empty line
        // is the only word the module stays silent to.
        let commands = words
            .iter()
            .filter(|(_, w)| WORDS[*w % WORDS.len()].starts_with("AT"))
            .count();
        proptest::prop_assert!(read > 0 || commands == 0, "{a:?}");
        proptest::prop_assert_eq!(&a, &session(&config, &words));
    }
}
