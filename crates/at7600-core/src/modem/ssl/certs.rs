//! The certificate store and its commands: `AT+CCERTDOWN`, `AT+CCERTLIST`,
//! `AT+CCERTDELE`, `AT+CCERTMOVE` (`ssl.md` §4).
//!
//! The store lives in the core and survives restarts and `AT+CPOF`. Keeping it on disk
//! is the runtime's business: it loads the store with [`crate::Input::CertStore`] and
//! drains every change with [`Modem::poll_store`].

use super::names::{max_name_len, show_name, storable, stored_name_arg};
use super::{plain, Payload, PayloadTarget};
use crate::config::Personality;
use crate::io::{CertFile, StoreChange};
use crate::modem::{HostState, Modem, Step, Timer};
use crate::parser::Form;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// Largest certificate file.
pub const MAX_FILE: usize = 10240;
/// Most files in the store.
pub const MAX_FILES: usize = 64;
/// Most bytes in the store.
pub const MAX_TOTAL: usize = 1 << 20;
/// Changes kept for the runtime: one per stored file, and as many deletions.
const MAX_CHANGES: usize = 2 * MAX_FILES;
/// How long a download may take after its prompt.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// The files, in ascending byte order of their names, and the changes not yet drained.
#[derive(Debug, Default)]
pub struct CertStore {
    files: BTreeMap<String, Vec<u8>>,
    changes: VecDeque<StoreChange>,
}

impl CertStore {
    /// A file's content.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.files.get(name).map(Vec::as_slice)
    }

    fn total(&self) -> usize {
        self.files.values().map(Vec::len).sum()
    }

    /// Whether a file of `len` bytes named `name` fits (replacing one of that name).
    fn fits(&self, name: &str, len: usize) -> bool {
        let old = self.files.get(name).map_or(0, Vec::len);
        let count = self.files.len() + usize::from(!self.files.contains_key(name));
        len <= MAX_FILE && count <= MAX_FILES && self.total() - old + len <= MAX_TOTAL
    }

    /// A change for the runtime; an older change of the same name is superseded, so
    /// the queue never holds more than one entry per name.
    fn record(&mut self, name: &str, change: StoreChange) {
        self.changes.retain(|c| match c {
            StoreChange::Put(f) => f.name != name,
            StoreChange::Delete { name: n } => n != name,
        });
        // A runtime that never drains keeps nothing on disk anyway: the oldest
        // deletions of names long gone are forgotten rather than piling up.
        while self.changes.len() >= MAX_CHANGES {
            let Some(i) =
                (self.changes.iter()).position(|c| matches!(c, StoreChange::Delete { .. }))
            else {
                break;
            };
            self.changes.remove(i);
        }
        self.changes.push_back(change);
    }

    fn put(&mut self, name: String, data: Vec<u8>) {
        let file = CertFile {
            name: name.clone(),
            data: data.clone(),
        };
        self.record(&name, StoreChange::Put(file));
        self.files.insert(name, data);
    }

    fn delete(&mut self, name: &str) -> bool {
        if self.files.remove(name).is_none() {
            return false;
        }
        self.record(
            name,
            StoreChange::Delete {
                name: name.to_string(),
            },
        );
        true
    }

    /// Replaces the store with what the runtime kept, in order, leaving out what breaks
    /// the limits or naming rules. Loading is not a change to persist.
    pub fn load(&mut self, files: Vec<CertFile>, personality: Personality) {
        self.files.clear();
        for f in files {
            if storable(&f.name, personality)
                && !f.data.is_empty()
                && self.fits(&f.name, f.data.len())
            {
                self.files.insert(f.name, f.data);
            }
        }
    }
}

impl Modem {
    /// The next change of the certificate store to persist (`AT+CCERTDOWN`,
    /// `AT+CCERTDELE`), oldest first; `None` when all are drained.
    pub fn poll_store(&mut self) -> Option<StoreChange> {
        self.ssl.store.changes.pop_front()
    }

    /// Replaces the certificate store (see [`crate::Input::CertStore`]).
    pub fn load_cert_store(&mut self, now: crate::io::Instant, files: Vec<CertFile>) {
        self.advance(now);
        let personality = self.config.identity.personality;
        self.ssl.store.load(files, personality);
    }

    pub(in crate::modem) fn cmd_certs(&mut self, name: &str, form: &Form) -> Step {
        let personality = self.config.identity.personality;
        match (name, form) {
            ("+CCERTDOWN", Form::Test) => {
                let line = format!(
                    "+CCERTDOWN: (5-{}),(1-{MAX_FILE})",
                    max_name_len(personality)
                );
                self.info_step(&line)
            }
            ("+CCERTDOWN", Form::Write(args)) if args.len() == 2 => {
                let name = stored_name_arg(&args[0], personality);
                let len = args[1].in_range(1..=MAX_FILE as u64);
                let (Some(name), Some(len)) = (name, len) else {
                    return plain();
                };
                let len = len as usize;
                if !self.ssl.store.fits(&name, len) {
                    return plain();
                }
                self.prompt_payload(PayloadTarget::Cert(name), len, DOWNLOAD_TIMEOUT)
            }
            ("+CCERTLIST", Form::Execute) => {
                let lines: Vec<String> = (self.ssl.store.files.keys())
                    .map(|n| format!("+CCERTLIST: \"{}\"", show_name(n)))
                    .collect();
                self.info_lines(&lines);
                Step::Next
            }
            ("+CCERTDELE", Form::Write(args)) if args.len() == 1 => {
                match stored_name_arg(&args[0], personality) {
                    Some(name) if self.ssl.store.delete(&name) => Step::Next,
                    _ => plain(),
                }
            }
            ("+CCERTMOVE", Form::Test) => self.info_step("+CCERTMOVE: \"FILENAME\""),
            // No general file system: there is never a file to move (§4.4).
            ("+CCERTMOVE", _) => plain(),
            ("+CCERTLIST" | "+CCERTDELE", Form::Test) => Step::Next,
            _ => plain(),
        }
    }

    /// The `>` prompt of a fixed-length payload (`AT+CCERTDOWN`, `AT+CCHSEND`).
    pub(super) fn prompt_payload(
        &mut self,
        target: PayloadTarget,
        len: usize,
        timeout: Duration,
    ) -> Step {
        self.out.extend(b"\r\n>");
        self.host = HostState::SslPayload(Payload {
            target,
            len,
            data: Vec::with_capacity(len),
        });
        self.set_timer(Timer::Payload, self.now + timeout);
        Step::Prompt
    }

    /// A download is complete: stored byte for byte, replacing a file of that name.
    pub(super) fn download_complete(&mut self, name: String, data: Vec<u8>) -> Step {
        // Checked at the prompt; a restart in between cannot change the store.
        if !self.ssl.store.fits(&name, data.len()) {
            return plain();
        }
        self.ssl.store.put(name, data);
        Step::Next
    }
}
