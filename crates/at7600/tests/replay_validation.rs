//! `at7600 replay` on crafted recordings: every field is checked before it reaches a
//! modem, so a hostile file is "bad file" (exit 2) with the line that broke it, never
//! a panic. A table of single-field edits, then random values for every number.
mod common;

use at7600::record::{Record, FORMAT};
use at7600::replay;
use at7600_core::{ConnId, ModemConfig, NetEvent};
use common::run_at7600;
use proptest::prelude::*;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

/// A session that reaches transparent data mode, so that the `+++` guard times are
/// used: CIPMODE=1, NETOPEN, CIPOPEN, then a `+` after a guard time of silence.
fn session(config: ModemConfig, times: [u64; 6]) -> Vec<Record> {
    let host = |t, s: &str| Record::Host {
        t,
        data: s.as_bytes().to_vec(),
    };
    vec![
        Record::Header {
            format: FORMAT,
            version: "0.1.0".into(),
            modem: 1,
            front_end: "tcp".into(),
            config: Box::new(config),
        },
        host(times[0], "AT+CIPMODE=1\r"),
        host(times[1], "AT+NETOPEN\r"),
        Record::Net {
            t: times[2],
            event: NetEvent::Attached {
                ip: Ipv4Addr::new(10, 0, 0, 1),
            },
        },
        host(times[3], "AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",80\r"),
        Record::Net {
            t: times[4],
            event: NetEvent::Opened {
                conn: ConnId(1),
                remote: SocketAddrV4::new(Ipv4Addr::LOCALHOST, 80),
                local_port: 40000,
            },
        },
        host(times[5], "+"),
    ]
}

const TIMES: [u64; 6] = [1_000, 2_000, 3_000, 4_000, 5_000, 3_000_000_000];

fn text(records: &[Record]) -> String {
    records
        .iter()
        .map(|r| serde_json::to_string(r).expect("serialises") + "\n")
        .collect()
}

/// Parses and replays; the error if the file is refused. Panics only if replay does.
fn verdict(text: &str) -> Result<(), String> {
    let records = replay::parse("crafted", text)?;
    let _ = replay::replay(&records);
    Ok(())
}

#[test]
fn the_untouched_session_is_a_good_recording() {
    verdict(&text(&session(ModemConfig::default(), TIMES))).expect("a good recording");
}

#[test]
fn crafted_fields_are_refused_with_their_line() {
    type Edit = fn(&mut ModemConfig, &mut [u64; 6], &mut Vec<Record>);
    let cases: [(&str, Edit, &str); 9] = [
        (
            "an escape guard that overflows when added to now",
            |c, _, _| c.escape.guard = Duration::new(u64::MAX, 0),
            "crafted:1: header: config: escape guard",
        ),
        (
            "an escape gap that overflows",
            |c, _, _| c.escape.max_gap = Duration::new(u64::MAX, 999_999_999),
            "crafted:1: header: config: escape gap",
        ),
        (
            "a zero guard",
            |c, _, _| c.escape.guard = Duration::ZERO,
            "escape guard must be 1-60000 ms",
        ),
        (
            "a line limit of zero",
            |c, _, _| c.limits.max_line = 0,
            "limits.max_line",
        ),
        (
            "a host backlog of everything",
            |c, _, _| c.limits.host_backlog = usize::MAX,
            "limits.host_backlog",
        ),
        (
            "an IMEI that is not digits",
            |c, _, _| c.identity.imei = "86758403001234X".into(),
            "imei: must be 15 digits",
        ),
        (
            "an operator with CR LF in it",
            |c, _, _| c.radio.operator = "X\r\nOK".into(),
            "operator: must be plain ASCII text",
        ),
        (
            "time going backwards",
            |_, t, _| t[3] = 10,
            "crafted:5: host: time goes backwards",
        ),
        (
            "an oversized datagram",
            |_, _, r| {
                r.push(Record::Net {
                    t: 7_000,
                    event: NetEvent::Datagram {
                        conn: ConnId(1),
                        from: SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9),
                        data: vec![b'x'; 70_000],
                    },
                })
            },
            "crafted:8: net: a payload of 70000 bytes",
        ),
    ];
    for (what, edit, expected) in cases {
        let mut config = ModemConfig::default();
        let mut times = TIMES;
        let mut extra = Vec::new();
        edit(&mut config, &mut times, &mut extra);
        let mut records = session(config, times);
        records.extend(extra);
        let err = verdict(&text(&records)).expect_err(what);
        assert!(err.contains(expected), "{what}: {err}");
    }
}

#[test]
fn replay_of_a_crafted_header_exits_2_naming_the_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("crafted.jsonl");
    let mut config = ModemConfig::default();
    // The `+` after a second of silence arms the escape timer at now + gap + 1 ns.
    config.escape.max_gap = Duration::new(u64::MAX, 999_999_999);
    std::fs::write(&file, text(&session(config, TIMES))).expect("write");
    let (code, _, err) = run_at7600(&["replay".as_ref(), file.as_os_str()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(":1: header: config: escape gap"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bytes_that_are_not_text_are_a_bad_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("binary.jsonl");
    std::fs::write(&file, b"{\"kind\":\xff}\n").expect("write");
    let (code, _, err) = run_at7600(&["replay".as_ref(), file.as_os_str()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not UTF-8"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Any numbers in any field: refused or replayed, never a panic.
    #[test]
    fn random_numbers_never_panic(
        times in proptest::array::uniform6(any::<u64>()),
        guard in (any::<u64>(), 0u32..1_000_000_000),
        gap in (any::<u64>(), 0u32..1_000_000_000),
        limits in proptest::array::uniform4(any::<usize>()),
        radio in proptest::array::uniform3(any::<u8>()),
    ) {
        let mut c = ModemConfig::default();
        c.escape.guard = Duration::new(guard.0 % 4, guard.1);
        c.escape.max_gap = Duration::new(gap.0, gap.1);
        c.limits.max_line = limits[0] % 100_000;
        c.limits.rx_buffer = limits[1];
        c.limits.host_backlog = limits[2] % (1 << 25);
        c.limits.host_input = limits[3] % (1 << 25);
        c.radio.rssi = radio[0];
        c.radio.ber = radio[1];
        c.radio.reg_status = radio[2];
        let _ = verdict(&text(&session(c, times)));
    }
}
