//! Link shaping for the real network, without root and without `tc`: a sans-IO delay
//! line between the core and the backend. Sends wait for the uplink (bandwidth) and
//! half a round trip, received data for the downlink and half a round trip; the
//! attach (AT+NETOPEN) and each connection attempt wait for the radio bearer (setup
//! delay). Order is kept in each
//! direction, so the backend sees commands, and the core events, in the order issued.
//!
//! Loss on a real TCP connection is shown as one retransmission timeout of extra delay
//! for the segment; a lost UDP datagram is dropped.
//!
//! The delay line holds at most about [`WINDOW`] received bytes: past that,
//! [`Shaper::is_backed_up`] tells the caller to stop taking events from the backend, so
//! the backend stops reading and TCP's window holds the peers back, as the radio link's
//! own buffers would. Without it a fast peer on a slow profile filled the line with
//! everything it sent.
//!
//! Sends, the other way, are taken as the radio modem's send buffer takes them: up to
//! [`SEND_BUFFER`] bytes per connection that the backend has not taken yet. The shaper
//! answers `SendDone` itself at once (`Accepted`, or `Full` past the buffer, with
//! `Writable` once half of it is free) and keeps the bytes until the backend takes them;
//! a send the backend refuses (`Full`) is tried again on its `Writable`. One send per
//! connection is with the backend at a time, so refusals never reorder a stream.

use crate::profile::LinkProfile;
use crate::rng::Rng;
use at7600_core::{ConnId, Instant, NetCommand, NetEvent, SendOutcome};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Retransmission timeout assumed for a lost segment on the real network.
const REAL_MIN_RTO: Duration = Duration::from_millis(200);
/// Received bytes the delay line holds before it stops taking more.
pub const WINDOW: usize = 64 * 1024;
/// A TCP segment's payload at most on the downlink (a typical mobile MSS): a read from
/// the backend is cut into segments, each delivered when its own serialization ends, so
/// the first bytes of a 4 KB write reach the host after one segment's air time.
pub const MSS: usize = 1400;
/// Bytes of one connection's sends the line takes before it answers `Full`.
pub const SEND_BUFFER: usize = 64 * 1024;

/// One connection's sends between the core and the backend.
#[derive(Debug, Default)]
struct Sends {
    /// Bytes answered `Accepted` that the backend has not taken yet.
    admitted: usize,
    /// The send handed to the backend and not yet answered by it (kept to try again).
    with_backend: Option<NetCommand>,
    /// Sends the backend refused (`Full`), in order: tried again on its `Writable`.
    refused: VecDeque<NetCommand>,
    /// A send was answered `Full` here: `Writable` is owed once half the buffer is free.
    owe_writable: bool,
    /// `Close` is on its way: refused sends get one last try and are not kept again
    /// (the backend's close flush is the last word, as without a shaper).
    closing: bool,
}

/// The delay line. See the module docs.
#[derive(Debug)]
pub struct Shaper {
    profile: LinkProfile,
    rng: Rng,
    up: VecDeque<(Instant, NetCommand)>,
    down: VecDeque<(Instant, NetEvent)>,
    up_free: Instant,
    down_free: Instant,
    /// Payload bytes in `down`.
    down_bytes: usize,
    /// Per connection, the sends not yet taken by the backend.
    sends: HashMap<ConnId, Sends>,
}

impl Shaper {
    /// A delay line for `profile`, its jitter and loss drawn from `seed`.
    pub fn new(profile: LinkProfile, seed: u64) -> Self {
        Shaper {
            profile,
            rng: Rng::new(seed),
            up: VecDeque::new(),
            down: VecDeque::new(),
            up_free: Duration::ZERO,
            down_free: Duration::ZERO,
            down_bytes: 0,
            sends: HashMap::new(),
        }
    }

    /// Whether the line holds [`WINDOW`] received bytes or more: the caller should not
    /// take further events from the backend until some are released.
    pub fn is_backed_up(&self) -> bool {
        self.down_bytes >= WINDOW
    }

    /// Whether the profile changes anything (`none` does not: no queueing at all).
    pub fn is_transparent(&self) -> bool {
        self.profile == LinkProfile::default()
    }

    fn one_way(&mut self) -> Duration {
        self.profile.one_way() + self.rng.upto(self.profile.jitter())
    }

    /// A command from the core; it comes out of [`Shaper::poll_command`] when due. A
    /// send is answered at once (see the module docs).
    pub fn command(&mut self, now: Instant, cmd: NetCommand) {
        let last = self.up.back().map_or(now, |(t, _)| *t).max(now);
        let at = match &cmd {
            NetCommand::Send { conn, data } | NetCommand::SendTo { conn, data, .. } => {
                let (conn, len) = (*conn, data.len());
                let sends = self.sends.entry(conn).or_default();
                if sends.admitted + len > SEND_BUFFER {
                    sends.owe_writable = true;
                    let outcome = SendOutcome::Full;
                    return self.answer(now, NetEvent::SendDone { conn, outcome });
                }
                sends.admitted += len;
                let outcome = SendOutcome::Accepted;
                self.answer(now, NetEvent::SendDone { conn, outcome });
                let start = now.max(self.up_free);
                self.up_free = start + self.profile.up_time(len);
                let mut at = self.up_free + self.one_way();
                if self.rng.chance(self.profile.loss) {
                    if matches!(cmd, NetCommand::SendTo { .. }) {
                        // A lost datagram: taken, and gone.
                        return self.taken(now, conn, len);
                    }
                    at += self.profile.rto(REAL_MIN_RTO);
                }
                at
            }
            NetCommand::Open { .. } => now + self.profile.setup() + self.one_way(),
            // AT+NETOPEN brings the bearer up: the same setup delay as on the simulated
            // network, so a profile means the same thing on both.
            NetCommand::Attach => now + self.profile.setup(),
            _ => now,
        };
        self.up.push_back((at.max(last), cmd));
    }

    /// An event from the backend; it comes out of [`Shaper::poll_event`] when due. The
    /// backend's answers to sends are the shaper's own business (see the module docs).
    pub fn event(&mut self, now: Instant, event: NetEvent) {
        match event {
            NetEvent::SendDone { conn, outcome } => {
                return self.backend_send_done(now, conn, outcome)
            }
            NetEvent::Writable { conn } if self.sends.contains_key(&conn) => {
                return self.backend_writable(now, conn)
            }
            NetEvent::Closed { conn } => {
                self.sends.remove(&conn);
            }
            NetEvent::Detached => self.sends.clear(),
            // A bearer delivers a large write as it arrives, a segment at a time.
            NetEvent::Data { conn, data } if data.len() > MSS => {
                for segment in data.chunks(MSS) {
                    let data = segment.to_vec();
                    self.answer(now, NetEvent::Data { conn, data });
                }
                return;
            }
            _ => {}
        }
        self.answer(now, event);
    }

    /// Queues an event for the core, delayed as the downlink delays it.
    fn answer(&mut self, now: Instant, event: NetEvent) {
        let last = self.down.back().map_or(now, |(t, _)| *t).max(now);
        let at = match &event {
            NetEvent::Data { data, .. } | NetEvent::Datagram { data, .. } => {
                let start = now.max(self.down_free);
                self.down_free = start + self.profile.down_time(data.len());
                let mut at = self.down_free + self.one_way();
                if self.rng.chance(self.profile.loss) {
                    if matches!(event, NetEvent::Datagram { .. }) {
                        return;
                    }
                    at += self.profile.rto(REAL_MIN_RTO);
                }
                at
            }
            NetEvent::Opened { .. } | NetEvent::Resolved { .. } => now + self.one_way(),
            _ => now,
        };
        self.down_bytes += payload_len(&event);
        self.down.push_back((at.max(last), event));
    }

    /// The next command due at `now`. A send waits while its connection's previous one
    /// is with the backend or was refused by it (so a stream is never reordered).
    pub fn poll_command(&mut self, now: Instant) -> Option<NetCommand> {
        let (at, cmd) = self.up.front()?;
        if *at > now {
            return None;
        }
        if let NetCommand::Close { conn } = cmd {
            let conn = *conn;
            if let Some(sends) = self.sends.get_mut(&conn) {
                if sends.with_backend.is_some() {
                    return None;
                }
                sends.closing = true;
                if !sends.refused.is_empty() {
                    for cmd in sends.refused.drain(..).rev() {
                        self.up.push_front((now, cmd));
                    }
                    return self.poll_command(now);
                }
            }
        }
        if let Some(conn) = send_conn(cmd) {
            let sends = self.sends.entry(conn).or_default();
            if sends.with_backend.is_some() {
                return None;
            }
            if !sends.refused.is_empty() {
                // Behind a refused send: it waits with it for the backend's room.
                let (_, cmd) = self.up.pop_front()?;
                sends.refused.push_back(cmd);
                return self.poll_command(now);
            }
            let (_, cmd) = self.up.pop_front()?;
            sends.with_backend = Some(cmd.clone());
            return Some(cmd);
        }
        self.up.pop_front().map(|(_, c)| c)
    }

    /// The backend answered the send it had.
    fn backend_send_done(&mut self, now: Instant, conn: ConnId, outcome: SendOutcome) {
        let Some(sends) = self.sends.get_mut(&conn) else {
            return;
        };
        let Some(cmd) = sends.with_backend.take() else {
            return;
        };
        match outcome {
            SendOutcome::Full if !sends.closing => sends.refused.push_back(cmd),
            SendOutcome::Full => {
                tracing::debug!(%conn, "closing: the backend refused a shaped send");
                let len = send_len(&cmd);
                self.taken(now, conn, len);
            }
            // Taken, or the connection is gone (its `PeerClosed` tells the core).
            SendOutcome::Accepted | SendOutcome::Disconnected => {
                let len = send_len(&cmd);
                self.taken(now, conn, len);
            }
        }
    }

    /// The backend has room again: its refused sends go first, in order.
    fn backend_writable(&mut self, now: Instant, conn: ConnId) {
        let Some(sends) = self.sends.get_mut(&conn) else {
            return;
        };
        for cmd in sends.refused.drain(..).rev() {
            self.up.push_front((now, cmd));
        }
    }

    /// `len` bytes of `conn`'s sends left the line; owes `Writable` once half is free.
    fn taken(&mut self, now: Instant, conn: ConnId, len: usize) {
        let Some(sends) = self.sends.get_mut(&conn) else {
            return;
        };
        sends.admitted = sends.admitted.saturating_sub(len);
        if sends.owe_writable && sends.admitted <= SEND_BUFFER / 2 {
            sends.owe_writable = false;
            self.answer(now, NetEvent::Writable { conn });
        }
    }

    /// The next event due at `now`.
    pub fn poll_event(&mut self, now: Instant) -> Option<NetEvent> {
        if self.down.front().is_some_and(|(t, _)| *t <= now) {
            let (_, event) = self.down.pop_front()?;
            self.down_bytes -= payload_len(&event);
            return Some(event);
        }
        None
    }

    /// When the next command or event is due (a send waiting for the backend's answer
    /// to the previous one is not due: that answer comes as an event).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let blocked = |cmd: &NetCommand| {
            let conn = match cmd {
                NetCommand::Close { conn } => Some(*conn),
                other => send_conn(other),
            };
            conn.and_then(|c| self.sends.get(&c))
                .is_some_and(|s| s.with_backend.is_some())
        };
        let up = self
            .up
            .front()
            .filter(|(_, cmd)| !blocked(cmd))
            .map(|(t, _)| *t);
        let down = self.down.front().map(|(t, _)| *t);
        up.into_iter().chain(down).min()
    }
}

/// The connection of a send.
fn send_conn(cmd: &NetCommand) -> Option<ConnId> {
    match cmd {
        NetCommand::Send { conn, .. } | NetCommand::SendTo { conn, .. } => Some(*conn),
        _ => None,
    }
}

/// The bytes a send carries.
fn send_len(cmd: &NetCommand) -> usize {
    match cmd {
        NetCommand::Send { data, .. } | NetCommand::SendTo { data, .. } => data.len(),
        _ => 0,
    }
}

/// The received bytes an event carries.
fn payload_len(event: &NetEvent) -> usize {
    match event {
        NetEvent::Data { data, .. } | NetEvent::Datagram { data, .. } => data.len(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use at7600_core::ConnId;

    #[test]
    fn sends_wait_for_bandwidth_and_latency_in_order() {
        let profile = LinkProfile {
            rtt_ms: 100,
            up_kbps: 8,
            ..Default::default()
        };
        let mut s = Shaper::new(profile, 1);
        let conn = ConnId(1);
        s.command(
            Duration::ZERO,
            NetCommand::Send {
                conn,
                data: vec![0; 1000],
            },
        );
        s.command(Duration::ZERO, NetCommand::QueryAck { conn });
        // The send is answered at once, as the radio modem's buffer takes it.
        assert_eq!(
            s.poll_event(Duration::ZERO),
            Some(NetEvent::SendDone {
                conn,
                outcome: at7600_core::SendOutcome::Accepted
            })
        );
        // 1000 bytes at 8 kbit/s: 1 s on the air, then 50 ms.
        assert_eq!(s.poll_timeout(), Some(Duration::from_millis(1050)));
        assert!(s.poll_command(Duration::from_millis(1049)).is_none());
        assert!(matches!(
            s.poll_command(Duration::from_millis(1050)),
            Some(NetCommand::Send { .. })
        ));
        assert!(matches!(
            s.poll_command(Duration::from_millis(1050)),
            Some(NetCommand::QueryAck { .. })
        ));
    }
}

#[cfg(test)]
mod window_tests {
    use super::*;
    use at7600_core::ConnId;

    #[test]
    fn backs_up_at_the_window_and_frees_as_it_releases() {
        let profile = LinkProfile {
            down_kbps: 8,
            ..Default::default()
        };
        let mut s = Shaper::new(profile, 1);
        let conn = ConnId(1);
        let chunk = || NetEvent::Data {
            conn,
            data: vec![0; 16 * 1024],
        };
        for _ in 0..3 {
            s.event(Duration::ZERO, chunk());
        }
        assert!(!s.is_backed_up());
        s.event(Duration::ZERO, chunk());
        assert!(s.is_backed_up());
        let first = s.poll_timeout().unwrap();
        assert!(s.poll_event(first).is_some());
        assert!(!s.is_backed_up());
    }
}

#[cfg(test)]
mod send_buffer_tests {
    use super::*;

    const C: ConnId = ConnId(1);

    fn send(byte: u8, len: usize) -> NetCommand {
        NetCommand::Send {
            conn: C,
            data: vec![byte; len],
        }
    }

    /// Everything the core would see up to `now`.
    fn events(s: &mut Shaper, now: Instant) -> Vec<NetEvent> {
        std::iter::from_fn(|| s.poll_event(now)).collect()
    }

    fn done(outcome: SendOutcome) -> NetEvent {
        NetEvent::SendDone { conn: C, outcome }
    }

    #[test]
    fn sends_are_answered_at_once_and_refused_past_the_buffer() {
        let slow = LinkProfile {
            up_kbps: 8,
            ..Default::default()
        };
        let mut s = Shaper::new(slow, 1);
        let t0 = Duration::ZERO;
        for _ in 0..43 {
            s.command(t0, send(1, 1500));
        }
        let answers = events(&mut s, t0);
        assert_eq!(answers.len(), 43);
        assert!(answers[..43]
            .iter()
            .all(|e| *e == done(SendOutcome::Accepted)));
        // 43 * 1500 = 64500: one more does not fit.
        s.command(t0, send(2, 1500));
        assert_eq!(events(&mut s, t0), [done(SendOutcome::Full)]);
        // The backend takes them one by one as the uplink lets them go; `Writable`
        // once half the buffer is free.
        let mut writable = false;
        for _ in 0..43 {
            let at = s.poll_timeout().expect("a send is due");
            assert!(matches!(s.poll_command(at), Some(NetCommand::Send { .. })));
            assert!(
                s.poll_command(at).is_none(),
                "one send with the backend at a time"
            );
            s.event(at, done(SendOutcome::Accepted));
            writable |= events(&mut s, at).contains(&NetEvent::Writable { conn: C });
        }
        assert!(writable);
    }

    #[test]
    fn a_send_the_backend_refuses_goes_again_first_on_its_writable() {
        let mut s = Shaper::new(
            LinkProfile {
                rtt_ms: 2,
                ..Default::default()
            },
            1,
        );
        let t = Duration::from_millis(10);
        s.command(Duration::ZERO, send(b'a', 10));
        s.command(Duration::ZERO, send(b'b', 10));
        assert_eq!(s.poll_command(t), Some(send(b'a', 10)));
        s.event(t, done(SendOutcome::Full));
        // `b` waits behind the refused `a`; nothing goes until the backend has room.
        assert_eq!(
            events(&mut s, t),
            [done(SendOutcome::Accepted), done(SendOutcome::Accepted)]
        );
        assert_eq!(s.poll_command(t), None);
        assert_eq!(s.poll_timeout(), None);
        s.event(t, NetEvent::Writable { conn: C });
        assert_eq!(s.poll_command(t), Some(send(b'a', 10)));
        s.event(t, done(SendOutcome::Accepted));
        assert_eq!(s.poll_command(t), Some(send(b'b', 10)));
        s.event(t, done(SendOutcome::Accepted));
        // The core saw its two answers and nothing of the backend's.
        assert_eq!(events(&mut s, t), []);
    }
    const SEG_CONN: ConnId = ConnId(9);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn gprs() -> Shaper {
        let profile = LinkProfile {
            loss: 0.0,
            jitter_ms: 0,
            ..LinkProfile::named("gprs").expect("gprs")
        };
        Shaper::new(profile, 1)
    }

    #[test]
    fn a_4_kb_write_arrives_segment_by_segment_then_the_close() {
        let mut s = gprs();
        s.event(
            Duration::ZERO,
            NetEvent::Data {
                conn: SEG_CONN,
                data: vec![1; 4096],
            },
        );
        s.event(Duration::ZERO, NetEvent::PeerClosed { conn: SEG_CONN });
        let mut got = Vec::new();
        for _ in 0..10 {
            let Some(at) = s.poll_timeout() else { break };
            for ev in events(&mut s, at) {
                got.push((at, ev));
            }
        }
        let sizes: Vec<_> = got
            .iter()
            .map(|(at, ev)| match ev {
                NetEvent::Data { data, .. } => (*at, data.len()),
                _ => (*at, 0),
            })
            .collect();
        // gprs: 54 kbit/s down, 300 ms one way: 1400 bytes take 207.4 ms each.
        let seg = |n: u64| Duration::from_nanos(n * 8 * 1_000_000 / 54);
        assert_eq!(
            sizes,
            [
                (seg(1400) + ms(300), 1400),
                (seg(2800) + ms(300), 1400),
                (seg(4096) + ms(300), 1296),
                (seg(4096) + ms(300), 0),
            ]
        );
        assert!(matches!(got[3].1, NetEvent::PeerClosed { .. }));
    }
}
