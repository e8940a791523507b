//! `[tls] cert_dir`: each modem's certificate store on disk (`ssl.md` §4.5), one
//! directory per modem (`<cert_dir>/<imei>/`), one file per certificate under its
//! stored name. The core keeps the store; this loads it when a modem starts and writes
//! each change the core reports, atomically (a temporary file renamed over the old).
//!
//! The writes (each with an fsync, about a millisecond or more) happen on one thread of
//! their own, in the order the modems made them: a host downloading certificates in a
//! loop must not stall the runtime its neighbours share. [`flush`] waits for them.

use at7600_core::{CertFile, StoreChange};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::OnceLock;
use std::time::Duration;

/// The largest file the store holds (`ssl.md` §2); bigger files on disk are skipped.
const MAX_FILE: u64 = 10240;

/// Changes waiting for the writer thread (each at most [`MAX_FILE`] bytes); a modem
/// whose change finds the queue full waits for room, so the queue never grows.
const QUEUE: usize = 64;

/// How long [`flush`] waits for the writes still queued.
const FLUSH_WAIT: Duration = Duration::from_secs(10);

/// Work for the writer thread.
enum Job {
    Apply(CertDir, StoreChange),
    /// Answered once every job before it is done.
    Flush(SyncSender<()>),
}

/// The writer thread's queue; `None` if the thread could not be started (changes are
/// then written where they are made, as a last resort).
fn writer() -> Option<&'static SyncSender<Job>> {
    static WRITER: OnceLock<Option<SyncSender<Job>>> = OnceLock::new();
    WRITER
        .get_or_init(|| {
            let (tx, rx) = sync_channel::<Job>(QUEUE);
            let spawned = std::thread::Builder::new()
                .name("cert-store".into())
                .spawn(move || {
                    for job in rx {
                        match job {
                            Job::Apply(dir, change) => dir.write(&change),
                            Job::Flush(done) => {
                                let _ = done.send(());
                            }
                        }
                    }
                });
            match spawned {
                Ok(_) => Some(tx),
                Err(e) => {
                    tracing::warn!("certificate store: no writer thread ({e}); writing inline");
                    None
                }
            }
        })
        .as_ref()
}

/// Waits (at most [`FLUSH_WAIT`]) until every change handed to [`CertDir::persist`] so
/// far is on disk: called before the process exits.
pub fn flush() {
    let Some(tx) = writer() else {
        return;
    };
    let (done, wait) = sync_channel(1);
    if tx.send(Job::Flush(done)).is_ok() && wait.recv_timeout(FLUSH_WAIT).is_err() {
        tracing::warn!("certificate store: writes still pending at exit");
    }
}

/// Makes sure `root` (`[tls] cert_dir`) exists and takes files, before any modem
/// starts: the core answers `OK` to a download before it is written, so a directory
/// the daemon cannot write would otherwise lose every certificate with a warning only.
pub fn check_root(root: &Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let what = || format!("[tls] cert_dir {}", root.display());
    std::fs::create_dir_all(root).with_context(|| format!("{}: cannot create it", what()))?;
    tempfile::NamedTempFile::new_in(root)
        .with_context(|| format!("{}: cannot write in it", what()))?;
    Ok(())
}

/// One modem's directory.
#[derive(Debug, Clone)]
pub struct CertDir {
    dir: PathBuf,
}

impl CertDir {
    /// The directory of the modem with this IMEI under `root`.
    pub fn new(root: &Path, imei: &str) -> Self {
        CertDir {
            dir: root.join(imei),
        }
    }

    /// The files kept so far, in name order. A missing directory is an empty store;
    /// unreadable or oversized entries are skipped with a warning (the core drops
    /// names it would not have stored).
    pub fn load(&self) -> Vec<CertFile> {
        // A modem of this IMEI that just went (a TCP host reconnecting) may still have
        // writes queued: they come first.
        flush();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
            Err(e) => {
                tracing::warn!("certificate store {}: {e}", self.dir.display());
                return Vec::new();
            }
        };
        let mut files = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let is_file = entry
                .metadata()
                .is_ok_and(|m| m.is_file() && m.len() <= MAX_FILE);
            if !is_file {
                continue;
            }
            match std::fs::read(&path) {
                Ok(data) => files.push(CertFile { name, data }),
                Err(e) => tracing::warn!("certificate file {}: {e}", path.display()),
            }
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        files
    }

    /// Hands one change to the writer thread (written in order, failures logged).
    pub fn persist(&self, change: StoreChange) {
        match writer() {
            Some(tx) => {
                if let Err(e) = tx.send(Job::Apply(self.clone(), change)) {
                    if let Job::Apply(dir, change) = e.0 {
                        dir.write(&change);
                    }
                }
            }
            None => self.write(&change),
        }
    }

    fn write(&self, change: &StoreChange) {
        if let Err(e) = self.apply(change) {
            tracing::warn!("certificate store {}: {e}", self.dir.display());
        }
    }

    /// Writes one change now. The core only reports names that are safe file names.
    pub fn apply(&self, change: &StoreChange) -> std::io::Result<()> {
        match change {
            StoreChange::Put(file) => {
                std::fs::create_dir_all(&self.dir)?;
                // Named `.tmpXXXX`: never a certificate name (those end in .pem/.der).
                let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
                tmp.write_all(&file.data)?;
                tmp.as_file().sync_all()?;
                tmp.persist(self.dir.join(&file.name))
                    .map_err(|e| e.error)?;
                Ok(())
            }
            StoreChange::Delete { name } => match std::fs::remove_file(self.dir.join(name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_load_delete() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = CertDir::new(root.path(), "867584030012347");
        assert!(dir.load().is_empty(), "no directory yet: empty store");
        let file = CertFile {
            name: "ca.pem".into(),
            data: b"\x00\x1a\x1bbytes".to_vec(),
        };
        dir.apply(&StoreChange::Put(file.clone())).expect("put");
        dir.apply(&StoreChange::Put(file.clone())).expect("replace");
        assert_eq!(dir.load(), vec![file]);
        let delete = StoreChange::Delete {
            name: "ca.pem".into(),
        };
        dir.apply(&delete).expect("delete");
        dir.apply(&delete).expect("deleting twice is harmless");
        assert!(dir.load().is_empty());
    }
}
