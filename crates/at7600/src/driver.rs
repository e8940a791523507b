//! The per-modem loop shared by every front end: host bytes, network events and
//! timeouts go into the core; its host output, network commands and next deadline come
//! out after every input.

use crate::control::{Registry, Request, View};
use crate::netstack::{NetSpec, NetStack};
use crate::record::{Core, Recorder};
use at7600_core::{Modem, ModemConfig};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Host bytes read at once. Host lines are short; this is the only per-modem buffer
/// that exists while the modem idles.
const HOST_READ: usize = 1024;

/// Why [`Driver::run`] returned.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// The host went away (EOF, or a read/write error such as a closed PTY).
    HostClosed,
    /// The process is shutting down.
    Shutdown,
}

/// One modem: the core, its network, and its clock.
pub struct Driver {
    modem: Core,
    net: NetStack,
    /// The control API's registration: the registry, this modem's id, its requests.
    control: Option<(Arc<Registry>, u64, mpsc::UnboundedReceiver<Request>)>,
    /// The core's clock starts here.
    epoch: Instant,
}

impl Driver {
    /// A powered-on modem whose links go through `network`, its session written to
    /// `record` if given.
    pub fn new(config: ModemConfig, network: &NetSpec, record: Option<Recorder>) -> Self {
        let control = network.control.as_ref().map(|reg| {
            let (id, rx) = reg.register(network.front_end);
            (reg.clone(), id, rx)
        });
        Driver {
            modem: Core::new(Modem::new(config), record),
            net: NetStack::new(network),
            control,
            epoch: Instant::now(),
        }
    }

    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// Hands the core's network commands to the backend and ready events to the core.
    fn pump(&mut self) {
        let now = self.now();
        self.net.exchange(now, &mut self.modem);
    }

    /// The host's DTR line changed (a PTY client closing or reopening the port).
    pub fn dtr(&mut self, on: bool) {
        tracing::debug!(on, "DTR");
        let now = self.now();
        self.modem.handle_dtr(now, on);
        self.pump();
    }

    /// Answers one control API request.
    fn on_request(&mut self, req: Request) {
        let now = self.now();
        match req {
            Request::View(reply) => {
                let _ = reply.send(View {
                    status: self.modem.status(),
                    metrics: self.modem.metrics(),
                    faults: self.net.faults_injected(),
                });
            }
            Request::Fault(fault, reply) => {
                tracing::info!(?fault, "fault from the control API");
                let _ = reply.send(self.net.inject(now, &fault, &mut self.modem));
            }
        }
    }

    /// The core's or the stack's deadline passed.
    fn on_deadline(&mut self) {
        let now = self.now();
        if self.modem.poll_timeout().is_some_and(|t| t <= now) {
            self.modem.handle_timeout(now);
        }
        self.net.on_timeout(now, &mut self.modem);
    }

    /// Sleeps until the core's or the network stack's deadline (forever if none).
    fn deadline(&self) -> impl Future<Output = ()> {
        let at = [self.modem.poll_timeout(), self.net.deadline()]
            .into_iter()
            .flatten()
            .min()
            .map(|d| self.epoch + d);
        async move {
            match at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        }
    }

    /// Serves the host until it goes away or `shutdown` turns true.
    ///
    /// Reads the host only while the core wants input, writes what the core has for it
    /// (partial writes consume what was written), and between inputs waits on nothing
    /// but the host, the network and the core's own deadline: an idle modem costs no
    /// wakeups.
    pub async fn run<H>(&mut self, host: &mut H, shutdown: &mut watch::Receiver<bool>) -> Stop
    where
        H: AsyncRead + AsyncWrite + Unpin,
    {
        self.run_with_dtr(host, None, shutdown).await
    }

    /// As [`Driver::run`], with the host's DTR line arriving as changes on `dtr` (a real
    /// serial port). A watcher that ends leaves DTR where it last was.
    pub async fn run_with_dtr<H>(
        &mut self,
        host: &mut H,
        mut dtr: Option<&mut mpsc::UnboundedReceiver<bool>>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Stop
    where
        H: AsyncRead + AsyncWrite + Unpin,
    {
        let (mut reader, mut writer) = tokio::io::split(host);
        let mut buf = [0u8; HOST_READ];
        loop {
            if *shutdown.borrow() {
                return Stop::Shutdown;
            }
            let want_read = self.modem.wants_host_input();
            let want_write = !self.modem.host_output().is_empty();
            let deadline = self.deadline();
            let watch_dtr = dtr.is_some();
            tokio::select! {
                // A dropped sender counts as shutdown; a change is checked at the top.
                changed = shutdown.changed() => if changed.is_err() {
                    return Stop::Shutdown;
                },
                line = next_dtr(dtr.as_deref_mut()), if watch_dtr => match line {
                    Some(on) => self.dtr(on),
                    None => dtr = None,
                },
                read = reader.read(&mut buf), if want_read => match read {
                    Ok(0) => return Stop::HostClosed,
                    Ok(n) => {
                        let now = self.now();
                        self.modem.handle_host(now, &buf[..n]);
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "host read failed");
                        return Stop::HostClosed;
                    }
                },
                written = writer.write(self.modem.host_output()), if want_write => match written {
                    Ok(0) => return Stop::HostClosed,
                    Ok(n) => {
                        let now = self.now();
                        self.modem.consume_host_output(now, n);
                        if self.modem.host_output().is_empty() {
                            if let Err(e) = writer.flush().await {
                                tracing::debug!(error = %e, "host flush failed");
                                return Stop::HostClosed;
                            }
                        }
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "host write failed");
                        return Stop::HostClosed;
                    }
                },
                Some(req) = next_request(&mut self.control) => self.on_request(req),
                Some(event) = self.net.recv() => {
                    let now = self.now();
                    self.net.on_event(now, event, &mut self.modem);
                }
                () = deadline => self.on_deadline(),
            }
            self.pump();
            self.modem.flush();
        }
    }

    /// Keeps the modem alive without a host (network events and deadlines still count)
    /// until `back` completes (true) or shutdown (false).
    pub async fn idle_until<F>(&mut self, back: F, shutdown: &mut watch::Receiver<bool>) -> bool
    where
        F: Future<Output = ()>,
    {
        tokio::pin!(back);
        loop {
            if *shutdown.borrow() {
                return false;
            }
            let deadline = self.deadline();
            tokio::select! {
                changed = shutdown.changed() => if changed.is_err() {
                    return false;
                },
                () = &mut back => return true,
                Some(req) = next_request(&mut self.control) => self.on_request(req),
                Some(event) = self.net.recv() => {
                    let now = self.now();
                    self.net.on_event(now, event, &mut self.modem);
                }
                () = deadline => self.on_deadline(),
            }
            self.pump();
            self.modem.flush();
        }
    }

    /// Writes what the core still has for the host, for at most `limit` (used when the
    /// host's input ended but its output may still be open, as with stdio).
    pub async fn flush_output<W: AsyncWrite + Unpin>(&mut self, writer: &mut W, limit: Duration) {
        let drain = async {
            while !self.modem.host_output().is_empty() {
                match writer.write(self.modem.host_output()).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let now = self.now();
                        self.modem.consume_host_output(now, n);
                    }
                }
            }
            let _ = writer.flush().await;
        };
        if tokio::time::timeout(limit, drain).await.is_err() {
            tracing::debug!("host output not flushed in time");
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.modem.finish();
        if let Some((reg, id, _)) = &self.control {
            reg.unregister(*id);
        }
    }
}

/// The next control request (never, without a control API).
async fn next_request(
    control: &mut Option<(Arc<Registry>, u64, mpsc::UnboundedReceiver<Request>)>,
) -> Option<Request> {
    match control {
        Some((_, _, rx)) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// The next DTR change, if a watcher is there.
async fn next_dtr(rx: Option<&mut mpsc::UnboundedReceiver<bool>>) -> Option<bool> {
    match rx {
        Some(rx) => rx.recv().await,
        None => None,
    }
}
