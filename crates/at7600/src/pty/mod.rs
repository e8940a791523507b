//! The PTY front end: modems on pseudo-terminals, each with a symlink for the host.
//!
//! While no host has a port open, its master is not registered with the event loop at
//! all (a master whose slave is closed reports a hang-up for good, and an edge-triggered
//! readiness that says "hung up" never clears): the modem waits for the open event of
//! the `opens` module, registers the master afresh, and serves the host until it closes
//! the port again. An idle modem, port open or not, thus costs no wake-ups.

mod claim;
mod master;
mod opens;

use crate::driver::{Driver, Stop};
use crate::netstack::NetSpec;
use crate::record::{numbered, Recorder};
use anyhow::{bail, Context, Result};
use at7600_core::ModemConfig;
use claim::Claim;
use master::PtyPort;
use opens::OpenWatch;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// How often to look whether the port was reopened, where inotify cannot tell us.
const REOPEN_POLL: Duration = Duration::from_millis(100);

/// The marker in a fleet's path that is replaced by each modem's number.
pub const INDEX_MARKER: &str = "{n}";

/// The path of modem `n` of a fleet of `count` at `template`: `{n}` replaced by `n`;
/// without the marker, a fleet appends `n` (a single modem keeps the path as given).
pub fn fleet_path(template: &Path, n: usize, count: usize) -> PathBuf {
    let text = template.to_string_lossy();
    if text.contains(INDEX_MARKER) {
        PathBuf::from(text.replace(INDEX_MARKER, &n.to_string()))
    } else if count > 1 {
        PathBuf::from(format!("{text}{n}"))
    } else {
        template.to_path_buf()
    }
}

/// One modem on a PTY, ready for a host: its port, its claim on the path, its recorder.
pub struct PtyModem {
    port: PtyPort,
    claim: Claim,
    slave: PathBuf,
    link: PathBuf,
    recorder: Option<Recorder>,
}

impl PtyModem {
    /// Opens a PTY and claims `link` for it (refused if another live daemon has it).
    /// With `record`, the session will be written there (see `docs/recording.md`).
    pub fn open(link: &Path, config: &ModemConfig, record: Option<&Path>) -> Result<PtyModem> {
        let (port, slave) = master::open_pty()?;
        let claim = Claim::new(link, &slave)?;
        let recorder = Recorder::open(record, "pty", config)?;
        Ok(PtyModem {
            port,
            claim,
            slave,
            link: link.to_path_buf(),
            recorder,
        })
    }

    /// The slave device the link points to.
    pub fn slave(&self) -> &Path {
        &self.slave
    }

    /// Serves the modem until shutdown; the symlink is removed at the end. `started`
    /// hears once the modem exists (registered with the control API, if it runs).
    pub async fn serve(
        self,
        config: ModemConfig,
        network: NetSpec,
        mut shutdown: watch::Receiver<bool>,
        started: oneshot::Sender<()>,
    ) {
        let PtyModem {
            mut port,
            claim,
            slave,
            link,
            recorder,
        } = self;
        let watch = OpenWatch::new(&slave);
        let mut driver = Driver::new(config, &network, recorder);
        let _ = started.send(());
        let mut first = true;
        loop {
            if port.hung_up() {
                if first {
                    tracing::debug!("waiting for a host on {}", link.display());
                } else {
                    tracing::info!(
                        "the host closed {}; waiting for it to reopen",
                        link.display()
                    );
                }
                driver.dtr(false);
                let opened = driver
                    .idle_until(wait_open(&port, watch.as_ref()), &mut shutdown)
                    .await;
                if !opened {
                    break;
                }
                tracing::info!("a host opened {}", link.display());
                driver.dtr(true);
            }
            first = false;
            // Registered afresh for every host: see the module docs.
            let mut master = match port.register() {
                Ok(m) => m,
                Err((p, e)) => {
                    tracing::error!(error = %e, "cannot register the PTY; retrying");
                    port = p;
                    tokio::time::sleep(REOPEN_POLL).await;
                    continue;
                }
            };
            let stop = driver.run(&mut master, &mut shutdown).await;
            port = PtyPort::from(master);
            if stop == Stop::Shutdown {
                break;
            }
        }
        drop(driver);
        drop(claim);
    }
}

/// Runs one modem on a new PTY until shutdown; the symlink is removed at the end.
/// With `record`, the session is written there (see `docs/recording.md`).
pub async fn serve(
    link: &Path,
    config: ModemConfig,
    network: NetSpec,
    record: Option<&Path>,
    shutdown: watch::Receiver<bool>,
) -> Result<()> {
    let modem = PtyModem::open(link, &config, record)?;
    let line = format!(
        "at7600: modem ready on {} ({})",
        link.display(),
        modem.slave().display()
    );
    // Ready once the modem exists: the line (and READY=1) comes from beside it.
    let (started, registered) = oneshot::channel();
    let serving = modem.serve(config, network, shutdown, started);
    let announce = async {
        if registered.await.is_ok() {
            crate::service::ready_line(&line);
        }
    };
    tokio::join!(serving, announce);
    Ok(())
}

/// Runs `count` modems on PTYs at `template` ([`fleet_path`]), each with its own
/// identity ([`at7600_core::config::Identity::nth`]) and state, spread over `spawn`'s threads.
/// With `record`, modem `n` is recorded to `record` numbered `n + 1`.
pub async fn serve_fleet<S>(
    template: &Path,
    count: usize,
    config: ModemConfig,
    network: NetSpec,
    record: Option<&Path>,
    shutdown: watch::Receiver<bool>,
    spawn: S,
) -> Result<()>
where
    S: Fn(
        std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    ) -> tokio::task::JoinHandle<()>,
{
    if count == 0 {
        bail!("--count must be at least 1");
    }
    let mut modems = Vec::with_capacity(count);
    for n in 0..count {
        let link = fleet_path(template, n, count);
        let mut config = config.clone();
        config.identity = config.identity.nth(n as u64);
        let record = record.map(|r| numbered(r, n as u64 + 1));
        let modem = PtyModem::open(&link, &config, record.as_deref())
            .with_context(|| format!("modem {n} of {count}"))?;
        modems.push((modem, config));
    }
    let mut registered = Vec::with_capacity(count);
    let tasks: Vec<_> = modems
        .into_iter()
        .map(|(modem, config)| {
            let network = network.clone();
            let shutdown = shutdown.clone();
            let (started, rx) = oneshot::channel();
            registered.push(rx);
            spawn(Box::pin(modem.serve(config, network, shutdown, started)))
        })
        .collect();
    // Ready once every modem exists on its worker (a modem that died first is
    // logged below, not waited for).
    for rx in registered {
        let _ = rx.await;
    }
    let first = fleet_path(template, 0, count);
    let last = fleet_path(template, count - 1, count);
    crate::service::ready_line(&format!(
        "at7600: {count} modems ready on {} .. {}",
        first.display(),
        last.display()
    ));
    for task in tasks {
        if let Err(e) = task.await {
            tracing::error!(error = %e, "a PTY modem ended abnormally");
        }
    }
    Ok(())
}

/// Waits until a host has the slave open: woken by the open event where inotify works,
/// else by polling.
async fn wait_open(port: &PtyPort, watch: Option<&OpenWatch>) {
    loop {
        if !port.hung_up() {
            return;
        }
        match watch {
            Some(w) => w.opened().await,
            None => tokio::time::sleep(REOPEN_POLL).await,
        }
    }
}
