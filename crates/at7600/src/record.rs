//! Recording a modem's session (`at7600 serve --record FILE`): the JSON-lines format
//! shared with `at7600 replay`, the file writer, and [`Core`], the modem as the runtime
//! sees it, through which every input and every drained output passes.
//!
//! See `docs/recording.md` for the format.

use at7600_core::config::Radio;
use at7600_core::escape::serde_c_string;
use at7600_core::{CertFile, Input, Instant, Modem, ModemConfig, NetCommand, NetEvent};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The version written in the header; replay refuses others.
pub const FORMAT: u32 = 1;

/// One line of a recording. `t` is nanoseconds on the modem's clock (the `now` the
/// core was given), so that replay feeds exactly the same instants.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Record {
    /// The first line: everything needed to build the same modem again.
    Header {
        /// [`FORMAT`].
        format: u32,
        /// The daemon's version that wrote the file (informational).
        version: String,
        /// The modem's number in this process (1 unless `--tcp` ran several).
        modem: u64,
        /// `pty`, `stdio` or `tcp` (informational).
        front_end: String,
        /// The modem's configuration at power-on (boxed: it dwarfs the other records).
        config: Box<ModemConfig>,
    },
    /// Input: bytes from the host.
    Host {
        /// Time.
        t: u64,
        /// The bytes, as a C string.
        #[serde(with = "serde_c_string")]
        data: Vec<u8>,
    },
    /// Input: the DTR line changed.
    Dtr {
        /// Time.
        t: u64,
        /// ON (true) or OFF.
        on: bool,
    },
    /// Input: an event from the network.
    Net {
        /// Time.
        t: u64,
        /// The event.
        event: NetEvent,
    },
    /// Input: the core's deadline passed.
    Timeout {
        /// Time.
        t: u64,
    },
    /// Input: the radio values changed (a radio fault).
    Radio {
        /// Time.
        t: u64,
        /// The new values.
        radio: Radio,
    },
    /// Input: power came back after `AT+CPOF` (a power-on fault).
    PowerOn {
        /// Time.
        t: u64,
    },
    /// Input: the host's wall clock (UTC, ms since the Unix epoch) when the modem started.
    WallClock {
        /// Time.
        t: u64,
        /// The host's UTC then.
        utc_ms: u64,
    },
    /// Input: the certificate store loaded from `[tls] cert_dir` when the modem started.
    CertStore {
        /// Time.
        t: u64,
        /// The files.
        files: Vec<CertFile>,
    },
    /// Output: host bytes the runtime delivered (and consumed) at once.
    HostOut {
        /// Time.
        t: u64,
        /// The bytes, as a C string.
        #[serde(with = "serde_c_string")]
        data: Vec<u8>,
    },
    /// Output: a command the runtime took for the network.
    NetCmd {
        /// Time.
        t: u64,
        /// The command.
        cmd: NetCommand,
    },
    /// The last line, when the modem ended normally: host bytes never delivered.
    End {
        /// Time of the last record before it.
        t: u64,
        /// Output the host did not take before the modem ended.
        #[serde(with = "serde_c_string")]
        host_pending: Vec<u8>,
    },
}

impl Record {
    /// The record of an input to the core.
    pub fn of_input(now: Instant, input: &Input) -> Record {
        let t = nanos(now);
        match input {
            Input::Host(data) => Record::Host {
                t,
                data: data.clone(),
            },
            Input::Dtr(on) => Record::Dtr { t, on: *on },
            Input::Net(event) => Record::Net {
                t,
                event: event.clone(),
            },
            Input::Timeout => Record::Timeout { t },
            Input::Radio(radio) => Record::Radio {
                t,
                radio: radio.clone(),
            },
            Input::PowerOn => Record::PowerOn { t },
            Input::WallClock(utc_ms) => Record::WallClock { t, utc_ms: *utc_ms },
            Input::CertStore(files) => Record::CertStore {
                t,
                files: files.clone(),
            },
        }
    }

    /// The input this record stands for, with its time (`None` for other records).
    pub fn input(&self) -> Option<(Instant, Input)> {
        let (t, input) = match self {
            Record::Host { t, data } => (t, Input::Host(data.clone())),
            Record::Dtr { t, on } => (t, Input::Dtr(*on)),
            Record::Net { t, event } => (t, Input::Net(event.clone())),
            Record::Timeout { t } => (t, Input::Timeout),
            Record::Radio { t, radio } => (t, Input::Radio(radio.clone())),
            Record::PowerOn { t } => (t, Input::PowerOn),
            Record::WallClock { t, utc_ms } => (t, Input::WallClock(*utc_ms)),
            Record::CertStore { t, files } => (t, Input::CertStore(files.clone())),
            _ => return None,
        };
        Some((Duration::from_nanos(*t), input))
    }

    /// The record's kind as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Header { .. } => "header",
            Record::Host { .. } => "host",
            Record::Dtr { .. } => "dtr",
            Record::Net { .. } => "net",
            Record::Timeout { .. } => "timeout",
            Record::Radio { .. } => "radio",
            Record::PowerOn { .. } => "power_on",
            Record::WallClock { .. } => "wall_clock",
            Record::CertStore { .. } => "cert_store",
            Record::HostOut { .. } => "host_out",
            Record::NetCmd { .. } => "net_cmd",
            Record::End { .. } => "end",
        }
    }
}

/// An instant as the file's `t` (saturating: 584 years of uptime are not expected).
pub fn nanos(now: Instant) -> u64 {
    u64::try_from(now.as_nanos()).unwrap_or(u64::MAX)
}

/// Where `--record FILE` puts modem `n`'s recording: FILE itself for a front end with
/// one modem; with `--tcp`, the number goes before the extension (`run.jsonl` becomes
/// `run.1.jsonl`, `run.2.jsonl`, ... in the order the hosts connected).
pub fn numbered(path: &Path, n: u64) -> PathBuf {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{n}"),
    };
    path.with_file_name(name)
}

/// Writes one modem's recording. Never panics: the first I/O error is logged and ends
/// the recording (the modem runs on).
pub struct Recorder {
    out: BufWriter<File>,
    path: PathBuf,
}

impl Recorder {
    /// The recorder a single-modem front end was asked for with `--record`, if any.
    pub fn open(
        path: Option<&Path>,
        front_end: &str,
        config: &ModemConfig,
    ) -> anyhow::Result<Option<Self>> {
        use anyhow::Context as _;
        path.map(|path| {
            Recorder::create(path, 1, front_end, config)
                .with_context(|| format!("cannot record to {}", path.display()))
        })
        .transpose()
    }

    /// Creates `path`, which must not exist yet, and writes the header.
    ///
    /// The file name is predictable (`--record FILE`, numbered per modem with `--tcp`),
    /// so anyone who can write to its directory could plant something there first. The
    /// file is therefore created exclusively (`O_CREAT | O_EXCL`, and `O_NOFOLLOW` for
    /// good measure): a symlink is never followed and an existing file, link or not, is
    /// never overwritten; the error names the file.
    pub fn create(
        path: &Path,
        modem: u64,
        front_end: &str,
        config: &ModemConfig,
    ) -> io::Result<Self> {
        let file = create_exclusive(path)?;
        let mut rec = Recorder {
            out: BufWriter::new(file),
            path: path.to_path_buf(),
        };
        rec.write(&Record::Header {
            format: FORMAT,
            version: env!("CARGO_PKG_VERSION").into(),
            modem,
            front_end: front_end.into(),
            config: Box::new(config.clone()),
        })?;
        rec.out.flush()?;
        tracing::info!(path = %path.display(), modem, "recording");
        Ok(rec)
    }

    fn write(&mut self, record: &Record) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, record)?;
        self.out.write_all(b"\n")
    }

    fn failed(&self, e: &io::Error) {
        tracing::error!(path = %self.path.display(), error = %e, "recording stopped");
    }
}

/// A [`Modem`] and, if recording, its [`Recorder`]. Reads go straight to the modem
/// (`Deref`); everything that changes it is a method here, so nothing escapes the
/// recording. Without a recorder each method is one `Option` check more than the call
/// it wraps.
pub struct Core {
    modem: Modem,
    rec: Option<Recorder>,
    /// The latest time seen, for the end record.
    last: Instant,
}

impl Deref for Core {
    type Target = Modem;

    fn deref(&self) -> &Modem {
        &self.modem
    }
}

impl Core {
    /// A modem, recorded if `rec` is given.
    pub fn new(modem: Modem, rec: Option<Recorder>) -> Self {
        Core {
            modem,
            rec,
            last: Duration::ZERO,
        }
    }

    /// Notes the time and records, if recording.
    fn log(&mut self, now: Instant, record: impl FnOnce() -> Record) {
        self.last = self.last.max(now);
        write_or_stop(&mut self.rec, record);
    }

    /// The torture mode's choices since the last call (see [`Modem::take_torture_log`]).
    pub fn take_torture_log(&mut self) -> Vec<(Instant, at7600_core::TortureChoice)> {
        self.modem.take_torture_log()
    }

    /// The next change of the certificate store to persist (see [`Modem::poll_store`]).
    /// Not recorded: the same inputs give the same changes on replay.
    pub fn poll_store(&mut self) -> Option<at7600_core::StoreChange> {
        self.modem.poll_store()
    }

    /// Any input (see [`Modem::handle`]).
    pub fn handle(&mut self, now: Instant, input: Input) {
        self.log(now, || Record::of_input(now, &input));
        self.modem.handle(now, input);
    }

    /// See [`Modem::handle_host`].
    pub fn handle_host(&mut self, now: Instant, bytes: &[u8]) {
        self.log(now, || Record::Host {
            t: nanos(now),
            data: bytes.to_vec(),
        });
        self.modem.handle_host(now, bytes);
    }

    /// See [`Modem::handle_dtr`].
    pub fn handle_dtr(&mut self, now: Instant, on: bool) {
        self.log(now, || Record::Dtr { t: nanos(now), on });
        self.modem.handle_dtr(now, on);
    }

    /// See [`Modem::handle_net`].
    pub fn handle_net(&mut self, now: Instant, event: NetEvent) {
        self.log(now, || Record::Net {
            t: nanos(now),
            event: event.clone(),
        });
        self.modem.handle_net(now, event);
    }

    /// See [`Modem::handle_timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        self.log(now, || Record::Timeout { t: nanos(now) });
        self.modem.handle_timeout(now);
    }

    /// See [`Modem::consume_host_output`]; records the bytes delivered.
    pub fn consume_host_output(&mut self, now: Instant, n: usize) {
        let out = self.modem.host_output();
        let n = n.min(out.len());
        self.last = self.last.max(now);
        write_or_stop(&mut self.rec, || Record::HostOut {
            t: nanos(now),
            data: out[..n].to_vec(),
        });
        self.modem.consume_host_output(n);
    }

    /// See [`Modem::host_output_contiguous`].
    pub fn host_output_contiguous(&mut self) -> &[u8] {
        self.modem.host_output_contiguous()
    }

    /// See [`Modem::poll_net`]; records the command taken.
    pub fn poll_net(&mut self, now: Instant) -> Option<NetCommand> {
        let cmd = self.modem.poll_net()?;
        self.log(now, || Record::NetCmd {
            t: nanos(now),
            cmd: cmd.clone(),
        });
        Some(cmd)
    }

    /// Pushes what was recorded so far to the file (cheap when nothing is buffered), so
    /// that a daemon killed outright leaves a useful recording.
    pub fn flush(&mut self) {
        if let Some(rec) = &mut self.rec {
            if let Err(e) = rec.out.flush() {
                rec.failed(&e);
                self.rec = None;
            }
        }
    }

    /// Ends the recording: the host output never delivered, then the end record. The
    /// modem is finished with: its pending output is drained.
    pub fn finish(&mut self) {
        let Some(mut rec) = self.rec.take() else {
            return;
        };
        let mut pending = Vec::new();
        while !self.modem.host_output().is_empty() {
            pending.extend_from_slice(self.modem.host_output());
            self.modem.consume_host_output(usize::MAX);
        }
        let end = Record::End {
            t: nanos(self.last),
            host_pending: pending,
        };
        match rec.write(&end).and_then(|()| rec.out.flush()) {
            Ok(()) => tracing::info!(path = %rec.path.display(), "recording complete"),
            Err(e) => rec.failed(&e),
        }
    }
}

/// Opens a new file for writing; refuses an existing path (file, directory or symlink,
/// dangling or not) with an error that names it.
fn create_exclusive(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o644)
        .open(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => io::Error::new(
                e.kind(),
                format!(
                    "{} already exists; a recording never replaces a file \
                     (move it away or pick another name)",
                    path.display()
                ),
            ),
            _ => e,
        })
}

/// Writes a record built only when recording; drops the recorder on error.
fn write_or_stop(rec: &mut Option<Recorder>, record: impl FnOnce() -> Record) {
    if let Some(r) = rec {
        if let Err(e) = r.write(&record()) {
            r.failed(&e);
            *rec = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_paths_keep_the_extension() {
        assert_eq!(
            numbered(Path::new("/tmp/run.jsonl"), 2),
            Path::new("/tmp/run.2.jsonl")
        );
        assert_eq!(numbered(Path::new("run"), 1), Path::new("run.1"));
    }

    #[test]
    fn records_read_back_and_unknown_fields_are_refused() {
        let lines = [
            r#"{"kind":"host","t":1000,"data":"AT\\r"}"#,
            r#"{"kind":"net","t":2,"event":{"type":"data","conn":1,"data":"hi\\x00"}}"#,
            r#"{"kind":"timeout","t":3}"#,
            r#"{"kind":"net_cmd","t":4,"cmd":{"type":"close","conn":1}}"#,
        ];
        for line in lines {
            let r: Record = serde_json::from_str(line).unwrap();
            assert_eq!(
                serde_json::to_string(&r).unwrap().len(),
                line.len(),
                "{line}"
            );
        }
        let (t, input) = serde_json::from_str::<Record>(lines[0])
            .unwrap()
            .input()
            .unwrap();
        assert_eq!(
            (t, input),
            (Duration::from_micros(1), Input::Host(b"AT\r".to_vec()))
        );
        assert!(serde_json::from_str::<Record>(r#"{"kind":"timeout","t":3,"x":1}"#).is_err());
    }
}
