//! The stable path a host opens: a symlink to the PTY's slave, owned by one daemon.
//!
//! Two daemons started on the same path must not silently take the link from each
//! other. The owner holds an exclusive `flock` on `PATH.lock` for its whole life; a
//! second daemon finds the lock taken and refuses with the owner's pid. A link whose
//! lock nobody holds is stale (its daemon died) and is replaced.

use anyhow::{bail, Context, Result};
use nix::fcntl::{Flock, FlockArg};
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A live claim on a path: the lock and the symlink, both removed when dropped.
pub struct Claim {
    link: PathBuf,
    target: PathBuf,
    lock_path: PathBuf,
    _lock: Flock<File>,
}

/// `PATH.lock` beside `PATH`.
fn lock_path(link: &Path) -> PathBuf {
    let mut name = link.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl Claim {
    /// Claims `link` for this process and points it at `target`.
    pub fn new(link: &Path, target: &Path) -> Result<Claim> {
        let lock_path = lock_path(link);
        let lock = take_lock(&lock_path, link)?;
        match std::fs::symlink_metadata(link) {
            // A link nobody holds the lock for: left by a daemon that died. Replace it.
            Ok(meta) if meta.file_type().is_symlink() => std::fs::remove_file(link)
                .with_context(|| format!("cannot remove stale link {}", link.display()))?,
            Ok(_) => bail!(
                "{} exists and is not a symlink; not replacing it",
                link.display()
            ),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot inspect {}", link.display())),
        }
        std::os::unix::fs::symlink(target, link)
            .with_context(|| format!("cannot create symlink {}", link.display()))?;
        Ok(Claim {
            link: link.to_path_buf(),
            target: target.to_path_buf(),
            lock_path,
            _lock: lock,
        })
    }
}

/// Takes the exclusive lock at `path`, writing our pid into it; fails naming the owner
/// if another live process holds it.
fn take_lock(path: &Path, link: &Path) -> Result<Flock<File>> {
    // A lock file removed by its owner between our open and our flock would leave us
    // holding a lock nobody else can see: check that the path still is our file.
    for _ in 0..8 {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .with_context(|| format!("cannot open lock file {}", path.display()))?;
        let mut lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => lock,
            Err((mut file, nix::errno::Errno::EWOULDBLOCK)) => {
                let mut owner = String::new();
                let _ = file.read_to_string(&mut owner);
                let owner = owner.trim();
                bail!(
                    "{} is served by another running at7600{}; stop it first or choose \
                     another path",
                    link.display(),
                    if owner.is_empty() {
                        String::new()
                    } else {
                        format!(" (pid {owner})")
                    }
                );
            }
            Err((_, e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()))
            }
        };
        let same = match (lock.metadata(), std::fs::metadata(path)) {
            (Ok(held), Ok(now)) => held.ino() == now.ino() && held.dev() == now.dev(),
            _ => false,
        };
        if !same {
            continue;
        }
        lock.set_len(0)
            .and_then(|()| lock.rewind())
            .and_then(|()| writeln!(lock, "{}", std::process::id()))
            .with_context(|| format!("cannot write lock file {}", path.display()))?;
        return Ok(lock);
    }
    bail!("cannot take the lock {}: it keeps changing", path.display())
}

impl Drop for Claim {
    fn drop(&mut self) {
        if std::fs::read_link(&self.link).is_ok_and(|t| t == self.target) {
            if let Err(e) = std::fs::remove_file(&self.link) {
                tracing::warn!(link = %self.link.display(), error = %e, "cannot remove symlink");
            }
        }
        // Removed while still held, so a daemon starting now either sees our lock or a
        // fresh file (and checks it locked the file the path names).
        let _ = std::fs::remove_file(&self.lock_path);
    }
}
