//! `[tls] cert_dir`: each modem's certificate store on disk (`ssl.md` §4.5), one
//! directory per modem (`<cert_dir>/<imei>/`), one file per certificate under its
//! stored name. The core keeps the store; this loads it when a modem starts and writes
//! each change the core reports, atomically (a temporary file renamed over the old).

use at7600_core::{CertFile, StoreChange};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The largest file the store holds (`ssl.md` §2); bigger files on disk are skipped.
const MAX_FILE: u64 = 10240;

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

    /// Writes one change. The core only reports names that are safe file names.
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
