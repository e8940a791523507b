//! The one task that owns the serial line: it writes commands one at a time, splits
//! the output into frames, hands each response to its command and each URC to the link
//! or server it is about. It also reads the links' buffers (`AT+CIPRXGET=2`) on its own
//! initiative and runs the `+++`/`ATO` dance around commands in transparent mode.

use crate::config::Config;
use crate::error::CloseReason;
use crate::parse::{Frame, Parser};
use crate::state::{Phase, Shared, LINKS, SESSIONS};
use crate::urc::{final_code, parse_urc, Final, Urc};
use std::collections::VecDeque;
use std::net::SocketAddrV4;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep_until, Instant};

/// A response line of the command in flight that would otherwise look like a URC.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Claim {
    /// `+NETOPEN:` lines.
    NetOpen,
    /// `+NETCLOSE:` lines.
    NetClose,
    /// `+CIPOPEN: <n>,...`
    CipOpen(u8),
    /// `+CIPCLOSE: <n>,...`
    CipClose(u8),
    /// `+SERVERSTOP: <i>,...`
    ServerStop(u8),
    /// `+CCHSTART: <err>`
    CchStart,
    /// `+CCHSTOP: <err>`
    CchStop,
    /// `+CCHOPEN: <s>,<err>`
    CchOpen(u8),
    /// `+CCHSEND: <s>,<err>`
    CchSend(u8),
    /// `+CCHCLOSE: <s>,<err>`
    CchClose(u8),
    /// `+CCHRECV: <s>,<err>`: the trailer (or refusal) of `AT+CCHRECV=<s>,...`.
    CchRecv(u8),
}

impl Claim {
    fn owns(self, urc: &Urc) -> bool {
        matches!(
            (self, urc),
            (Claim::NetOpen, Urc::NetOpen(_)) | (Claim::NetClose, Urc::NetClose(_))
        ) || matches!((self, urc), (Claim::CipOpen(a), Urc::CipOpen { link, .. }) if a == *link)
            || matches!((self, urc), (Claim::CipClose(a), Urc::CipClose { link, .. }) if a == *link)
            || matches!((self, urc), (Claim::ServerStop(a), Urc::ServerStop { index, .. }) if a == *index)
            || matches!(
                (self, urc),
                (Claim::CchStart, Urc::CchStart(_)) | (Claim::CchStop, Urc::CchStop(_))
            )
            || matches!((self, urc), (Claim::CchOpen(a), Urc::CchOpen { session, .. }) if a == *session)
            || matches!((self, urc), (Claim::CchSend(a), Urc::CchSend { session, .. }) if a == *session)
            || matches!((self, urc), (Claim::CchClose(a), Urc::CchClose { session, .. }) if a == *session)
            || matches!((self, urc), (Claim::CchRecv(a), Urc::CchRecv { session, .. }) if a == *session)
    }
}

/// One command for the module.
pub struct Request {
    /// The command line, without `\r`.
    pub line: String,
    /// Bytes to write after the `>` prompt.
    pub payload: Option<Vec<u8>>,
    /// URC-shaped lines that belong to this response.
    pub claim: Option<Claim>,
    /// After `OK`, the URC that completes the operation (unless the response already
    /// carried it).
    pub then: Option<Claim>,
    /// For `+CIPSEND` reports after `OK`.
    pub then_send: Option<u8>,
    /// With `then`: the response goes on after `OK` up to that line (`AT+CCHRECV`'s
    /// data block), so the line stays busy until it came.
    pub hold: bool,
    /// Longest wait for the final result code.
    pub timeout: Duration,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Reply>,
}

/// A command's answer.
#[derive(Debug, Default)]
pub struct Reply {
    /// Information lines.
    pub lines: Vec<String>,
    /// Raw payload (`AT+CIPRXGET=2`).
    pub payload: Option<Vec<u8>>,
    /// The final result code; `None` when the driver gave up (timeout or line closed).
    pub fin: Option<Final>,
    /// The URC that completed the operation after `OK`.
    pub urc: Option<Urc>,
    /// The line failed or closed before the answer.
    pub line_closed: bool,
}

/// Commands the driver issues by itself.
#[derive(Clone, Copy, Debug)]
enum Internal {
    /// `AT+CIPRXGET=2,<n>,1500`
    Read(u8),
    /// `AT+CIPRXGET=4,<n>`
    Query(u8),
    /// `ATO`
    Resume,
    /// `AT+CCHRECV=<s>,2048`
    CchRead(u8),
    /// `AT+CCHRECV?`
    CchQuery,
}

/// What one `AT+CCHRECV` asks for: the most the command serves (ssl.md §2).
const CCH_READ_MAX: usize = 2048;

struct InFlight {
    req: Request,
    internal: Option<Internal>,
    reply: Reply,
    deadline: Instant,
}

/// Where the line is in transparent mode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Command,
    Data,
    /// Silence before `+++`, until the instant.
    GuardBefore(Instant),
    /// `+++` sent; waiting for `OK` until the instant.
    Escaped(Instant),
}

/// The handle the API side uses.
pub struct DriverHandle {
    /// Commands.
    pub tx: mpsc::UnboundedSender<Request>,
    /// Transparent-mode bytes to send.
    pub raw_tx: mpsc::UnboundedSender<Vec<u8>>,
}

/// Starts the driver task on `io`.
pub fn spawn<IO>(io: IO, config: Config, shared: Arc<Shared>) -> DriverHandle
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let (tx, rx) = mpsc::unbounded_channel();
    let (raw_tx, raw_rx) = mpsc::unbounded_channel();
    let (reader, writer) = tokio::io::split(io);
    let driver = Driver {
        reader,
        writer,
        config,
        shared,
        parser: Parser::new(),
        rx,
        raw_rx,
        queue: VecDeque::new(),
        internal: VecDeque::new(),
        current: None,
        waiters: Vec::new(),
        send_waiters: Vec::new(),
        mode: Mode::Command,
        last_was_internal: false,
        payload_link: None,
        recv_from: None,
        payload_session: None,
        cch_got: 0,
        cch_query_queued: false,
        requests_open: true,
    };
    tokio::spawn(driver.run());
    DriverHandle { tx, raw_tx }
}

struct Driver<IO> {
    reader: ReadHalf<IO>,
    writer: WriteHalf<IO>,
    config: Config,
    shared: Arc<Shared>,
    parser: Parser,
    rx: mpsc::UnboundedReceiver<Request>,
    raw_rx: mpsc::UnboundedReceiver<Vec<u8>>,
    queue: VecDeque<Request>,
    internal: VecDeque<Internal>,
    current: Option<InFlight>,
    /// Operations waiting for their URC after `OK`.
    waiters: Vec<(Claim, Request, Reply)>,
    /// `AT+CIPSEND`s waiting for their `+CIPSEND` report, per link in order.
    send_waiters: Vec<(u8, Request, Reply)>,
    mode: Mode,
    last_was_internal: bool,
    /// Link of the direct-push payload announced by `+RECEIVE`.
    payload_link: Option<u8>,
    recv_from: Option<SocketAddrV4>,
    /// SSL session of the payload announced by `+CCHRECV: DATA`.
    payload_session: Option<u8>,
    /// Bytes the `AT+CCHRECV` in flight has delivered so far.
    cch_got: usize,
    /// An `AT+CCHRECV?` is queued or running.
    cch_query_queued: bool,
    requests_open: bool,
}

impl<IO: AsyncRead + AsyncWrite + Send + 'static> Driver<IO> {
    async fn run(mut self) {
        let mut buf = vec![0u8; 4096];
        let mut poll = tokio::time::interval(self.config.poll_interval);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let far = Duration::from_secs(86_400);
        loop {
            if let Err(e) = self.start_next().await {
                tracing::debug!(error = %e, "write to the line failed");
                break;
            }
            if !self.requests_open && self.current.is_none() && self.queue.is_empty() {
                break;
            }
            let deadline = match (&self.current, self.mode) {
                (_, Mode::GuardBefore(t)) | (_, Mode::Escaped(t)) => t,
                (Some(c), _) => c.deadline,
                (None, _) => Instant::now() + far,
            };
            let holds_raw = self.parser.holds_raw();
            let data_mode = self.mode == Mode::Data;
            tokio::select! {
                read = self.reader.read(&mut buf) => match read {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        tracing::trace!(bytes = %buf[..n].escape_ascii(), "from the module");
                        self.parser.feed(&buf[..n]);
                        if let Err(e) = self.drain_frames().await {
                            tracing::debug!(error = %e, "write to the line failed");
                            break;
                        }
                    }
                },
                req = self.rx.recv(), if self.requests_open => match req {
                    Some(req) => self.queue.push_back(req),
                    None => self.requests_open = false,
                },
                Some(data) = self.raw_rx.recv(), if data_mode => {
                    if self.writer.write_all(&data).await.is_err() { break; }
                    let _ = self.writer.flush().await;
                }
                _ = sleep_until(deadline) => {
                    if let Err(e) = self.on_deadline().await {
                        tracing::debug!(error = %e, "write to the line failed");
                        break;
                    }
                }
                _ = self.shared.kick.notified() => self.schedule_reads(),
                _ = poll.tick() => self.poll_links(),
                _ = tokio::time::sleep(Duration::from_millis(30)), if holds_raw => {
                    if let Some(Frame::Raw(data)) = self.parser.flush_raw() {
                        self.deliver_raw(data);
                    }
                }
            }
        }
        self.shut_down();
    }

    /// Writes the next command if the line is free.
    async fn start_next(&mut self) -> std::io::Result<()> {
        if self.current.is_some() {
            return Ok(());
        }
        match self.mode {
            Mode::Data => {
                if !self.queue.is_empty() {
                    // A command while in data mode: escape first.
                    self.mode = Mode::GuardBefore(Instant::now() + self.config.escape_guard);
                }
                return Ok(());
            }
            Mode::GuardBefore(_) | Mode::Escaped(_) => return Ok(()),
            Mode::Command => {}
        }
        self.drop_stale_reads();
        let take_internal =
            !self.internal.is_empty() && (self.queue.is_empty() || !self.last_was_internal);
        let (req, internal) = if take_internal {
            let Some(int) = self.internal.pop_front() else {
                return Ok(());
            };
            (self.internal_request(int), Some(int))
        } else if let Some(req) = self.queue.pop_front() {
            (req, None)
        } else if self.transparent_paused() {
            (
                self.internal_request(Internal::Resume),
                Some(Internal::Resume),
            )
        } else {
            return Ok(());
        };
        self.last_was_internal = internal.is_some();
        if let Some(Internal::CchRead(_)) = internal {
            // Count only this read's frames (automatic-mode pushes are no part of it).
            self.cch_got = 0;
        }
        tracing::trace!(line = %req.line, "command");
        let mut bytes = req.line.clone().into_bytes();
        bytes.push(b'\r');
        if req.payload.is_some() {
            // The module swallows one `\n` after a command's `\r`, even once the
            // payload has begun (clarifications §1): send it now, so that a payload
            // starting with `\n` keeps its first byte.
            bytes.push(b'\n');
        }
        self.current = Some(InFlight {
            deadline: Instant::now() + req.timeout,
            req,
            internal,
            reply: Reply::default(),
        });
        self.writer.write_all(&bytes).await?;
        self.writer.flush().await
    }

    /// Forgets queued `AT+CCHRECV` reads of sessions that ended meanwhile (the service
    /// stopped, `AT+CCHSTOP` closed them): the module has nothing for them any more.
    fn drop_stale_reads(&mut self) {
        let mut st = self.shared.lock();
        self.internal.retain(|int| {
            let Internal::CchRead(s) = *int else {
                return true;
            };
            let Some(l) = st.sessions.get_mut(usize::from(s)) else {
                return false;
            };
            let live = l.used && matches!(l.phase, Phase::Open | Phase::RemoteClosed);
            if !live {
                l.read_queued = false;
                l.wake();
            }
            live
        });
    }

    /// The transparent link waits in command mode for `ATO`.
    fn transparent_paused(&self) -> bool {
        let st = self.shared.lock();
        st.transparent.active && !st.transparent.closed && self.internal.is_empty()
    }

    fn internal_request(&self, int: Internal) -> Request {
        let line = match int {
            Internal::Read(n) => format!("AT+CIPRXGET=2,{n},1500"),
            Internal::Query(n) => format!("AT+CIPRXGET=4,{n}"),
            Internal::Resume => "ATO".to_string(),
            Internal::CchRead(s) => format!("AT+CCHRECV={s},{CCH_READ_MAX}"),
            Internal::CchQuery => "AT+CCHRECV?".to_string(),
        };
        // A read's data block ends with its `+CCHRECV: <s>,<err>` trailer.
        let (claim, hold) = match int {
            Internal::CchRead(s) => (Some(Claim::CchRecv(s)), true),
            _ => (None, false),
        };
        Request {
            line,
            payload: None,
            claim,
            then: claim,
            hold,
            then_send: None,
            timeout: self.config.command_timeout,
            reply: oneshot::channel().0,
        }
    }

    async fn on_deadline(&mut self) -> std::io::Result<()> {
        match self.mode {
            Mode::GuardBefore(_) => {
                self.writer.write_all(b"+++").await?;
                self.writer.flush().await?;
                self.parser.set_escaping();
                let wait = self.config.escape_guard + self.config.command_timeout;
                self.mode = Mode::Escaped(Instant::now() + wait);
                return Ok(());
            }
            Mode::Escaped(_) => {
                // No `OK` after `+++`: give up on the queued commands.
                tracing::warn!("no OK after +++");
                self.mode = Mode::Data;
                for req in self.queue.drain(..) {
                    let _ = req.reply.send(Reply::default());
                }
                return Ok(());
            }
            _ => {}
        }
        if let Some(cur) = self.current.take() {
            if cur.deadline <= Instant::now() {
                tracing::warn!(line = %cur.req.line, "command timed out");
                self.finish_internal(&cur, None);
                let _ = cur.req.reply.send(cur.reply);
            } else {
                self.current = Some(cur);
            }
        }
        Ok(())
    }

    async fn drain_frames(&mut self) -> std::io::Result<()> {
        while let Some(frame) = self.parser.next_frame() {
            match frame {
                Frame::Raw(data) => self.deliver_raw(data),
                Frame::Prompt => {
                    let payload = self.current.as_mut().and_then(|c| c.req.payload.take());
                    tracing::trace!(len = payload.as_ref().map(Vec::len), "prompt");
                    if let Some(payload) = payload {
                        self.writer.write_all(&payload).await?;
                        self.writer.flush().await?;
                    }
                }
                Frame::Payload(data) => {
                    if let Some(session) = self.payload_session.take() {
                        self.push_session(session, data);
                    } else if let Some(link) = self.payload_link.take() {
                        let from = self.recv_from.take();
                        self.push_rx(link, from, data);
                    } else if let Some(cur) = self.current.as_mut() {
                        cur.reply.payload = Some(data);
                    }
                }
                Frame::Line(line) => self.on_line(line),
            }
        }
        Ok(())
    }

    fn on_line(&mut self, line: String) {
        if let Mode::Escaped(_) = self.mode {
            if line == "OK" {
                self.mode = Mode::Command;
                return;
            }
        }
        let urc = parse_urc(&line);
        if let Some(cur) = self.current.as_mut() {
            let claimed = match (&urc, cur.req.claim) {
                (Some(u), Some(c)) => c.owns(u),
                _ => false,
            };
            if claimed && cur.reply.fin.is_some() {
                // The trailer of a response held open after its `OK`.
                cur.reply.urc = urc;
                if let Some(cur) = self.current.take() {
                    self.finish_internal(&cur, Some(&cur.reply));
                    let _ = cur.req.reply.send(cur.reply);
                }
                return;
            }
            if urc.is_none() || claimed {
                if let Some(fin) = final_code(&line) {
                    self.finish(fin);
                } else if line != cur.req.line {
                    // (A line equal to the command is its echo, before ATE0.)
                    cur.reply.lines.push(line);
                }
                return;
            }
        }
        match urc {
            Some(urc) => self.on_urc(urc),
            None => tracing::debug!(%line, "unexpected line"),
        }
    }

    fn finish(&mut self, fin: Final) {
        let Some(mut cur) = self.current.take() else {
            return;
        };
        if fin == Final::Ok && cur.req.hold && cur.req.then.is_some() && cur.reply.fin.is_none() {
            // More of the response follows; the line stays busy until its last line.
            cur.reply.fin = Some(fin);
            self.current = Some(cur);
            return;
        }
        if fin == Final::Connect {
            self.parser.set_raw();
            self.mode = Mode::Data;
            self.shared.lock().transparent.active = true;
        }
        self.finish_internal(&cur, Some(&cur.reply));
        let ok = fin == Final::Ok;
        cur.reply.fin = Some(fin);
        if ok {
            if let Some(link) = cur.req.then_send {
                self.send_waiters.push((link, cur.req, cur.reply));
                return;
            }
            if let Some(claim) = cur.req.then {
                let done = cur
                    .reply
                    .lines
                    .iter()
                    .any(|l| parse_urc(l).is_some_and(|u| claim.owns(&u)));
                if !done {
                    self.waiters.push((claim, cur.req, cur.reply));
                    return;
                }
            }
        }
        let _ = cur.req.reply.send(cur.reply);
    }

    /// Bookkeeping when one of the driver's own commands ends (`reply` is `None` on a
    /// timeout).
    fn finish_internal(&mut self, cur: &InFlight, reply: Option<&Reply>) {
        let Some(int) = cur.internal else {
            return;
        };
        match int {
            Internal::Read(n) => {
                let rest = reply.and_then(|r| {
                    r.lines
                        .iter()
                        .find_map(|l| l.strip_prefix("+CIPRXGET: 2,"))
                        .and_then(|v| v.split(',').nth(2))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                });
                let data = reply.and_then(|r| r.payload.clone());
                {
                    let mut st = self.shared.lock();
                    let l = &mut st.links[usize::from(n)];
                    l.read_queued = false;
                    l.in_module = rest.unwrap_or(0) > 0;
                    if data.is_none() {
                        l.wake();
                    }
                }
                if let Some(data) = data {
                    self.push_rx(n, None, data);
                }
                self.schedule_reads();
            }
            Internal::Query(n) => {
                let rest = reply.and_then(|r| {
                    r.lines
                        .iter()
                        .find_map(|l| l.strip_prefix("+CIPRXGET: 4,"))
                        .and_then(|v| v.split(',').nth(1))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                });
                {
                    let mut st = self.shared.lock();
                    let l = &mut st.links[usize::from(n)];
                    l.read_queued = false;
                    if rest.unwrap_or(0) > 0 {
                        l.in_module = true;
                    }
                    l.wake();
                }
                self.schedule_reads();
            }
            Internal::Resume => {}
            Internal::CchRead(s) => {
                let ok = reply.is_some_and(|r| r.fin == Some(Final::Ok));
                let got = std::mem::take(&mut self.cch_got);
                if let Some(l) = self.shared.lock().sessions.get_mut(usize::from(s)) {
                    l.read_queued = false;
                    // A read served in full may have left more in the cache, and then
                    // no `+CCHEVENT` announces it; one served short emptied it. A
                    // refusal (11, or 4 once the server closed) means nothing is left.
                    l.in_module = ok && got >= CCH_READ_MAX;
                    l.wake();
                }
                self.schedule_reads();
            }
            Internal::CchQuery => {
                self.cch_query_queued = false;
                // `+CCHRECV: LEN,<cached0>,<cached1>`
                let cached: Vec<usize> = reply
                    .and_then(|r| {
                        r.lines
                            .iter()
                            .find_map(|l| l.strip_prefix("+CCHRECV: LEN,"))
                    })
                    .map(|v| {
                        v.split(',')
                            .map(|n| n.trim().parse().unwrap_or(0))
                            .collect()
                    })
                    .unwrap_or_default();
                {
                    let mut st = self.shared.lock();
                    for (l, n) in st
                        .sessions
                        .iter_mut()
                        .zip(cached.iter().chain(std::iter::repeat(&0)))
                    {
                        if l.used && l.manual && *n > 0 {
                            l.in_module = true;
                        }
                        l.wake();
                    }
                }
                self.schedule_reads();
            }
        }
    }

    fn on_urc(&mut self, urc: Urc) {
        tracing::trace!(?urc, "urc");
        match urc {
            Urc::RxData(n) => {
                if let Some(l) = self.shared.lock().links.get_mut(usize::from(n)) {
                    l.in_module = true;
                }
                self.schedule_reads();
            }
            Urc::CipSend { link, .. } => {
                if let Some(i) = self.send_waiters.iter().position(|(l, _, _)| *l == link) {
                    let (_, req, mut reply) = self.send_waiters.remove(i);
                    reply.urc = Some(urc);
                    let _ = req.reply.send(reply);
                }
            }
            Urc::IpClose { link, reason } => {
                {
                    let mut st = self.shared.lock();
                    let Some(l) = st.links.get_mut(usize::from(link)) else {
                        return;
                    };
                    l.phase = match CloseReason::from_code(reason) {
                        CloseReason::Remote => Phase::RemoteClosed,
                        r => Phase::Failed(r),
                    };
                    l.wake();
                    // The module keeps what it buffered: make sure it is read out.
                    if self.config.buffer_mode && l.phase == Phase::RemoteClosed {
                        l.in_module = true;
                    }
                }
                self.fail_send_waiters(Some(link));
                self.schedule_reads();
            }
            Urc::NetworkLost => {
                let mut st = self.shared.lock();
                for l in st.links.iter_mut().filter(|l| l.used) {
                    l.phase = Phase::NetworkLost;
                    l.in_module = false;
                    l.wake();
                }
                drop(st);
                self.fail_send_waiters(None);
            }
            Urc::Client { link, server, peer } => {
                let mut st = self.shared.lock();
                let sender = st.servers.get(usize::from(server)).and_then(|s| s.clone());
                if let Some(l) = st.links.get_mut(usize::from(link)) {
                    *l = crate::state::Link {
                        used: true,
                        phase: Phase::Open,
                        ..Default::default()
                    };
                }
                drop(st);
                let delivered = sender.is_some_and(|s| s.send((link, peer)).is_ok());
                if !delivered {
                    tracing::debug!(link, server, "client for a server nobody listens on");
                }
            }
            Urc::RecvFrom(addr) => self.recv_from = Some(addr),
            Urc::Receive(link) => self.payload_link = Some(link),
            Urc::Closed => {
                let mut st = self.shared.lock();
                st.transparent.closed = true;
                if let Some(w) = st.transparent.reader.take() {
                    w.wake();
                }
                if self.mode == Mode::Data {
                    self.mode = Mode::Command;
                }
            }
            Urc::CchEvent(s) => {
                if let Some(l) = self.shared.lock().sessions.get_mut(usize::from(s)) {
                    l.in_module = l.used && l.manual;
                }
                self.schedule_reads();
            }
            Urc::CchData { session, len } => {
                self.payload_session = Some(session);
                self.cch_got += len;
            }
            Urc::CchPeerClosed(s) => {
                if let Some(l) = self.shared.lock().sessions.get_mut(usize::from(s)) {
                    if l.phase == Phase::Open {
                        l.phase = Phase::RemoteClosed;
                    }
                    // The cache stays readable after the server closed (§10.2).
                    l.in_module = l.used && l.manual;
                    l.wake();
                }
                self.fail_waiters(Claim::CchSend(s));
                self.schedule_reads();
            }
            Urc::CchServiceStopped => {
                let mut st = self.shared.lock();
                st.cch_started = false;
                for l in st.sessions.iter_mut().filter(|l| l.used) {
                    l.phase = Phase::NetworkLost;
                    l.in_module = false;
                    l.wake();
                }
                drop(st);
                for s in 0..SESSIONS {
                    if let Ok(s) = u8::try_from(s) {
                        self.fail_waiters(Claim::CchSend(s));
                        self.fail_waiters(Claim::CchOpen(s));
                    }
                }
            }
            other => {
                if let Urc::CipOpen { link, err: 0 } = other {
                    if let Some(l) = self.shared.lock().links.get_mut(usize::from(link)) {
                        l.phase = Phase::Open;
                    }
                }
                // Open before any later URC about the session (a server that closes
                // at once) is handled, whenever the opener's task runs.
                if let Urc::CchOpen { session, err: 0 } = other {
                    if let Some(l) = self.shared.lock().sessions.get_mut(usize::from(session)) {
                        if l.used && l.phase == Phase::Idle {
                            l.phase = Phase::Open;
                        }
                    }
                }
                if let Some(i) = self.waiters.iter().position(|(c, _, _)| c.owns(&other)) {
                    let (_, req, mut reply) = self.waiters.remove(i);
                    reply.urc = Some(other);
                    let _ = req.reply.send(reply);
                } else {
                    self.unclaimed_cch(&other);
                }
            }
        }
    }

    /// An SSL set URC no command waits for: the session or service state it tells.
    fn unclaimed_cch(&mut self, urc: &Urc) {
        let mut st = self.shared.lock();
        match *urc {
            Urc::CchStart(0) => st.cch_started = true,
            Urc::CchStop(_) => st.cch_started = false,
            Urc::CchSend { session, err } if err != 0 => {
                // A failed send nobody waits for any more: its bytes are lost, so
                // the stream must not go on as if they arrived.
                if let Some(l) = st.sessions.get_mut(usize::from(session)) {
                    l.phase = match err {
                        4 => Phase::RemoteClosed,
                        9 => Phase::NetworkLost,
                        _ => Phase::Failed(CloseReason::Other(err)),
                    };
                    l.wake();
                }
            }
            Urc::CchClose { session, .. } => {
                // `AT+CCHSTOP` closed it (§6).
                if let Some(l) = st.sessions.get_mut(usize::from(session)) {
                    if l.used {
                        l.phase = Phase::Failed(CloseReason::Local);
                        l.in_module = false;
                        l.wake();
                    }
                }
            }
            _ => tracing::debug!(?urc, "URC nobody waits for"),
        }
    }

    /// Operations waiting for a URC of `claim` that will not come any more: they
    /// are answered without it (the caller then reads the state for the reason).
    fn fail_waiters(&mut self, claim: Claim) {
        while let Some(i) = self.waiters.iter().position(|(c, _, _)| *c == claim) {
            let (_, req, reply) = self.waiters.remove(i);
            let _ = req.reply.send(reply);
        }
    }

    /// A link (or all) closed: its sends will get no report.
    fn fail_send_waiters(&mut self, link: Option<u8>) {
        let (gone, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.send_waiters)
            .into_iter()
            .partition(|(l, _, _)| match link {
                None => true,
                Some(n) => n == *l,
            });
        self.send_waiters = keep;
        for (_, req, reply) in gone {
            // Reports may still come for sends before the close; keep the first
            // ones' chance by answering with what we have (no URC: the caller maps it).
            let _ = req.reply.send(reply);
        }
    }

    fn push_rx(&mut self, link: u8, from: Option<SocketAddrV4>, data: Vec<u8>) {
        let mut st = self.shared.lock();
        let Some(l) = st.links.get_mut(usize::from(link)) else {
            return;
        };
        if l.udp {
            l.datagrams.push_back((from, data));
        } else {
            l.rx.extend(data);
        }
        l.wake();
    }

    fn push_session(&mut self, session: u8, data: Vec<u8>) {
        let mut st = self.shared.lock();
        if let Some(l) = st.sessions.get_mut(usize::from(session)) {
            if l.used {
                l.rx.extend(data);
                l.wake();
                return;
            }
        }
        tracing::debug!(session, "data for an SSL session nobody holds");
    }

    fn deliver_raw(&mut self, data: Vec<u8>) {
        let mut st = self.shared.lock();
        st.transparent.rx.extend(data);
        if let Some(w) = st.transparent.reader.take() {
            w.wake();
        }
    }

    /// Queues `AT+CIPRXGET=2` for links with data in the module and room here.
    fn schedule_reads(&mut self) {
        let window = self.config.rx_window;
        let mut st = self.shared.lock();
        for (n, l) in st.sessions.iter_mut().enumerate() {
            if l.used && l.manual && l.in_module && !l.read_queued && l.buffered() < window {
                l.read_queued = true;
                if let Ok(n) = u8::try_from(n) {
                    self.internal.push_back(Internal::CchRead(n));
                }
            }
        }
        if !self.config.buffer_mode {
            return;
        }
        for (n, l) in st.links.iter_mut().enumerate() {
            if l.used && l.in_module && !l.read_queued && l.buffered() < window {
                l.read_queued = true;
                if let Ok(n) = u8::try_from(n) {
                    self.internal.push_back(Internal::Read(n));
                }
            }
        }
    }

    /// The safety net for a lost `+CIPRXGET: 1`: ask about links a reader waits on.
    fn poll_links(&mut self) {
        if self.mode != Mode::Command {
            return;
        }
        let mut st = self.shared.lock();
        let idle = |l: &crate::state::Link| {
            l.used && l.phase == Phase::Open && l.reader.is_some() && l.buffered() == 0
        };
        let ask = st
            .sessions
            .iter()
            .any(|l| l.manual && idle(l) && !l.in_module && !l.read_queued);
        if ask && !self.cch_query_queued {
            self.cch_query_queued = true;
            self.internal.push_back(Internal::CchQuery);
        }
        if !self.config.buffer_mode {
            return;
        }
        for n in 0..LINKS {
            let l = &mut st.links[n];
            let idle_reader = l.reader.is_some() && l.buffered() == 0;
            if l.used && l.phase == Phase::Open && idle_reader && !l.in_module && !l.read_queued {
                l.read_queued = true;
                if let Ok(n) = u8::try_from(n) {
                    self.internal.push_back(Internal::Query(n));
                }
            }
        }
    }

    /// The line is gone: every waiter learns it.
    fn shut_down(mut self) {
        let mut all: Vec<Request> = self.queue.drain(..).collect();
        all.extend(self.current.take().map(|c| c.req));
        all.extend(self.waiters.drain(..).map(|(_, r, _)| r));
        all.extend(self.send_waiters.drain(..).map(|(_, r, _)| r));
        for req in all {
            let _ = req.reply.send(Reply {
                line_closed: true,
                ..Reply::default()
            });
        }
        self.rx.close();
        while let Ok(req) = self.rx.try_recv() {
            let _ = req.reply.send(Reply {
                line_closed: true,
                ..Reply::default()
            });
        }
        let mut st = self.shared.lock();
        st.line_closed = true;
        let st = &mut *st;
        for l in st.links.iter_mut().chain(st.sessions.iter_mut()) {
            l.wake();
        }
        st.transparent.closed = true;
        if let Some(w) = st.transparent.reader.take() {
            w.wake();
        }
    }
}
