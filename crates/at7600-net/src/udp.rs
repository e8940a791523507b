//! UDP sockets: bound to a local port, datagrams both ways with their boundaries kept.

use crate::config::NetConfig;
use crate::conn::Cmd;
use crate::resolve::resolve_allowed;
use crate::task::TaskCtx;
use at7600_core::{NetEvent, OpenError};
use socket2::{Domain, Socket, Type};
use std::collections::VecDeque;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use tokio::net::UdpSocket;

/// Room for the largest datagram; cut to size after every receive.
const MAX_DATAGRAM: usize = 65535;

/// Binds a UDP socket and carries it until it is closed.
pub(crate) async fn run(
    mut ctx: TaskCtx,
    remote: Option<(String, u16)>,
    local_port: Option<u16>,
    dns: Option<[Ipv4Addr; 2]>,
) {
    // Commands that arrive while the name is looked up are kept for the socket.
    let mut early = Vec::new();
    let config = ctx.config.clone();
    let open = open(&config, remote, local_port, dns);
    tokio::pin!(open);
    let opened = loop {
        tokio::select! {
            opened = &mut open => break opened,
            cmd = ctx.cmds.recv() => match cmd {
                None => return,
                Some(Cmd::Close) => {
                    tracing::debug!(conn = %ctx.conn, "UDP open abandoned");
                    ctx.send(NetEvent::Closed { conn: ctx.conn });
                    return;
                }
                Some(cmd) => early.push(cmd),
            },
        }
    };
    match opened {
        Ok((socket, fixed, local_port)) => {
            let remote = fixed.unwrap_or(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
            ctx.send(NetEvent::Opened {
                conn: ctx.conn,
                remote,
                local_port,
            });
            let mut udp = Udp {
                socket,
                fixed,
                queue: VecDeque::new(),
                paused: false,
                pending: None,
            };
            for cmd in early {
                udp.command(&ctx, cmd);
            }
            udp.run(ctx).await;
        }
        Err(error) => {
            for cmd in early {
                if let Cmd::Data(d) | Cmd::Datagram(_, d) = cmd {
                    ctx.shared.release(d.len());
                }
            }
            ctx.send(NetEvent::OpenFailed {
                conn: ctx.conn,
                error,
            });
            ctx.finish_failed_open();
        }
    }
}

/// Resolves the remote, creates the socket, binds it and, with a fixed remote,
/// connects it.
///
/// - Without a remote the link takes datagrams from anyone, like a server, so it is
///   bound where servers listen ([`NetConfig::server_bind`], loopback by default).
/// - With a fixed remote the socket is connected: the kernel then delivers datagrams
///   from that remote only, so no other sender can pass for the peer (in transparent
///   mode nothing would tell them apart). It is bound to every address, so the route
///   to the remote picks the source, as for a TCP link.
///
/// Errors: a name that does not resolve is `Dns`; no socket (out of descriptors, say)
/// is `Socket`; a port in use is `Bind`.
async fn open(
    config: &NetConfig,
    remote: Option<(String, u16)>,
    local_port: Option<u16>,
    dns: Option<[Ipv4Addr; 2]>,
) -> Result<(UdpSocket, Option<SocketAddrV4>, u16), OpenError> {
    let fixed = match remote {
        Some((host, port)) => {
            let ip = resolve_allowed(&host, config, dns)
                .await
                .ok_or(OpenError::Dns)?;
            let remote = SocketAddrV4::new(ip, port);
            if let Err(why) = config.policy.check(remote) {
                tracing::info!(%remote, %why, "UDP remote refused by the destination policy");
                return Err(OpenError::Refused);
            }
            Some(remote)
        }
        None => None,
    };
    let bind_ip = if fixed.is_some() {
        Ipv4Addr::UNSPECIFIED
    } else {
        config.server_bind
    };
    let bind = SocketAddrV4::new(bind_ip, local_port.unwrap_or(0));
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(socket2::Protocol::UDP))
        .and_then(|s| s.set_nonblocking(true).map(|()| s))
        .map_err(|e| {
            tracing::warn!(error = %e, "cannot create a UDP socket");
            OpenError::Socket
        })?;
    socket.bind(&SocketAddr::V4(bind).into()).map_err(|e| {
        tracing::debug!(%bind, error = %e, "UDP bind failed");
        OpenError::Bind
    })?;
    if let Some(remote) = fixed {
        socket
            .connect(&SocketAddr::V4(remote).into())
            .map_err(|e| {
                tracing::debug!(%remote, error = %e, "UDP connect failed");
                OpenError::Socket
            })?;
    }
    let socket = UdpSocket::from_std(socket.into()).map_err(|e| {
        tracing::warn!(error = %e, "cannot register a UDP socket");
        OpenError::Socket
    })?;
    let local_port = socket.local_addr().map_err(|_| OpenError::Socket)?.port();
    Ok((socket, fixed, local_port))
}

struct Udp {
    socket: UdpSocket,
    fixed: Option<SocketAddrV4>,
    queue: VecDeque<(SocketAddrV4, Vec<u8>)>,
    paused: bool,
    pending: Option<(SocketAddrV4, Vec<u8>)>,
}

impl Udp {
    async fn run(mut self, mut ctx: TaskCtx) {
        let credit = ctx.events.credit().clone();
        loop {
            let want_read = !self.paused && self.pending.is_none();
            let want_credit = !self.paused && self.pending.is_some();
            let need = self.pending.as_ref().map_or(0, |(_, d)| d.len());
            let want_write = !self.queue.is_empty();
            tokio::select! {
                cmd = ctx.cmds.recv() => match cmd {
                    // The modem is gone: confirmed datagrams still go out, as on `Close`.
                    None | Some(Cmd::Close) => {
                        self.close(&mut ctx).await;
                        return;
                    }
                    Some(cmd) => self.command(&ctx, cmd),
                },
                ready = self.socket.readable(), if want_read => {
                    if ready.is_ok() {
                        self.read(&ctx);
                    }
                },
                permit = credit.acquire_many(u32::try_from(need).unwrap_or(u32::MAX)), if want_credit => {
                    if let (Ok(permit), Some((from, data))) = (permit, self.pending.take()) {
                        permit.forget();
                        ctx.events.send_paid(NetEvent::Datagram { conn: ctx.conn, from, data });
                    }
                },
                ready = self.socket.writable(), if want_write => {
                    if ready.is_ok() {
                        self.write(&ctx);
                    }
                },
            }
        }
    }

    fn command(&mut self, ctx: &TaskCtx, cmd: Cmd) {
        match cmd {
            Cmd::Data(data) => match self.fixed {
                Some(to) => self.queue.push_back((to, data)),
                // The handle refuses these; never expected here.
                None => ctx.shared.release(data.len()),
            },
            Cmd::Datagram(to, data) => self.queue.push_back((to, data)),
            Cmd::Pause => self.paused = true,
            Cmd::Resume => self.paused = false,
            // UDP has no acknowledgements: everything handed over counts as done.
            Cmd::QueryAck => ctx.send(NetEvent::AckStatus {
                conn: ctx.conn,
                acked: 0,
            }),
            Cmd::Close => {}
        }
    }

    fn read(&mut self, ctx: &TaskCtx) {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        match self.socket.try_recv_from(&mut buf) {
            Ok((n, SocketAddr::V4(from))) => {
                buf.truncate(n);
                buf.shrink_to_fit();
                self.pending = Some((from, buf));
            }
            Ok((_, from)) => tracing::debug!(conn = %ctx.conn, %from, "IPv6 datagram dropped"),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            // E.g. an ICMP error for an earlier send; UDP carries on.
            Err(e) => tracing::debug!(conn = %ctx.conn, error = %e, "UDP receive error"),
        }
    }

    fn write(&mut self, ctx: &TaskCtx) {
        let Some((to, data)) = self.queue.front() else {
            return;
        };
        match self.socket.try_send_to(data, SocketAddr::V4(*to)) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) => tracing::debug!(conn = %ctx.conn, %to, error = %e, "datagram dropped"),
            Ok(_) => {}
        }
        if let Some((_, data)) = self.queue.pop_front() {
            ctx.written(data.len());
        }
        if self.queue.is_empty() && self.queue.capacity() > 8 {
            self.queue.shrink_to_fit();
        }
    }

    async fn close(&mut self, ctx: &mut TaskCtx) {
        let limit = ctx.config.close_flush_timeout;
        let flush = async {
            while !self.queue.is_empty() {
                if self.socket.writable().await.is_err() {
                    break;
                }
                self.write(ctx);
            }
        };
        let _ = tokio::time::timeout(limit, flush).await;
        let dropped: usize = self.queue.drain(..).map(|(_, d)| d.len()).sum();
        ctx.shared.release(dropped);
        ctx.shared.set_dead();
        ctx.send(NetEvent::Closed { conn: ctx.conn });
    }
}
