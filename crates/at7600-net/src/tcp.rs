//! TCP connections: connecting (client links) and carrying bytes both ways (client links
//! and sockets accepted by a server).

use crate::config::NetConfig;
use crate::conn::{Cmd, SendQueue};
use crate::resolve::resolve_allowed;
use crate::sys;
use crate::task::TaskCtx;
use at7600_core::{NetEvent, OpenError};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use tokio::net::{TcpSocket, TcpStream};

/// Largest read handed to the core at once. The buffer is allocated per read and cut to
/// what arrived, so an idle connection holds no read buffer at all.
const READ_CHUNK: usize = 16 * 1024;

/// Opens a client link and then carries it until it is closed; with `tls`, a TLS
/// session over it (`crate::tls`).
pub(crate) async fn run_client(
    mut ctx: TaskCtx,
    remote: (String, u16),
    local_port: Option<u16>,
    syn_retries: u8,
    keepalive: Option<at7600_core::Keepalive>,
    dns: Option<[Ipv4Addr; 2]>,
    tls: Option<Box<at7600_core::TlsParams>>,
) {
    let mut early = Carrier::default();
    // Certificate, key and password problems are found before any traffic.
    let tls = match tls.map(|params| crate::tls::prepare(&params)) {
        None => None,
        Some(Ok(plan)) => Some(plan),
        Some(Err(why)) => {
            tracing::info!(conn = %ctx.conn, reason = %why, "TLS open refused: certificates");
            ctx.send(NetEvent::OpenFailed {
                conn: ctx.conn,
                error: OpenError::Certificates,
            });
            ctx.finish_failed_open();
            return;
        }
    };
    // The connect future lives in this block only: ended before the carrier runs, its
    // room in the task is shared with the carrier's instead of held for the link's life.
    let stream = {
        let connect = connect(ctx.config.clone(), remote, local_port, syn_retries, dns);
        tokio::pin!(connect);
        loop {
            tokio::select! {
                result = &mut connect => match result {
                    Ok(stream) => break stream,
                    Err(error) => {
                        tracing::debug!(conn = %ctx.conn, ?error, "open failed");
                        let dropped = early.queue.clear();
                        ctx.shared.release(dropped);
                        ctx.send(NetEvent::OpenFailed { conn: ctx.conn, error });
                        ctx.finish_failed_open();
                        return;
                    }
                },
                cmd = ctx.cmds.recv() => match cmd {
                    // The handle is gone: the modem ended.
                    None => return,
                    // The core gave up on the attempt (its open timeout).
                    Some(Cmd::Close) => {
                        tracing::debug!(conn = %ctx.conn, "open abandoned");
                        ctx.send(NetEvent::Closed { conn: ctx.conn });
                        return;
                    }
                    Some(Cmd::QueryAck) => ctx.send(NetEvent::AckStatus { conn: ctx.conn, acked: 0 }),
                    Some(other) => early.command(&mut ctx, other),
                },
            }
        }
    };
    // AT+CTCPKA, as set when the link was opened.
    if let Some(k) = keepalive {
        crate::keepalive::apply(&stream, &k);
    }
    let (remote, local_port) = match (stream.peer_addr(), stream.local_addr()) {
        (Ok(SocketAddr::V4(peer)), Ok(local)) => (peer, local.port()),
        (peer, local) => {
            tracing::warn!(conn = %ctx.conn, ?peer, ?local, "connected socket has no IPv4 addresses");
            ctx.send(NetEvent::OpenFailed {
                conn: ctx.conn,
                error: OpenError::Socket,
            });
            ctx.finish_failed_open();
            return;
        }
    };
    if let Some(plan) = tls {
        let early = crate::tls::session::Early {
            queue: early.queue,
            paused: early.paused,
        };
        // Boxed: a TLS session's state is large, and an unboxed branch would make every
        // plain link's task as large as a TLS one for its whole life.
        Box::pin(crate::tls::session::run(
            ctx, stream, plan, early, remote, local_port,
        ))
        .await;
        return;
    }
    tracing::debug!(conn = %ctx.conn, %remote, local_port, "opened");
    ctx.send(NetEvent::Opened {
        conn: ctx.conn,
        remote,
        local_port,
    });
    early.run(ctx, stream).await;
}

/// Carries an accepted socket until it is closed.
pub(crate) async fn run_accepted(ctx: TaskCtx, stream: TcpStream) {
    Carrier::default().run(ctx, stream).await;
}

async fn connect(
    config: Arc<NetConfig>,
    (host, port): (String, u16),
    local_port: Option<u16>,
    syn_retries: u8,
    dns: Option<[Ipv4Addr; 2]>,
) -> Result<TcpStream, OpenError> {
    let ip = resolve_allowed(&host, &config, dns)
        .await
        .ok_or(OpenError::Dns)?;
    if let Err(why) = config.policy.check(SocketAddrV4::new(ip, port)) {
        tracing::info!(%ip, port, %why, "TCP open refused by the destination policy");
        return Err(OpenError::Refused);
    }
    let socket = TcpSocket::new_v4().map_err(|e| {
        tracing::warn!(error = %e, "cannot create a TCP socket");
        OpenError::Socket
    })?;
    if let Err(e) = sys::set_syn_retries(&socket, syn_retries) {
        tracing::debug!(error = %e, "TCP_SYNCNT not applied");
    }
    if let Some(port) = local_port.filter(|&p| p != 0) {
        socket
            .bind(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::UNSPECIFIED,
                port,
            )))
            .map_err(|e| {
                tracing::debug!(port, error = %e, "local port bind failed");
                OpenError::Bind
            })?;
    }
    socket
        .connect(SocketAddr::V4(SocketAddrV4::new(ip, port)))
        .await
        .map_err(|e| {
            tracing::debug!(%ip, port, error = %e, "connect failed");
            match e.kind() {
                io::ErrorKind::AddrInUse | io::ErrorKind::AddrNotAvailable => OpenError::Bind,
                _ => OpenError::Refused,
            }
        })
}

/// One TCP connection's state while it carries bytes.
#[derive(Default)]
struct Carrier {
    queue: SendQueue,
    paused: bool,
    /// A read chunk waiting for read credit (or for `ResumeRead`).
    pending: Option<Vec<u8>>,
    read_done: bool,
    write_failed: bool,
    /// Bytes handed to the kernel since open.
    written: u64,
    /// The acknowledged count the core was last told of unasked (`Carrier::tell_acked`).
    acked_told: u64,
}

impl Carrier {
    async fn run(mut self, mut ctx: TaskCtx, stream: TcpStream) {
        let credit = ctx.events.credit().clone();
        loop {
            let want_read = !self.paused && !self.read_done && self.pending.is_none();
            let want_credit = !self.paused && self.pending.is_some();
            let need = self.pending.as_ref().map_or(0, |p| p.len());
            let want_write = !self.queue.is_empty() && !self.write_failed;
            tokio::select! {
                cmd = ctx.cmds.recv() => match cmd {
                    // The modem is gone (host hung up, shutdown): what its sends confirmed
                    // still goes out, as on `Close`.
                    None => {
                        tracing::debug!(conn = %ctx.conn, "modem gone, flushing and closing");
                        self.close(&mut ctx, stream).await;
                        return;
                    }
                    Some(Cmd::Close) => {
                        self.close(&mut ctx, stream).await;
                        return;
                    }
                    Some(Cmd::QueryAck) => self.report_ack(&ctx, &stream),
                    Some(other) => self.command(&mut ctx, other),
                },
                ready = stream.readable(), if want_read => match ready {
                    Ok(()) => self.read(&mut ctx, &stream),
                    Err(_) => {
                        self.read_done = true;
                        ctx.peer_closed();
                    }
                },
                permit = credit.acquire_many(u32::try_from(need).unwrap_or(u32::MAX)), if want_credit => {
                    if let (Ok(permit), Some(data)) = (permit, self.pending.take()) {
                        permit.forget();
                        ctx.events.send_paid(NetEvent::Data { conn: ctx.conn, data });
                    }
                },
                ready = stream.writable(), if want_write => match ready {
                    Ok(()) => self.write(&mut ctx, &stream),
                    Err(_) => self.fail_writes(&mut ctx),
                },
            }
        }
    }

    fn command(&mut self, ctx: &mut TaskCtx, cmd: Cmd) {
        match cmd {
            Cmd::Data(data) if !self.write_failed => self.queue.push(data),
            Cmd::Data(data) | Cmd::Datagram(_, data) => ctx.shared.release(data.len()),
            Cmd::Pause => self.paused = true,
            Cmd::Resume => self.paused = false,
            // Handled by the caller, which has the socket.
            Cmd::QueryAck | Cmd::Close => {}
        }
    }

    fn read(&mut self, ctx: &mut TaskCtx, stream: &TcpStream) {
        let mut buf = vec![0u8; READ_CHUNK];
        match stream.try_read(&mut buf) {
            Ok(0) => {
                self.read_done = true;
                ctx.peer_closed();
            }
            Ok(n) => {
                buf.truncate(n);
                if n < READ_CHUNK / 2 {
                    buf.shrink_to_fit();
                }
                self.tell_acked(ctx, stream);
                self.pending = Some(buf);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => {
                tracing::debug!(conn = %ctx.conn, error = %e, "read failed");
                self.read_done = true;
                ctx.peer_closed();
            }
        }
    }

    fn write(&mut self, ctx: &mut TaskCtx, stream: &TcpStream) {
        match stream.try_write(self.queue.front()) {
            Ok(n) => {
                self.queue.advance(n);
                ctx.written(n);
                self.written += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => {
                tracing::debug!(conn = %ctx.conn, error = %e, "write failed");
                self.fail_writes(ctx);
            }
        }
    }

    /// The connection broke while sending: what is queued can never be delivered, and
    /// further sends are refused. `PeerClosed` waits for the read side, though: bytes
    /// that reached the socket before the peer went away (a server that answers and
    /// closes while the client still writes) are still in its receive queue, and Linux
    /// hands them out before the EOF or the reset. They reach the core first.
    fn fail_writes(&mut self, ctx: &mut TaskCtx) {
        self.write_failed = true;
        ctx.discard(&mut self.queue);
    }

    /// Before received bytes go to the core: what the peer acknowledged, if that grew.
    /// A segment carries the ACK of everything its sender had received, and the kernel
    /// takes the ACK before it queues the bytes; so a reply's ACK is known when the reply
    /// is read, and told first, an `AT+CIPSENDMODE=1` report comes before the answer to
    /// its send. One ioctl per read, and only while sent bytes are unacknowledged.
    fn tell_acked(&mut self, ctx: &TaskCtx, stream: &TcpStream) {
        if self.written == self.acked_told {
            return;
        }
        let Ok(unacked) = sys::unacked_bytes(stream) else {
            return;
        };
        let acked = self.written.saturating_sub(unacked);
        if acked > self.acked_told {
            self.acked_told = acked;
            ctx.send(NetEvent::AckStatus {
                conn: ctx.conn,
                acked,
            });
        }
    }

    /// Acknowledged = handed to the kernel minus what the kernel still holds unacked.
    /// Bytes in our own queue were never handed over, so they are not in `written`.
    fn report_ack(&self, ctx: &TaskCtx, stream: &TcpStream) {
        let unacked = sys::unacked_bytes(stream).unwrap_or_else(|e| {
            tracing::debug!(conn = %ctx.conn, error = %e, "SIOCOUTQ failed");
            0
        });
        let acked = self.written.saturating_sub(unacked);
        ctx.send(NetEvent::AckStatus {
            conn: ctx.conn,
            acked,
        });
    }

    /// Flushes what is queued (bounded in time), shuts the socket down and reports
    /// `Closed`.
    async fn close(&mut self, ctx: &mut TaskCtx, stream: TcpStream) {
        let limit = ctx.config.close_flush_timeout;
        let flush = async {
            while !self.queue.is_empty() && !self.write_failed {
                if stream.writable().await.is_err() {
                    break;
                }
                self.write(ctx, &stream);
            }
        };
        if tokio::time::timeout(limit, flush).await.is_err() {
            tracing::debug!(conn = %ctx.conn, "close: peer did not take the queued bytes in time");
        }
        finish_close(ctx, &mut self.queue, stream);
    }
}

/// The end of a `Close` once the flush is over: what could not be written is dropped,
/// the socket is shut down without waiting for the peer, and `Closed` is reported.
pub(crate) fn finish_close(ctx: &TaskCtx, queue: &mut SendQueue, stream: TcpStream) {
    ctx.discard(queue);
    if let Err(e) = socket2::SockRef::from(&stream).shutdown(std::net::Shutdown::Write) {
        tracing::debug!(conn = %ctx.conn, error = %e, "shutdown failed");
    }
    drop(stream);
    tracing::debug!(conn = %ctx.conn, "closed");
    ctx.send(NetEvent::Closed { conn: ctx.conn });
}
