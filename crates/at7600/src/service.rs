//! Running under a service manager: systemd's readiness protocol (`Type=notify`) and
//! the reload of the fault schedule on SIGHUP.
//!
//! The notifications are one datagram each to `$NOTIFY_SOCKET` (the `sd-notify` crate,
//! no libsystemd); without that variable they cost nothing. A notification that cannot
//! be sent is logged at debug level and otherwise ignored: the modems do not depend on
//! whoever watches them.

use crate::config;
use at7600_net::ScheduledFault;
use sd_notify::NotifyState;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::watch;

/// The fault schedule every modem follows, replaced as a whole on reload.
pub type Schedule = Arc<[ScheduledFault]>;

fn notify(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!(error = %e, "cannot notify the service manager");
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
    pub fn schedule(&self) -> anyhow::Result<Schedule> {
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
/// run on a task of the current runtime.
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
    while hangup.recv().await.is_some() {
        let path = reload.path.display();
        match reload.schedule() {
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
