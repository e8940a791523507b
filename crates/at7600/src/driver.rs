//! The per-modem loop shared by every front end: host bytes, network events and
//! timeouts go into the core; its host output, network commands and next deadline come
//! out after every input.

use crate::certstore::CertDir;
use crate::control::tap::Tap;
use crate::control::{Registry, Request, View};
use crate::netstack::{NetSpec, NetStack};
use crate::record::{Core, Recorder};
use crate::service::Schedule;
use crate::trace::Trace;
use at7600_core::{Input, Modem, ModemConfig};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Host bytes read at once: a PTY hands out up to 4095 bytes per read, so a 1500-byte
/// payload or a burst of data mode takes one read. The buffer lives only during a read
/// (see [`read_some`]): an idle modem holds none.
const HOST_READ: usize = 4096;

/// Output up to this size is made one piece before it is written (see
/// [`Driver::write_now`]).
const COALESCE_LIMIT: usize = 4096;

/// Host bytes taken in one pass of the modem (several reads).
const HOST_READ_BATCH: usize = 16 * 1024;

/// Events taken without waiting before the host's output is written (see
/// [`Driver::take_ready_events`]).
const MAX_READY_EVENTS: usize = 64;

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
    /// Bytes went to the host since its last completed flush.
    unflushed: bool,
    /// The AT traffic trace's hook (`--trace`): host bytes as they are read and written.
    trace: Trace,
    /// The control API's view of the line: the dashboard's transcript, last commands.
    tap: Tap,
    /// New fault schedules (SIGHUP); `None` once no more can come.
    reload: Option<watch::Receiver<Schedule>>,
    /// `[tls] cert_dir`: where this modem's certificate store is kept.
    certs: Option<CertDir>,
}

impl Driver {
    /// A powered-on modem whose links go through `network`, its session written to
    /// `record` if given.
    pub fn new(config: ModemConfig, network: &NetSpec, record: Option<Recorder>) -> Self {
        let control = network.control.as_ref().map(|reg| {
            let (id, rx) = reg.register(network.front_end, &config.identity.imei);
            (reg.clone(), id, rx)
        });
        let certs =
            (config.tls.cert_dir.as_deref()).map(|root| CertDir::new(root, &config.identity.imei));
        let mut modem = Core::new(Modem::new(config), record);
        // The module's clock (AT+CCLK?) starts at the host's UTC; the core never reads a
        // clock, so it is told, as an input (recorded, so a replay shows the same time).
        let utc_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        modem.handle(Duration::ZERO, Input::WallClock(utc_ms));
        // The schedule in force now; only later reloads wake the loop.
        let mut reload = network.faults.clone();
        let faults = reload.borrow_and_update().clone();
        // The certificate store kept on disk, as an input too (ssl.md §4.5).
        if let Some(dir) = &certs {
            modem.handle(Duration::ZERO, Input::CertStore(dir.load()));
        }
        Driver {
            modem,
            net: NetStack::new(network, &faults),
            control,
            epoch: Instant::now(),
            unflushed: false,
            trace: Trace::new(),
            tap: Tap::default(),
            reload: Some(reload),
            certs,
        }
    }

    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// Hands the core's network commands to the backend and ready events to the core.
    fn pump(&mut self) {
        let now = self.now();
        self.net.exchange(now, &mut self.modem);
        self.persist_certs();
    }

    /// Writes the certificate store's changes (`AT+CCERTDOWN`, `AT+CCERTDELE`).
    fn persist_certs(&mut self) {
        while let Some(change) = self.modem.poll_store() {
            let Some(dir) = &self.certs else {
                continue;
            };
            if let Err(e) = dir.apply(&change) {
                tracing::warn!("certificate store: {e}");
            }
        }
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
                    last_commands: self.tap.last_commands(),
                });
            }
            Request::Fault(fault, reply) => {
                tracing::info!(
                    "fault from the control API: {}",
                    crate::trace::describe_fault(&fault)
                );
                let _ = reply.send(self.net.inject(now, &fault, &mut self.modem));
            }
            Request::Tap(reply) => {
                let _ = reply.send(self.tap.subscribe());
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
        loop {
            if *shutdown.borrow() {
                return Stop::Shutdown;
            }
            // Whatever the backend already has goes in before anything goes out, so that
            // an answer and what it caused (`OK`, then the `+CIPSEND:` report the send
            // produced) reach the host as one write, not as one wake-up each.
            self.take_ready_events();
            if self.write_now(&mut writer).is_err() {
                return Stop::HostClosed;
            }
            // What the host took may have freed the core to resume a paused link or run a
            // held command: those network commands must leave before we wait, or nothing
            // would wake us (the link stays paused, the host waits for data).
            self.pump();
            let want_read = self.modem.wants_host_input();
            let want_write = !self.modem.host_output().is_empty();
            let deadline = self.deadline();
            let watch_dtr = dtr.is_some();
            tokio::select! {
                // Fixed order: shutdown first, then what the network says, then the host.
                biased;
                // A dropped sender counts as shutdown; a change is checked at the top.
                changed = shutdown.changed() => if changed.is_err() {
                    return Stop::Shutdown;
                },
                line = next_dtr(dtr.as_deref_mut()), if watch_dtr => match line {
                    Some(on) => self.dtr(on),
                    None => dtr = None,
                },
                Some(event) = self.net.recv() => {
                    let now = self.now();
                    self.net.on_event(now, event, &mut self.modem);
                }
                read = read_some(&mut reader), if want_read => match read {
                    Ok(bytes) if bytes.is_empty() => return Stop::HostClosed,
                    Ok(bytes) => {
                        self.trace.host_in(&bytes);
                        let now = self.now();
                        let before = self.modem.metrics().commands;
                        self.modem.handle_host(now, &bytes);
                        self.tap.host_in(&bytes, self.modem.metrics().commands > before);
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "host read failed");
                        return Stop::HostClosed;
                    }
                },
                // Writes what the host has not taken yet; once all is out, completes a
                // flush that could not finish at once (a line-buffered standard output
                // holding a `>` prompt), so it is driven with a real waker.
                done = write_or_flush(&mut writer, self.modem.host_output()), if want_write || self.unflushed => match done {
                    Ok(Some(0)) => return Stop::HostClosed,
                    Ok(Some(n)) => {
                        self.unflushed = true;
                        self.trace.host_out(&self.modem.host_output()[..n]);
                        self.tap.host_out(&self.modem.host_output()[..n]);
                        let now = self.now();
                        self.modem.consume_host_output(now, n);
                    }
                    Ok(None) => self.unflushed = false,
                    Err(e) => {
                        tracing::debug!(error = %e, "host write failed");
                        return Stop::HostClosed;
                    }
                },
                Some(req) = next_request(&mut self.control) => self.on_request(req),
                Some(faults) = next_schedule(&mut self.reload) => {
                    let now = self.now();
                    self.net.reload_schedule(now, &faults);
                }
                () = deadline => self.on_deadline(),
            }
            self.pump();
            self.modem.flush();
        }
    }

    /// Hands the core every event the backend has ready, without waiting.
    fn take_ready_events(&mut self) {
        // Bounded: a backend that produces events as fast as they are taken must not keep
        // the host waiting; the rest come through the select loop.
        for _ in 0..MAX_READY_EVENTS {
            let Some(event) = self.net.try_recv() else {
                return;
            };
            let now = self.now();
            self.net.on_event(now, event, &mut self.modem);
        }
    }

    /// Writes what the core has for the host as far as the host takes it now, without
    /// waiting (the select loop waits when the host is slow). Err if the host is gone.
    fn write_now<W: AsyncWrite + Unpin>(&mut self, writer: &mut W) -> Result<(), ()> {
        // --torture: every choice in the log, so a failing driver run can be replayed.
        for (at, choice) in self.modem.take_torture_log() {
            tracing::debug!(at_ms = at.as_millis() as u64, ?choice, "torture");
        }
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            // A few responses and reports go out in one write even when the core's ring
            // buffer wraps; a large backlog (a data stream) is written a piece at a time
            // rather than moved in memory first.
            let out = if self.modem.host_output_len() <= COALESCE_LIMIT {
                self.modem.host_output_contiguous()
            } else {
                self.modem.host_output()
            };
            if out.is_empty() {
                // Some hosts buffer (standard output is line-buffered): push the rest of
                // a line such as the `>` prompt out. Where that has to wait, it goes on
                // by itself; the next round looks again.
                if self.unflushed {
                    match Pin::new(&mut *writer).poll_flush(&mut cx) {
                        Poll::Ready(Ok(())) => self.unflushed = false,
                        Poll::Ready(Err(e)) => {
                            tracing::debug!(error = %e, "host flush failed");
                            return Err(());
                        }
                        Poll::Pending => {}
                    }
                }
                return Ok(());
            }
            self.unflushed = true;
            match Pin::new(&mut *writer).poll_write(&mut cx, out) {
                Poll::Ready(Ok(0)) => return Err(()),
                Poll::Ready(Ok(n)) => {
                    self.trace
                        .host_out(&self.modem.host_output_contiguous()[..n]);
                    self.tap.host_out(&self.modem.host_output_contiguous()[..n]);
                    let now = self.now();
                    self.modem.consume_host_output(now, n);
                }
                Poll::Ready(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => {
                    tracing::debug!(error = %e, "host write failed");
                    return Err(());
                }
                Poll::Pending => return Ok(()),
            }
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
                        self.trace.host_out(&self.modem.host_output()[..n]);
                        self.tap.host_out(&self.modem.host_output()[..n]);
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
            // Its counters stay in the process-wide totals (they never go down).
            let last = crate::control::Totals {
                metrics: self.modem.metrics(),
                faults: self.net.faults_injected(),
            };
            reg.unregister(*id, last);
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

/// The next fault schedule SIGHUP brings. Once the sender is gone (the daemon keeps it
/// while it serves) the receiver is dropped, so a closed channel cannot spin the loop.
async fn next_schedule(reload: &mut Option<watch::Receiver<Schedule>>) -> Option<Schedule> {
    let Some(rx) = reload.as_mut() else {
        return std::future::pending().await;
    };
    match rx.changed().await {
        Ok(()) => Some(rx.borrow_and_update().clone()),
        Err(_) => {
            *reload = None;
            None
        }
    }
}

/// The next bytes from the host (empty at end of input): whatever is there, up to
/// [`HOST_READ_BATCH`] in several reads (a PTY hands out at most 4095 bytes per read,
/// and each batch costs the modem one pass instead of one per read). The buffer exists
/// only inside one poll, so a modem waiting for its host holds none.
async fn read_some<R: AsyncRead + Unpin>(reader: &mut R) -> std::io::Result<Vec<u8>> {
    std::future::poll_fn(|cx| {
        let mut buf = [0u8; HOST_READ_BATCH];
        let mut read = ReadBuf::new(&mut buf);
        loop {
            let before = read.filled().len();
            let room = read.remaining().min(HOST_READ);
            let mut part = read.take(room);
            match Pin::new(&mut *reader).poll_read(cx, &mut part) {
                Poll::Ready(Ok(())) => {
                    let n = part.filled().len();
                    // The whole buffer is initialised (`ReadBuf::new` over an array).
                    read.advance(n);
                    if n == 0 || read.remaining() == 0 {
                        return Poll::Ready(Ok(read.filled().to_vec()));
                    }
                }
                // Got something already: hand it over, the error comes again next time.
                Poll::Ready(Err(_)) | Poll::Pending if before > 0 => {
                    return Poll::Ready(Ok(read.filled().to_vec()));
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await
}

/// Writes some of `out` (`Some(n)`), or flushes when it is empty (`None`).
async fn write_or_flush<W: AsyncWrite + Unpin>(
    writer: &mut W,
    out: &[u8],
) -> std::io::Result<Option<usize>> {
    if out.is_empty() {
        writer.flush().await.map(|()| None)
    } else {
        writer.write(out).await.map(Some)
    }
}

/// The next DTR change, if a watcher is there.
async fn next_dtr(rx: Option<&mut mpsc::UnboundedReceiver<bool>>) -> Option<bool> {
    match rx {
        Some(rx) => rx.recv().await,
        None => None,
    }
}
