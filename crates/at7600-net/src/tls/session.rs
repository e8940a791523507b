//! One TLS session on the real network, from the moment TCP is up until it is closed.
//!
//! The handshake runs with tokio-rustls; afterwards the session is driven by hand on
//! the TCP socket, so that it follows the same rules as a TCP link's carrier:
//! - the socket is read only when the core reads (not paused, no decrypted chunk
//!   waiting for read credit, nothing decrypted left in rustls): while the core pauses,
//!   at most one TLS record's plaintext is held here, the kernel buffer fills and TCP's
//!   window closes on the server;
//! - plaintext from the core goes into rustls only when rustls has nothing left to
//!   write, so at most one chunk of ciphertext waits besides the send queue, which the
//!   handle bounds ([`crate::NetConfig::send_queue_cap`]);
//! - what the server sent before its close_notify, alert or FIN reaches the core before
//!   `PeerClosed`.

use super::Plan;
use crate::conn::{Cmd, SendQueue};
use crate::task::TaskCtx;
use at7600_core::{NetEvent, OpenError};
use rustls::ClientConnection;
use std::io::{self, Read, Write};
use std::net::SocketAddrV4;
use tokio::net::TcpStream;

/// Largest plaintext chunk handed to the core at once, and fed to rustls at once.
const CHUNK: usize = 16 * 1024;

/// The session's state before `Opened`: what the core asked for meanwhile.
pub(crate) struct Early {
    /// Bytes the core sent before the session was open (it normally sends none).
    pub(crate) queue: SendQueue,
    /// The core paused reading.
    pub(crate) paused: bool,
}

impl Early {
    fn command(&mut self, ctx: &mut TaskCtx, cmd: Cmd) {
        match cmd {
            Cmd::Data(data) => self.queue.push(data),
            Cmd::Datagram(_, data) => ctx.shared.release(data.len()),
            Cmd::Pause => self.paused = true,
            Cmd::Resume => self.paused = false,
            Cmd::QueryAck => ctx.send(NetEvent::AckStatus {
                conn: ctx.conn,
                acked: 0,
            }),
            // Handled by the caller.
            Cmd::Close => {}
        }
    }

    fn fail(mut self, ctx: TaskCtx, error: OpenError) {
        let dropped = self.queue.clear();
        ctx.shared.release(dropped);
        ctx.send(NetEvent::OpenFailed {
            conn: ctx.conn,
            error,
        });
        ctx.finish_failed_open();
    }
}

/// TCP is up to `remote`: says `Connected`, runs the handshake, and carries the session
/// until it is closed.
pub(crate) async fn run(
    mut ctx: TaskCtx,
    stream: TcpStream,
    plan: Plan,
    mut early: Early,
    remote: SocketAddrV4,
    local_port: u16,
) {
    ctx.send(NetEvent::Connected { conn: ctx.conn });
    let (config, name) = match plan {
        Plan::Handshake { config, name } => (config, name),
        Plan::Refuse(why) => {
            // No ClientHello: the connection just goes.
            tracing::info!(conn = %ctx.conn, %remote, reason = %why, "TLS handshake failed");
            drop(stream);
            early.fail(ctx, OpenError::Handshake);
            return;
        }
    };
    let handshake = tokio_rustls::TlsConnector::from(config).connect(name, stream);
    tokio::pin!(handshake);
    let tls = loop {
        tokio::select! {
            done = &mut handshake => match done {
                Ok(tls) => break tls,
                Err(e) => {
                    // The library's exact reason (ssl.md §14.4); the AT side says 15.
                    tracing::info!(conn = %ctx.conn, %remote, reason = %e, "TLS handshake failed");
                    early.fail(ctx, OpenError::Handshake);
                    return;
                }
            },
            cmd = ctx.cmds.recv() => match cmd {
                None => return,
                // The core's handshake timer (negotiatetime) ran out, or CCHCLOSE.
                Some(Cmd::Close) => {
                    tracing::debug!(conn = %ctx.conn, "TLS handshake abandoned");
                    ctx.send(NetEvent::Closed { conn: ctx.conn });
                    return;
                }
                Some(other) => early.command(&mut ctx, other),
            },
        }
    };
    let (stream, conn) = tls.into_inner();
    tracing::debug!(
        conn = %ctx.conn,
        %remote,
        version = ?conn.protocol_version(),
        suite = ?conn.negotiated_cipher_suite().map(|s| s.suite()),
        "TLS session open"
    );
    ctx.send(NetEvent::Opened {
        conn: ctx.conn,
        remote,
        local_port,
    });
    let mut carrier = Carrier {
        tls: conn,
        queue: early.queue,
        paused: early.paused,
        pending: None,
        // rustls may already hold records read with the last handshake flight.
        plain: 0,
        read_done: false,
        write_failed: false,
        written: 0,
    };
    carrier.process(&ctx);
    carrier.run(ctx, stream).await;
}

/// `io::Read`/`io::Write` on a tokio socket without waiting (`WouldBlock` when not
/// ready), for rustls's `read_tls`/`write_tls`.
struct Nonblocking<'a>(&'a TcpStream);

impl Read for Nonblocking<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl Write for Nonblocking<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An open TLS session.
struct Carrier {
    tls: ClientConnection,
    /// Plaintext from the core not yet given to rustls.
    queue: SendQueue,
    paused: bool,
    /// A decrypted chunk waiting for read credit (or for `ResumeRead`).
    pending: Option<Vec<u8>>,
    /// Decrypted bytes rustls still holds.
    plain: usize,
    /// The server is done sending (close_notify, fatal alert, FIN, reset).
    read_done: bool,
    write_failed: bool,
    /// Plaintext bytes given to rustls since open.
    written: u64,
}

impl Carrier {
    async fn run(mut self, mut ctx: TaskCtx, stream: TcpStream) {
        let credit = ctx.events.credit().clone();
        loop {
            if !self.paused && self.pending.is_none() {
                self.take_plaintext(&mut ctx);
            }
            self.feed(&ctx);
            let want_read =
                !self.paused && !self.read_done && self.pending.is_none() && self.plain == 0;
            let want_credit = !self.paused && self.pending.is_some();
            let need = self.pending.as_ref().map_or(0, Vec::len);
            let want_write = self.tls.wants_write() && !self.write_failed;
            tokio::select! {
                cmd = ctx.cmds.recv() => match cmd {
                    // The modem is gone: what its sends confirmed still goes out.
                    None | Some(Cmd::Close) => {
                        self.close(&mut ctx, stream).await;
                        return;
                    }
                    Some(Cmd::QueryAck) => self.report_ack(&ctx, &stream),
                    Some(Cmd::Data(data)) if !self.write_failed => self.queue.push(data),
                    Some(Cmd::Data(data) | Cmd::Datagram(_, data)) => ctx.shared.release(data.len()),
                    Some(Cmd::Pause) => self.paused = true,
                    Some(Cmd::Resume) => self.paused = false,
                },
                ready = stream.readable(), if want_read => match ready {
                    Ok(()) => self.read(&ctx, &stream),
                    Err(_) => self.read_done = true,
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

    /// Reads what the socket has into rustls and decrypts it.
    fn read(&mut self, ctx: &TaskCtx, stream: &TcpStream) {
        match self.tls.read_tls(&mut Nonblocking(stream)) {
            Ok(0) => {
                tracing::debug!(conn = %ctx.conn, "TLS: server closed TCP");
                self.read_done = true;
            }
            Ok(_) => self.process(ctx),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => {
                tracing::debug!(conn = %ctx.conn, error = %e, "TLS: read failed");
                self.read_done = true;
            }
        }
    }

    /// Lets rustls decrypt what it has read; notes what it holds and whether the
    /// server is done.
    fn process(&mut self, ctx: &TaskCtx) {
        match self.tls.process_new_packets() {
            Ok(state) => {
                self.plain = state.plaintext_bytes_to_read();
                if state.peer_has_closed() {
                    tracing::debug!(conn = %ctx.conn, "TLS: close_notify from the server");
                    self.read_done = true;
                }
            }
            Err(e) => {
                // A fatal alert from the server, or records that do not decrypt: the
                // session is over (ssl.md §11.2); rustls queued its own alert, which
                // goes out with the next write. Records decrypted before the bad one
                // are still in rustls, and go first: how much, rustls no longer says.
                tracing::info!(conn = %ctx.conn, reason = %e, "TLS session ended by an error");
                self.read_done = true;
                self.plain = CHUNK;
            }
        }
    }

    /// Moves decrypted bytes out of rustls into `pending`; once everything the server
    /// sent is out and it is done, reports `PeerClosed`.
    fn take_plaintext(&mut self, ctx: &mut TaskCtx) {
        if self.plain > 0 {
            let mut buf = vec![0u8; self.plain.min(CHUNK)];
            match self.tls.reader().read(&mut buf) {
                Ok(n) if n > 0 => {
                    buf.truncate(n);
                    // After an error the amount is unknown: keep reading until empty.
                    self.plain = match self.plain.saturating_sub(n) {
                        0 if self.read_done => CHUNK,
                        left => left,
                    };
                    self.pending = Some(buf);
                    return;
                }
                _ => self.plain = 0,
            }
        }
        if self.read_done {
            ctx.peer_closed();
        }
    }

    /// Gives queued plaintext to rustls once its previous records are written; false
    /// when nothing moved.
    fn feed(&mut self, ctx: &TaskCtx) -> bool {
        if self.write_failed || self.tls.wants_write() || self.queue.is_empty() {
            return false;
        }
        let front = self.queue.front();
        let take = &front[..front.len().min(CHUNK)];
        match self.tls.writer().write(take) {
            Ok(n) => {
                self.queue.advance(n);
                ctx.written(n);
                self.written += n as u64;
                n > 0
            }
            Err(e) => {
                tracing::debug!(conn = %ctx.conn, error = %e, "TLS: plaintext not taken");
                false
            }
        }
    }

    /// Writes the records rustls has ready.
    fn write(&mut self, ctx: &mut TaskCtx, stream: &TcpStream) {
        match self.tls.write_tls(&mut Nonblocking(stream)) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => {
                tracing::debug!(conn = %ctx.conn, error = %e, "TLS: write failed");
                self.fail_writes(ctx);
            }
        }
    }

    /// As for TCP: queued bytes can never be delivered, further sends are refused, and
    /// `PeerClosed` waits for the read side.
    fn fail_writes(&mut self, ctx: &mut TaskCtx) {
        self.write_failed = true;
        ctx.discard(&mut self.queue);
    }

    /// Plaintext given to rustls, less what the kernel still holds unacknowledged (in
    /// ciphertext bytes: an estimate that is exact whenever everything is acknowledged).
    fn report_ack(&self, ctx: &TaskCtx, stream: &TcpStream) {
        let unacked = crate::sys::unacked_bytes(stream).unwrap_or(0);
        let acked = if unacked == 0 && !self.tls.wants_write() {
            self.written
        } else {
            self.written.saturating_sub(unacked)
        };
        ctx.send(NetEvent::AckStatus {
            conn: ctx.conn,
            acked,
        });
    }

    /// Flushes what is queued through TLS (bounded in time), sends close_notify, shuts
    /// the socket down without waiting for the server, and reports `Closed`.
    async fn close(&mut self, ctx: &mut TaskCtx, stream: TcpStream) {
        let limit = ctx.config.close_flush_timeout;
        let flush = async {
            let mut notified = false;
            while !self.write_failed {
                let fed = self.feed(ctx);
                if !self.tls.wants_write() {
                    if fed {
                        continue;
                    }
                    if notified {
                        break;
                    }
                    self.tls.send_close_notify();
                    notified = true;
                    continue;
                }
                if stream.writable().await.is_err() {
                    break;
                }
                self.write(ctx, &stream);
            }
        };
        if tokio::time::timeout(limit, flush).await.is_err() {
            tracing::debug!(conn = %ctx.conn, "close: server did not take the queued bytes in time");
        }
        crate::tcp::finish_close(ctx, &mut self.queue, stream);
    }
}
