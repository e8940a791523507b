//! Running under a service manager: systemd's readiness protocol (`Type=notify`) and
//! the reload of the fault schedule on SIGHUP.
//!
//! The notifications are one datagram each to `$NOTIFY_SOCKET` (the `sd-notify` crate,
//! no libsystemd); without that variable they cost nothing. A notification that cannot
//! be sent is logged at debug level and otherwise ignored: the modems do not depend on
//! whoever watches them.

use crate::config;
use anyhow::Context as _;
use at7600_net::ScheduledFault;
use sd_notify::NotifyState;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::watch;

/// The fault schedule every modem follows, replaced as a whole on reload.
pub type Schedule = Arc<[ScheduledFault]>;

/// Notifications waiting for the sender thread; past this many, newer ones are dropped.
const NOTIFY_QUEUE: usize = 16;

/// Hands a notification to the one thread that sends them. The crate's datagram socket
/// blocks when its reader's queue is full (a `NOTIFY_SOCKET` nobody reads): that must
/// stall only that thread, never the runtime the modems run on. Without
/// `$NOTIFY_SOCKET` nothing is queued and no thread exists.
fn notify(states: &[NotifyState]) {
    use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
    use std::sync::OnceLock;
    static SENDER: OnceLock<Option<SyncSender<String>>> = OnceLock::new();
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    let sender = SENDER.get_or_init(|| {
        let (tx, rx) = sync_channel::<String>(NOTIFY_QUEUE);
        let spawned = std::thread::Builder::new()
            .name("sd-notify".into())
            .spawn(move || {
                for message in rx {
                    let state = [NotifyState::Custom(&message)];
                    if let Err(e) = sd_notify::notify(&state) {
                        tracing::debug!(error = %e, "cannot notify the service manager");
                    }
                }
            });
        match spawned {
            Ok(_) => Some(tx),
            Err(e) => {
                tracing::debug!(error = %e, "no thread to notify the service manager");
                None
            }
        }
    });
    let Some(sender) = sender else {
        return;
    };
    // One datagram, as the crate would have made it: one `KEY=value` line each.
    let message = states.iter().map(|s| format!("{s}\n")).collect::<String>();
    let message = message.trim_end_matches('\n').to_string();
    if let Err(TrySendError::Full(_)) = sender.try_send(message) {
        tracing::debug!("the service manager is not reading notifications: one dropped");
    }
}

/// Prints the front end's ready line on standard output (where scripts and tests wait
/// for it) and then tells the service manager the daemon is ready, with the same line
/// as its status. Called once the front end listens: the control API, if any, already
/// does.
pub fn ready_line(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
    drop(out);
    ready(line);
}

/// `READY=1` with `line` as the status, for a front end whose ready line does not go to
/// standard output (`--stdio`, where standard output is the modem).
pub fn ready(line: &str) {
    notify(&[
        NotifyState::Ready,
        NotifyState::Status(line.trim_start_matches("at7600: ")),
    ]);
}

/// `STOPPING=1`: shutdown has begun (links are closing, confirmed data being flushed).
pub fn stopping() {
    notify(&[NotifyState::Stopping, NotifyState::Status("shutting down")]);
}

/// The largest config file a reload reads (a schedule of many thousand faults fits).
const MAX_RELOAD_BYTES: u64 = 64 << 20;

/// Everything a reload needs: the config file and the flags that override it.
pub struct Reload {
    /// The `--config` file.
    pub path: PathBuf,
    /// The command line's settings, applied over the file as at startup.
    pub flags: crate::cli::SettingsArgs,
    /// `--network sim`: the file is checked as at startup.
    pub sim: bool,
}

impl Reload {
    /// Reads and checks the whole file as at startup; its fault schedule if it is good.
    /// Only a regular file of at most [`MAX_RELOAD_BYTES`] is read: the reload runs
    /// on the modems' runtime, where a FIFO nobody writes (or a link to a device that
    /// never ends) would stall every modem.
    pub fn schedule(&self) -> anyhow::Result<Schedule> {
        let meta = std::fs::metadata(&self.path)
            .with_context(|| format!("cannot read config file {}", self.path.display()))?;
        if !meta.is_file() {
            anyhow::bail!("{} is not a regular file", self.path.display());
        }
        if meta.len() > MAX_RELOAD_BYTES {
            anyhow::bail!(
                "{} has {} bytes, more than a config file's {MAX_RELOAD_BYTES}",
                self.path.display(),
                meta.len()
            );
        }
        let file = config::FileConfig::load(&self.path)?;
        file.check_network(self.sim)?;
        let settings = config::resolve(file, &self.flags)?;
        Ok(settings.faults.into())
    }
}

/// On every SIGHUP, reads the config file again and hands its `[[fault]]` schedule to
/// every modem (see [`crate::netstack::NetStack::reload_schedule`]). The rest of the
/// file is checked but not applied: identities, links and listeners need a restart. A
/// file that does not load keeps the schedule in force; the daemon never exits for it.
///
/// The signal is watched from this call on (before the ready line, so a reload sent as
/// soon as the daemon is ready is never the default SIGHUP that ends it); the reloads
/// are driven by a task of the current runtime and read the file on its blocking pool.
pub fn reload_on_hangup(reload: Reload, schedule: watch::Sender<Schedule>) {
    use tokio::signal::unix::{signal, SignalKind};
    let hangup = match signal(SignalKind::hangup()) {
        Ok(hangup) => hangup,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch SIGHUP; the fault schedule cannot be reloaded");
            return;
        }
    };
    tokio::spawn(reloads(hangup, reload, schedule));
}

async fn reloads(
    mut hangup: tokio::signal::unix::Signal,
    reload: Reload,
    schedule: watch::Sender<Schedule>,
) {
    let reload = Arc::new(reload);
    while hangup.recv().await.is_some() {
        // Reading and checking a file (up to MAX_RELOAD_BYTES) is blocking work: on the
        // blocking pool, so the modems on this runtime go on meanwhile. One at a time;
        // signals that come during it make one more reload.
        let job = reload.clone();
        let loaded = tokio::task::spawn_blocking(move || job.schedule())
            .await
            .unwrap_or_else(|e| Err(anyhow::anyhow!("the reload did not finish: {e}")));
        let path = reload.path.display();
        match loaded {
            Ok(faults) => {
                let n = faults.len();
                tracing::info!(
                    "SIGHUP: fault schedule reloaded from {path}: {n} fault(s); other \
                     settings take effect at the next start"
                );
                schedule.send_replace(faults);
                notify(&[NotifyState::Status(&format!(
                    "fault schedule reloaded: {n} fault(s)"
                ))]);
            }
            Err(e) => {
                tracing::error!(
                    "SIGHUP: {path} not reloaded, the fault schedule stays as it was: {e:#}"
                );
            }
        }
    }
}
