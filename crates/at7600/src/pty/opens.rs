//! Knowing when a host opens a PTY's slave side, without polling.
//!
//! A PTY master reports nothing when its slave is opened: it only stops reporting a
//! hang-up. Polling for that costs every waiting modem a wake-up per interval, which a
//! fleet of thousands cannot afford. The kernel's inotify does report opens of the slave
//! device, so one watcher thread per process, blocked in `read`, wakes exactly the modem
//! whose port was opened. Where inotify is unavailable (no instances left), modems fall
//! back to polling.

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::Notify;

/// Who waits for which watch.
type Waiters = Mutex<HashMap<WatchDescriptor, Arc<Notify>>>;

/// The process's one inotify instance and the modems waiting on it.
struct Watcher {
    inotify: Inotify,
    waiters: Waiters,
}

/// The watcher, started on first use; `None` if inotify could not be had.
fn watcher() -> Option<&'static Watcher> {
    static WATCHER: OnceLock<Option<&'static Watcher>> = OnceLock::new();
    *WATCHER.get_or_init(|| {
        let inotify = match Inotify::init(InitFlags::IN_CLOEXEC) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(error = %e, "no inotify: PTY ports are polled for reopening");
                return None;
            }
        };
        // Lives as long as the process, like the thread that reads it.
        let watcher: &'static Watcher = Box::leak(Box::new(Watcher {
            inotify,
            waiters: Mutex::new(HashMap::new()),
        }));
        let started = std::thread::Builder::new()
            .name("pty-opens".into())
            .spawn(move || watcher.run());
        match started {
            Ok(_) => Some(watcher),
            Err(e) => {
                tracing::warn!(error = %e, "no PTY watcher thread: ports are polled");
                None
            }
        }
    })
}

impl Watcher {
    /// Blocks on the inotify descriptor and wakes the modem of every open event.
    fn run(&self) {
        loop {
            match self.inotify.read_events() {
                Ok(events) => {
                    let waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
                    for event in events {
                        if let Some(notify) = waiters.get(&event.wd) {
                            // A stored permit: an open before the modem waits is not lost.
                            notify.notify_one();
                        }
                    }
                }
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => {
                    tracing::error!(error = %e, "PTY watcher failed; waking every modem");
                    let waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
                    for notify in waiters.values() {
                        notify.notify_one();
                    }
                    return;
                }
            }
        }
    }
}

/// Tells one modem when its slave device is opened. Dropping it removes the watch.
pub struct OpenWatch {
    wd: WatchDescriptor,
    notify: Arc<Notify>,
}

impl OpenWatch {
    /// Watches `slave` (the PTY's `/dev/pts/N`); `None` where inotify cannot watch it
    /// (the caller polls instead).
    pub fn new(slave: &Path) -> Option<OpenWatch> {
        let watcher = watcher()?;
        let mut waiters = watcher.waiters.lock().unwrap_or_else(|p| p.into_inner());
        let wd = match watcher.inotify.add_watch(slave, AddWatchFlags::IN_OPEN) {
            Ok(wd) => wd,
            Err(e) => {
                tracing::warn!(slave = %slave.display(), error = %e,
                    "cannot watch the PTY (fs.inotify.max_user_watches?); polling it");
                return None;
            }
        };
        let notify = Arc::new(Notify::new());
        waiters.insert(wd, notify.clone());
        Some(OpenWatch { wd, notify })
    }

    /// Completes at the next open of the slave after the last call (or one before it
    /// that nobody waited for yet).
    pub async fn opened(&self) {
        self.notify.notified().await;
    }
}

impl Drop for OpenWatch {
    fn drop(&mut self) {
        if let Some(watcher) = watcher() {
            let mut waiters = watcher.waiters.lock().unwrap_or_else(|p| p.into_inner());
            waiters.remove(&self.wd);
            let _ = watcher.inotify.rm_watch(self.wd);
        }
    }
}
