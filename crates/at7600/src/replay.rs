//! `at7600 replay FILE`: a recording's inputs, at their recorded times, into a fresh
//! modem built from the recorded configuration; its outputs compared with the recorded
//! ones, host bytes as one stream and network commands as a sequence.
//!
//! Host output is taken from the new modem exactly where the recording says the runtime
//! delivered it, in the same amounts: delivering output is itself something the core
//! reacts to (back-pressure pauses and resumes links), so the drains are replayed too.

use crate::record::{Record, FORMAT};
use at7600_core::escape::c_string;
use at7600_core::{Modem, ModemConfig, NetCommand};
use std::fmt::Write as _;
use std::path::Path;

/// Bytes shown on each side of the first differing host byte.
const WINDOW: usize = 24;

/// Replays `path` and prints the verdict. Returns the exit code: 0 identical,
/// 1 different, 2 the file cannot be read or is not a recording.
pub fn run(path: &Path) -> i32 {
    let records = match load(path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("replay: {e}");
            return 2;
        }
    };
    match replay(&records) {
        Ok(s) => {
            if !s.ended {
                eprintln!(
                    "replay: note: no end record (the daemon did not end the modem); \
                     output never delivered was not compared"
                );
            }
            println!(
                "replay: identical ({} inputs, {} host bytes, {} net commands)",
                s.inputs, s.host_bytes, s.net_commands
            );
            0
        }
        Err(d) => {
            print!("{}", d.describe());
            1
        }
    }
}

/// A parsed recording: the records with their line numbers (from 1), header first.
pub type Recording = Vec<(usize, Record)>;

/// Reads and checks a recording; errors name the file and the line.
pub fn load(path: &Path) -> Result<Recording, String> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    parse_bytes(&name, &bytes)
}

/// Reads and checks a recording from any reader (`name` heads the error messages):
/// [`parse_bytes`] of everything it gives.
pub fn read(name: &str, mut input: impl std::io::Read) -> Result<Recording, String> {
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {name}: {e}"))?;
    parse_bytes(name, &bytes)
}

/// [`parse`] for raw bytes (a fuzz target's input): they must be UTF-8 text.
pub fn parse_bytes(name: &str, bytes: &[u8]) -> Result<Recording, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("{name}: not UTF-8 text (at byte {})", e.valid_up_to()))?;
    parse(name, text)
}

/// Parses and checks a recording's text: a pure function (no I/O), so that fuzz targets
/// can call it. `name` only prefixes the messages.
///
/// Every field is checked as the daemon checks its own flags before anything reaches a
/// modem: the header's format and configuration ([`crate::config::validate_modem`]),
/// radio values, payload sizes, and times, which never go backwards. A recording that
/// fails any check is not a recording this daemon could have written, and is refused
/// with the line that broke it.
pub fn parse(name: &str, text: &str) -> Result<Recording, String> {
    let mut records: Recording = Vec::new();
    let mut last_t = 0;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(line)
            .map_err(|e| format!("{name}:{n}: not a recording line: {e}"))?;
        match (&record, records.last()) {
            (Record::Header { format, .. }, None) if *format != FORMAT => {
                return Err(format!(
                    "{name}:{n}: recording format {format}, this replay reads {FORMAT}"
                ));
            }
            (Record::Header { .. }, None) => {}
            (_, None) => return Err(format!("{name}:{n}: the first line must be the header")),
            (Record::Header { .. }, Some(_)) => {
                return Err(format!("{name}:{n}: a second header"));
            }
            (_, Some((_, Record::End { .. }))) => {
                return Err(format!("{name}:{n}: a record after the end record"));
            }
            _ => {}
        }
        check(&record, &mut last_t).map_err(|e| format!("{name}:{n}: {}: {e}", record.kind()))?;
        records.push((n, record));
    }
    if records.is_empty() {
        return Err(format!("{name}: empty (no header)"));
    }
    Ok(records)
}

/// The largest payload a network event or command can carry: one maximal datagram
/// (TCP reads are smaller).
const MAX_PAYLOAD: usize = 65_535;

/// 9999-12-31T23:59:59.999Z in milliseconds since the Unix epoch.
const MAX_UTC_MS: u64 = 253_402_300_799_999;

/// The front ends that write recordings.
const FRONT_ENDS: [&str; 4] = ["pty", "stdio", "tcp", "serial"];

/// Checks one record's fields; `last_t` is the latest time so far, and moves on.
fn check(record: &Record, last_t: &mut u64) -> Result<(), String> {
    use at7600_core::{NetCommand as C, NetEvent as E};
    let payload = |len: usize| {
        if len > MAX_PAYLOAD {
            Err(format!("a payload of {len} bytes (at most {MAX_PAYLOAD})"))
        } else {
            Ok(())
        }
    };
    let t = match record {
        Record::Header {
            version,
            modem,
            front_end,
            config,
            ..
        } => {
            if version.is_empty()
                || version.len() > 100
                || !version.bytes().all(|b| b.is_ascii_graphic())
            {
                return Err(format!("bad version {version:?}"));
            }
            if *modem == 0 {
                return Err("modem numbers start at 1".into());
            }
            if !FRONT_ENDS.contains(&front_end.as_str()) {
                return Err(format!(
                    "unknown front end {front_end:?} (one of {})",
                    FRONT_ENDS.join(", ")
                ));
            }
            crate::config::validate_modem(config).map_err(|e| format!("config: {e}"))?;
            return Ok(());
        }
        Record::Radio { t, radio } => {
            crate::config::validate_radio(radio).map_err(|e| e.to_string())?;
            *t
        }
        Record::Host { t, data } => {
            payload(data.len())?;
            *t
        }
        Record::Net { t, event } => {
            if let E::Data { data, .. } | E::Datagram { data, .. } = event {
                payload(data.len())?;
            }
            *t
        }
        Record::NetCmd { t, cmd } => {
            if let C::Send { data, .. } | C::SendTo { data, .. } = cmd {
                payload(data.len())?;
            }
            *t
        }
        Record::WallClock { t, utc_ms } => {
            // The module's clock shows years up to 9999 (`AT+CCLK?`).
            if *utc_ms > MAX_UTC_MS {
                return Err(format!("utc_ms {utc_ms} is past the year 9999"));
            }
            *t
        }
        Record::CertStore { t, files } => {
            // The store's own limits (`ssl.md` §2); the core skips bad names itself.
            if files.len() > 64 {
                return Err(format!("{} certificate files (at most 64)", files.len()));
            }
            if let Some(f) = files.iter().find(|f| f.data.len() > 10240) {
                return Err(format!("certificate file of {} bytes", f.data.len()));
            }
            *t
        }
        // Outputs are only compared, never fed to the modem: any size the file holds.
        Record::PowerOn { t }
        | Record::Dtr { t, .. }
        | Record::Timeout { t }
        | Record::HostOut { t, .. }
        | Record::End { t, .. } => *t,
    };
    if t < *last_t {
        return Err(format!("time goes backwards ({t} ns after {last_t} ns)"));
    }
    *last_t = t;
    Ok(())
}

/// What an identical replay went through.
#[derive(Debug, PartialEq, Eq)]
pub struct Summary {
    /// Inputs fed.
    pub inputs: usize,
    /// Host bytes compared.
    pub host_bytes: usize,
    /// Network commands compared.
    pub net_commands: usize,
    /// Whether the recording had its end record.
    pub ended: bool,
}

/// The input most recently fed before an output: where the output appeared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputAt {
    /// Its index among the inputs, from 0.
    pub index: usize,
    /// Its line in the file.
    pub line: usize,
    /// Its kind.
    pub kind: &'static str,
    /// Its time, in ns.
    pub t: u64,
}

/// The first difference between the recording and the replay.
#[derive(Debug, PartialEq, Eq)]
pub enum Difference {
    /// The host byte streams differ at `offset`.
    Host {
        /// Byte offset in the concatenated host output.
        offset: usize,
        /// The recorded stream around the offset, starting at `start`.
        expected: Vec<u8>,
        /// The replayed stream around the offset, starting at `start`.
        got: Vec<u8>,
        /// Where both windows start in the stream.
        start: usize,
        /// The input after which the differing bytes appeared.
        after: Option<InputAt>,
    },
    /// The `index`-th network command (from 0) differs.
    Net {
        /// Index in the sequence of network commands.
        index: usize,
        /// The recorded command (`None`: the recording has no more).
        expected: Option<NetCommand>,
        /// The replayed command (`None`: the modem had none).
        got: Option<NetCommand>,
        /// The input after which it appeared.
        after: Option<InputAt>,
    },
}

impl Difference {
    /// The report printed by `at7600 replay`.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        match self {
            Difference::Host {
                offset,
                expected,
                got,
                start,
                after,
            } => {
                let _ = writeln!(
                    s,
                    "replay: host output differs at byte {offset} ({})",
                    after_text(after)
                );
                let lead = if *start > 0 { "..." } else { "" };
                let before = expected
                    .get(..offset.saturating_sub(*start))
                    .unwrap_or(expected);
                let caret = lead.len() + c_string(before).len();
                let _ = writeln!(s, "  expected: {lead}{}", c_string(expected));
                let _ = writeln!(s, "  got:      {lead}{}", c_string(got));
                let _ = writeln!(s, "            {}^", " ".repeat(caret));
            }
            Difference::Net {
                index,
                expected,
                got,
                after,
            } => {
                let _ = writeln!(
                    s,
                    "replay: net command {index} differs ({})",
                    after_text(after)
                );
                let _ = writeln!(s, "  expected: {}", command_text(expected, "(none)"));
                let _ = writeln!(s, "  got:      {}", command_text(got, "(none)"));
            }
        }
        s
    }
}

fn after_text(after: &Option<InputAt>) -> String {
    match after {
        Some(a) => format!(
            "after input {}, line {}: {} at {}.{:09}s",
            a.index,
            a.line,
            a.kind,
            a.t / 1_000_000_000,
            a.t % 1_000_000_000
        ),
        None => "before any input".into(),
    }
}

/// A command as in the file (JSON, payloads as C strings).
fn command_text(cmd: &Option<NetCommand>, none: &str) -> String {
    match cmd {
        Some(c) => serde_json::to_string(c).unwrap_or_else(|_| format!("{c:?}")),
        None => none.into(),
    }
}

/// Runs a loaded recording on a fresh modem; the first difference, if any.
pub fn replay(records: &Recording) -> Result<Summary, Box<Difference>> {
    let Some((_, Record::Header { config, .. })) = records.first() else {
        // `load` guarantees the header; an empty replay is trivially identical.
        return Ok(Summary {
            inputs: 0,
            host_bytes: 0,
            net_commands: 0,
            ended: false,
        });
    };
    let mut modem = Modem::new(ModemConfig::clone(config));
    let mut expected: Vec<u8> = Vec::new();
    let mut got: Vec<u8> = Vec::new();
    let mut net_commands = 0;
    let mut inputs = 0;
    let mut after: Option<InputAt> = None;
    let mut ended = false;
    for (line, record) in records.iter().skip(1) {
        if let Some((now, input)) = record.input() {
            after = Some(InputAt {
                index: inputs,
                line: *line,
                kind: record.kind(),
                t: crate::record::nanos(now),
            });
            modem.handle(now, input);
            inputs += 1;
            continue;
        }
        let (want, take) = match record {
            Record::HostOut { data, .. } => (data, data.len()),
            Record::End { host_pending, .. } => {
                ended = true;
                (host_pending, usize::MAX)
            }
            Record::NetCmd { cmd, .. } => {
                let got_cmd = modem.poll_net();
                if got_cmd.as_ref() != Some(cmd) {
                    return Err(Box::new(Difference::Net {
                        index: net_commands,
                        expected: Some(cmd.clone()),
                        got: got_cmd,
                        after,
                    }));
                }
                net_commands += 1;
                continue;
            }
            _ => continue,
        };
        let base = expected.len();
        expected.extend_from_slice(want);
        got.extend(drain(&mut modem, take));
        if let Some(offset) = first_mismatch(&expected, &got, base) {
            // Show what the replay had next, too.
            got.extend(drain(&mut modem, WINDOW));
            let start = offset.saturating_sub(WINDOW);
            let window = |s: &[u8]| s[start.min(s.len())..(offset + WINDOW).min(s.len())].to_vec();
            return Err(Box::new(Difference::Host {
                offset,
                expected: window(&expected),
                got: window(&got),
                start,
                after,
            }));
        }
    }
    if ended {
        if let Some(extra) = modem.poll_net() {
            return Err(Box::new(Difference::Net {
                index: net_commands,
                expected: None,
                got: Some(extra),
                after,
            }));
        }
    }
    Ok(Summary {
        inputs,
        host_bytes: expected.len(),
        net_commands,
        ended,
    })
}

/// Takes up to `max` bytes of the modem's host output.
fn drain(modem: &mut Modem, max: usize) -> Vec<u8> {
    let mut taken = Vec::new();
    while taken.len() < max {
        let out = modem.host_output();
        if out.is_empty() {
            break;
        }
        let n = out.len().min(max - taken.len());
        taken.extend_from_slice(&out[..n]);
        modem.consume_host_output(n);
    }
    taken
}

/// The first offset at or after `from` where the streams differ (one ending early
/// counts), given that they agree before `from`.
fn first_mismatch(a: &[u8], b: &[u8], from: usize) -> Option<usize> {
    let common = a.len().min(b.len());
    (from..common)
        .find(|&i| a[i] != b[i])
        .or((a.len() != b.len()).then_some(common))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Record {
        Record::Header {
            format: FORMAT,
            version: "test".into(),
            modem: 1,
            front_end: "tcp".into(),
            config: Box::default(),
        }
    }

    fn session(out: &[u8]) -> Recording {
        vec![
            (1, header()),
            (
                2,
                Record::Host {
                    t: 5,
                    data: b"AT\r".to_vec(),
                },
            ),
            (
                3,
                Record::HostOut {
                    t: 6,
                    data: out.to_vec(),
                },
            ),
            (
                4,
                Record::End {
                    t: 6,
                    host_pending: vec![],
                },
            ),
        ]
    }

    #[test]
    fn an_identical_session_is_summarised() {
        let s = replay(&session(b"AT\r\r\nOK\r\n")).unwrap();
        assert_eq!(
            s,
            Summary {
                inputs: 1,
                host_bytes: 9,
                net_commands: 0,
                ended: true
            }
        );
    }

    #[test]
    fn a_changed_byte_is_found_with_its_input() {
        let d = replay(&session(b"AT\r\r\nOX\r\n")).unwrap_err();
        let text = d.describe();
        assert!(matches!(*d, Difference::Host { offset: 6, .. }), "{text}");
        assert_eq!(
            text,
            "replay: host output differs at byte 6 (after input 0, line 2: host at 0.000000005s)\n\
             \x20 expected: AT\\r\\r\\nOX\\r\\n\n\
             \x20 got:      AT\\r\\r\\nOK\\r\\n\n\
             \x20                    ^\n"
        );
        // A recording that claims more than the modem said ends the got stream early.
        let d = replay(&session(b"AT\r\r\nOK\r\nmore")).unwrap_err();
        assert!(
            matches!(*d, Difference::Host { offset: 9, .. }),
            "{}",
            d.describe()
        );
    }

    #[test]
    fn mismatches_are_found_from_the_given_offset() {
        assert_eq!(first_mismatch(b"abc", b"abc", 0), None);
        assert_eq!(first_mismatch(b"abc", b"abd", 1), Some(2));
        assert_eq!(first_mismatch(b"abc", b"ab", 0), Some(2));
    }
}
