//! The backend's face: one [`RealNetwork`] per process, one [`NetHandle`] per modem.

use crate::config::NetConfig;
use crate::conn::{Cmd, ConnEntry, Shared};
use crate::events::{self, EventTx, NetEvents};
use crate::resolve::resolve_allowed;
use crate::server::{self, Registration, ServerCtx};
use crate::task::TaskCtx;
use crate::{tcp, udp};
use at7600_core::{ConnId, Keepalive, NetCommand, NetEvent, Protocol, SendOutcome};
use std::collections::HashMap;
use std::net::{SocketAddr, SocketAddrV4};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpSocket;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// How much longer than [`NetConfig::close_flush_timeout`] [`RealNetwork::shutdown`]
/// waits: a connection's flush is bounded by that timeout, the rest is its shutdown.
const SHUTDOWN_MARGIN: Duration = Duration::from_secs(1);

/// The host's real network, shared by all modems of a process. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct RealNetwork {
    config: Arc<NetConfig>,
    /// Every task of every modem, so that shutdown can wait for their last flushes.
    tasks: TaskTracker,
}

impl RealNetwork {
    /// A backend with these settings. `read_credit` is raised to 64 KiB if lower, so that
    /// the largest datagram always fits.
    pub fn new(mut config: NetConfig) -> Self {
        config.read_credit = config.read_credit.max(64 * 1024);
        RealNetwork {
            config: Arc::new(config),
            tasks: TaskTracker::new(),
        }
    }

    /// Waits until every connection of the modems already ended (their [`NetHandle`]s
    /// dropped) has handed its queued bytes to the kernel and shut down, as `Close`
    /// does, or until [`NetConfig::close_flush_timeout`] (plus a second) has passed.
    /// Bytes a send confirmed are thus not lost when the process exits. Returns whether
    /// everything ended in time. Call it after the modems are gone, before exiting.
    pub async fn shutdown(&self) -> bool {
        self.tasks.close();
        let limit = self.config.close_flush_timeout + SHUTDOWN_MARGIN;
        let done = tokio::time::timeout(limit, self.tasks.wait()).await.is_ok();
        if !done {
            tracing::warn!(
                left = self.tasks.len(),
                "network tasks still flushing at shutdown; exiting anyway"
            );
        }
        self.tasks.reopen();
        done
    }

    /// The settings in force.
    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    /// The network of one new modem: the handle that carries out its commands and the
    /// stream of its events.
    ///
    /// # Panics
    /// Outside a tokio runtime (like `tokio::spawn`): the handle spawns its tasks on the
    /// runtime it was made in.
    pub fn modem(&self) -> (NetHandle, NetEvents) {
        let (events, rx) = events::channel(self.config.read_credit);
        let (register, registrations) = mpsc::unbounded_channel();
        let handle = NetHandle {
            config: self.config.clone(),
            runtime: Handle::current(),
            events,
            conns: HashMap::new(),
            servers: HashMap::new(),
            register,
            registrations,
            next_accept: Arc::new(AtomicU64::new(0)),
            tasks: self.tasks.clone(),
        };
        (handle, rx)
    }
}

/// Carries out one modem's [`NetCommand`]s on the host's network.
///
/// [`NetHandle::execute`] never blocks: it answers at once what it can (sends, attach)
/// and hands the rest to one task per connection or server. Dropping the handle closes
/// every connection and server of the modem: each connection first hands its queued
/// bytes to the kernel, as on `Close` (see [`RealNetwork::shutdown`]).
#[derive(Debug)]
pub struct NetHandle {
    config: Arc<NetConfig>,
    runtime: Handle,
    events: EventTx,
    conns: HashMap<ConnId, ConnEntry>,
    /// Dropping a server's sender stops it; its guard keeps its address among the
    /// listeners modems may not reach.
    servers: HashMap<u8, (oneshot::Sender<()>, crate::policy::ListenerGuard)>,
    register: mpsc::UnboundedSender<Registration>,
    registrations: mpsc::UnboundedReceiver<Registration>,
    next_accept: Arc<AtomicU64>,
    tasks: TaskTracker,
}

impl NetHandle {
    /// Carries out one command; its answers arrive on the modem's [`NetEvents`].
    ///
    /// `SendDone` is decided here, synchronously, so the outcomes of one connection's
    /// sends are always in issue order: `Accepted` when the bytes fit in the
    /// connection's send queue (at most [`NetConfig::send_queue_cap`] bytes not yet taken
    /// by the kernel), `Full` when they don't (nothing is taken), `Disconnected` when the
    /// connection is unknown, closed, or broken.
    pub fn execute(&mut self, cmd: NetCommand) {
        while let Ok((conn, entry)) = self.registrations.try_recv() {
            self.conns.insert(conn, entry);
        }
        match cmd {
            NetCommand::Attach => self.events.send(NetEvent::Attached {
                ip: self.config.modem_ip,
            }),
            NetCommand::Detach => self.events.send(NetEvent::Detached),
            NetCommand::Open {
                conn,
                protocol,
                remote,
                local_port,
                options,
                tls,
            } => {
                let shared = Arc::new(Shared::default());
                let (tx, rx) = mpsc::unbounded_channel();
                let udp_fixed_remote = match protocol {
                    Protocol::Tcp => None,
                    Protocol::Udp => Some(remote.is_some()),
                };
                let entry = ConnEntry {
                    tx,
                    shared: shared.clone(),
                    udp_fixed_remote,
                };
                if self.conns.insert(conn, entry).is_some() {
                    tracing::warn!(%conn, "Open for a connection that exists; the old one is dropped");
                }
                let task = TaskCtx::new(conn, self.events.clone(), shared, rx, self.config.clone());
                match (protocol, remote) {
                    (Protocol::Tcp, Some(remote)) => {
                        // The modem's span (if any) goes with its tasks, so their logs
                        // (a refused destination, say) name the modem.
                        let run = tcp::run_client(
                            task,
                            remote,
                            local_port,
                            options.retries,
                            options.keepalive,
                            options.dns,
                            tls,
                        )
                        .instrument(tracing::Span::current());
                        self.tasks.spawn_on(run, &self.runtime);
                    }
                    (Protocol::Tcp, None) => {
                        tracing::warn!(%conn, "TCP open without a remote");
                        self.conns.remove(&conn);
                        self.events.send(NetEvent::OpenFailed {
                            conn,
                            error: at7600_core::OpenError::Socket,
                        });
                    }
                    (Protocol::Udp, remote) => {
                        let run = udp::run(task, remote, local_port, options.dns)
                            .instrument(tracing::Span::current());
                        self.tasks.spawn_on(run, &self.runtime);
                    }
                }
            }
            NetCommand::Send { conn, data } => self.send(conn, None, data),
            NetCommand::SendTo { conn, to, data } => self.send(conn, Some(to), data),
            NetCommand::Close { conn } => {
                let delivered = self
                    .conns
                    .remove(&conn)
                    .is_some_and(|e| e.tx.send(Cmd::Close).is_ok());
                if !delivered {
                    // Unknown, or its task already ended (failed open): nothing to close.
                    self.events.send(NetEvent::Closed { conn });
                }
            }
            NetCommand::QueryAck { conn } => {
                if !self.forward(conn, Cmd::QueryAck) {
                    self.events.send(NetEvent::AckStatus { conn, acked: 0 });
                }
            }
            NetCommand::PauseRead { conn } => {
                self.forward(conn, Cmd::Pause);
            }
            NetCommand::ResumeRead { conn } => {
                self.forward(conn, Cmd::Resume);
            }
            NetCommand::Listen {
                server,
                port,
                backlog,
                keepalive,
            } => self.listen(server, port, backlog, keepalive),
            NetCommand::Unlisten { server } => {
                if self.servers.remove(&server).is_none() {
                    tracing::debug!(server, "Unlisten for a server that is not listening");
                }
            }
            NetCommand::Ping {
                id,
                addr,
                size,
                ttl,
                wait,
            } => {
                let events = self.events.clone();
                self.runtime.spawn(async move {
                    if let Some(ttl) = crate::ping::probe(addr, size, ttl, wait).await {
                        events.send(NetEvent::PingReply { id, ttl });
                    }
                });
            }
            NetCommand::Resolve {
                query,
                name,
                servers,
            } => {
                let events = self.events.clone();
                let config = self.config.clone();
                let lookup = async move {
                    let addr = resolve_allowed(&name, &config, servers).await;
                    events.send(NetEvent::Resolved { query, addr });
                }
                .instrument(tracing::Span::current());
                self.tasks.spawn_on(lookup, &self.runtime);
            }
        }
    }

    /// Takes a send into the connection's queue, or says why not.
    ///
    /// `SendDone` goes on the event channel *before* the bytes go to the connection's
    /// task: once the task has them, the peer may answer at once, and the answer's
    /// `Data` must never overtake the report of the send that caused it (the task runs
    /// on another thread, and this one may be preempted between the two steps).
    fn send(&mut self, conn: ConnId, to: Option<SocketAddrV4>, data: Vec<u8>) {
        let (outcome, admitted) = match self.admit(conn, to, data) {
            Ok(admitted) => (SendOutcome::Accepted, Some(admitted)),
            Err(outcome) => (outcome, None),
        };
        self.send_done(conn, outcome);
        let Some((cmd, len)) = admitted else {
            return;
        };
        let Some(entry) = self.conns.get(&conn) else {
            return;
        };
        if entry.tx.send(cmd).is_err() {
            // The task ended between the check and now: it was closing or broken, and
            // its `PeerClosed` or `Closed` tells the core so.
            tracing::debug!(%conn, "send raced with the connection's end; bytes dropped");
            entry.shared.release(len);
        }
    }

    /// Decides a send: the command for the task and its length when the bytes fit in
    /// the connection's queue (they are counted there), or the outcome that refuses it.
    fn admit(
        &self,
        conn: ConnId,
        to: Option<SocketAddrV4>,
        data: Vec<u8>,
    ) -> Result<(Cmd, usize), SendOutcome> {
        let Some(entry) = self.conns.get(&conn) else {
            tracing::debug!(%conn, "send on an unknown connection");
            return Err(SendOutcome::Disconnected);
        };
        let len = data.len();
        let cmd = match (to, entry.udp_fixed_remote) {
            (None, None | Some(true)) => Cmd::Data(data),
            (Some(to), Some(_)) => {
                if let Err(why) = self.config.policy.check(to) {
                    tracing::info!(%conn, %to, %why, "datagram refused by the destination policy");
                    return Err(SendOutcome::Disconnected);
                }
                Cmd::Datagram(to, data)
            }
            (None, Some(false)) => {
                tracing::warn!(%conn, "Send on a UDP socket without a fixed remote");
                return Err(SendOutcome::Disconnected);
            }
            (Some(_), None) => {
                tracing::warn!(%conn, "SendTo on a TCP connection");
                return Err(SendOutcome::Disconnected);
            }
        };
        if entry.shared.is_dead() || entry.tx.is_closed() {
            return Err(SendOutcome::Disconnected);
        }
        if !entry.shared.reserve(len, self.config.send_queue_cap) {
            return Err(SendOutcome::Full);
        }
        Ok((cmd, len))
    }

    /// Reports a send's outcome; after `Full`, owes the connection's `Writable`.
    ///
    /// `Writable` must come after this `SendDone` (the core puts the refused chunk back
    /// only then) and must not be lost if the queue drains meanwhile. So the flag is
    /// raised only once `SendDone` is on its way, and if the queue is already empty by
    /// then, the task will never write again to notice it: `Writable` goes out here.
    fn send_done(&self, conn: ConnId, outcome: SendOutcome) {
        use std::sync::atomic::Ordering;
        self.events.send(NetEvent::SendDone { conn, outcome });
        if outcome != SendOutcome::Full {
            return;
        }
        let Some(entry) = self.conns.get(&conn) else {
            return;
        };
        // SeqCst pairs with the task's release-then-check (`TaskCtx::written`): at least
        // one side sees the other's write, so `Writable` is sent, and the swap makes it once.
        entry.shared.full.store(true, Ordering::SeqCst);
        if entry.shared.queued.load(Ordering::SeqCst) == 0
            && entry.shared.full.swap(false, Ordering::SeqCst)
        {
            self.events.send(NetEvent::Writable { conn });
        }
    }

    /// Hands a command to a connection's task; false if there is none.
    fn forward(&self, conn: ConnId, cmd: Cmd) -> bool {
        self.conns
            .get(&conn)
            .is_some_and(|e| e.tx.send(cmd).is_ok())
    }

    fn listen(&mut self, server: u8, port: u16, backlog: u8, keepalive: Option<Keepalive>) {
        // A second Listen on the same index replaces the first.
        self.servers.remove(&server);
        let addr = SocketAddr::V4(SocketAddrV4::new(self.config.server_bind, port));
        let listener = {
            let _in_runtime = self.runtime.enter();
            TcpSocket::new_v4().and_then(|s| {
                // Lets a server restart while old connections sit in TIME_WAIT; Linux
                // still refuses a port that another socket listens on.
                s.set_reuseaddr(true)?;
                s.bind(addr)?;
                s.listen(u32::from(backlog.max(1)))
            })
        };
        match listener {
            Ok(listener) => {
                let (stop_tx, stop_rx) = oneshot::channel();
                let ctx = ServerCtx {
                    server,
                    events: self.events.clone(),
                    config: self.config.clone(),
                    next_accept: self.next_accept.clone(),
                    register: self.register.clone(),
                    tasks: self.tasks.clone(),
                    keepalive,
                };
                let own = self
                    .config
                    .policy
                    .own
                    .add(listener.local_addr().unwrap_or(addr));
                self.tasks
                    .spawn_on(server::run(ctx, listener, stop_rx), &self.runtime);
                self.servers.insert(server, (stop_tx, own));
                tracing::debug!(server, %addr, "listening");
                self.events.send(NetEvent::Listening { server });
            }
            Err(e) => {
                tracing::debug!(server, %addr, error = %e, "listen failed");
                self.events.send(NetEvent::ListenFailed { server });
            }
        }
    }
}
