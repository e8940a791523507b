//! Link shaping for the real network, without root and without `tc`: a sans-IO delay
//! line between the core and the backend. Sends wait for the uplink (bandwidth) and
//! half a round trip, received data for the downlink and half a round trip; a
//! connection attempt waits for the radio bearer (setup delay). Order is kept in each
//! direction, so the backend sees commands, and the core events, in the order issued.
//!
//! Loss on a real TCP connection is shown as one retransmission timeout of extra delay
//! for the segment; a lost UDP datagram is dropped.
//!
//! Two things a bearer does that a plain delay line would not:
//! - **The module takes the data at once.** A send is answered (`SendDone`, so
//!   `+CIPSEND: <n>,<req>,<cnf>` with `AT+CIPSENDMODE=0`) as soon as the shaper holds
//!   it, not after its air time, up to [`EARLY_CAP`] bytes per connection not yet taken
//!   by the backend; beyond that (or behind a send answered late) the backend's own
//!   answer is passed on, in order. To keep that promise the shaper hands the backend
//!   one send per connection at a time: a send the backend refuses (`Full`) is kept and
//!   tried again when it says `Writable`, before anything later on that connection.
//! - **Data arrives a segment at a time.** A read from the backend is cut into
//!   [`MSS`]-byte segments, each delivered when its own serialization ends, so the
//!   first bytes of a 4 KB write reach the host after one segment's air time.

use crate::profile::LinkProfile;
use crate::rng::Rng;
use at7600_core::{ConnId, Instant, NetCommand, NetEvent, SendOutcome};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Retransmission timeout assumed for a lost segment on the real network.
const REAL_MIN_RTO: Duration = Duration::from_millis(200);

/// A TCP segment's payload at most on the downlink (a typical mobile MSS).
pub const MSS: usize = 1400;

/// Bytes per connection answered early and not yet taken by the backend.
pub const EARLY_CAP: usize = 32 * 1024;

/// How a send held by the shaper is answered.
#[derive(Debug)]
enum Answer {
    /// Answered `Accepted` when it came; the copy is kept to try again after `Full`.
    Early(NetCommand),
    /// The backend's answer goes to the core.
    Late,
}

/// One connection's sends between the core and the backend.
#[derive(Debug, Default)]
struct Flow {
    /// Sends handed (or to be handed) to the backend, oldest first, with their answer.
    answers: VecDeque<Answer>,
    /// Bytes of `Early` sends the backend has not taken yet.
    early_bytes: usize,
    /// A send is with the backend, its `SendDone` not back yet.
    in_flight: bool,
    /// The backend refused an early send: wait for `Writable`.
    stalled: bool,
    /// Commands due but held behind an in-flight or refused send, in order.
    waiting: VecDeque<NetCommand>,
    /// The core was told `Full` and expects the `Writable`.
    core_owes_writable: bool,
}

impl Flow {
    fn idle(&self) -> bool {
        self.answers.is_empty() && self.waiting.is_empty() && !self.stalled
    }
}

/// The connection a command is about, if any.
fn conn_of(cmd: &NetCommand) -> Option<ConnId> {
    match cmd {
        NetCommand::Send { conn, .. }
        | NetCommand::SendTo { conn, .. }
        | NetCommand::Close { conn }
        | NetCommand::QueryAck { conn }
        | NetCommand::PauseRead { conn }
        | NetCommand::ResumeRead { conn } => Some(*conn),
        _ => None,
    }
}

fn is_send(cmd: &NetCommand) -> bool {
    matches!(cmd, NetCommand::Send { .. } | NetCommand::SendTo { .. })
}

fn send_len(cmd: &NetCommand) -> usize {
    match cmd {
        NetCommand::Send { data, .. } | NetCommand::SendTo { data, .. } => data.len(),
        _ => 0,
    }
}

/// The delay line. See the module docs.
#[derive(Debug)]
pub struct Shaper {
    profile: LinkProfile,
    rng: Rng,
    up: VecDeque<(Instant, NetCommand)>,
    down: VecDeque<(Instant, NetEvent)>,
    /// Commands released from a connection's `waiting`, handed out before `up`.
    released: VecDeque<(Instant, NetCommand)>,
    /// Answers of the module itself (sends taken), handed out before `down`.
    local: VecDeque<NetEvent>,
    flows: HashMap<ConnId, Flow>,
    up_free: Instant,
    down_free: Instant,
}

impl Shaper {
    /// A delay line for `profile`, its jitter and loss drawn from `seed`.
    pub fn new(profile: LinkProfile, seed: u64) -> Self {
        Shaper {
            profile,
            rng: Rng::new(seed),
            up: VecDeque::new(),
            down: VecDeque::new(),
            released: VecDeque::new(),
            local: VecDeque::new(),
            flows: HashMap::new(),
            up_free: Duration::ZERO,
            down_free: Duration::ZERO,
        }
    }

    /// Whether the profile changes anything (`none` does not: no queueing at all).
    pub fn is_transparent(&self) -> bool {
        self.profile == LinkProfile::default()
    }

    fn one_way(&mut self) -> Duration {
        self.profile.one_way() + self.rng.upto(self.profile.jitter())
    }

    /// A command from the core; it comes out of [`Shaper::poll_command`] when due.
    pub fn command(&mut self, now: Instant, cmd: NetCommand) {
        let last = self.up.back().map_or(now, |(t, _)| *t).max(now);
        let at = match &cmd {
            NetCommand::Send { conn, data } | NetCommand::SendTo { conn, data, .. } => {
                let conn = *conn;
                let start = now.max(self.up_free);
                self.up_free = start + self.profile.up_time(data.len());
                let mut at = self.up_free + self.one_way();
                let lost = self.rng.chance(self.profile.loss);
                let datagram = matches!(cmd, NetCommand::SendTo { .. });
                let flow = self.flows.entry(conn).or_default();
                let early = flow.answers.iter().all(|a| matches!(a, Answer::Early(_)))
                    && flow.early_bytes + data.len() <= EARLY_CAP;
                if lost && datagram && early {
                    // Taken by the module, lost on the air.
                    self.local.push_back(NetEvent::SendDone {
                        conn,
                        outcome: SendOutcome::Accepted,
                    });
                    return;
                }
                if lost && !datagram {
                    at += self.profile.rto(REAL_MIN_RTO);
                }
                if early {
                    flow.early_bytes += data.len();
                    flow.answers.push_back(Answer::Early(cmd.clone()));
                    self.local.push_back(NetEvent::SendDone {
                        conn,
                        outcome: SendOutcome::Accepted,
                    });
                } else {
                    flow.answers.push_back(Answer::Late);
                }
                at
            }
            NetCommand::Open { .. } => now + self.profile.setup() + self.one_way(),
            NetCommand::Ping { size, .. } => {
                now + self.profile.up_time(usize::from(*size) + 28) + self.one_way()
            }
            _ => now,
        };
        self.up.push_back((at.max(last), cmd));
    }

    /// An event from the backend; it comes out of [`Shaper::poll_event`] when due.
    pub fn event(&mut self, now: Instant, event: NetEvent) {
        match event {
            NetEvent::SendDone { conn, outcome } => return self.send_done(now, conn, outcome),
            NetEvent::Writable { conn } => return self.writable(now, conn),
            NetEvent::Closed { conn } => {
                self.flows.remove(&conn);
            }
            NetEvent::Data { conn, data } if data.len() > MSS => {
                for segment in data.chunks(MSS) {
                    let data = segment.to_vec();
                    self.event(now, NetEvent::Data { conn, data });
                }
                return;
            }
            _ => {}
        }
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
            NetEvent::Opened { .. } | NetEvent::Resolved { .. } | NetEvent::PingReply { .. } => {
                now + self.one_way()
            }
            _ => now,
        };
        self.down.push_back((at.max(last), event));
    }

    /// The backend answered the connection's oldest send.
    fn send_done(&mut self, now: Instant, conn: ConnId, outcome: SendOutcome) {
        let Some(flow) = self.flows.get_mut(&conn) else {
            return self.local.push_back(NetEvent::SendDone { conn, outcome });
        };
        flow.in_flight = false;
        match flow.answers.pop_front() {
            Some(Answer::Early(cmd)) => {
                if outcome == SendOutcome::Full {
                    // Promised to the core: keep it, first in line once writable.
                    flow.stalled = true;
                    flow.answers.push_front(Answer::Early(cmd.clone()));
                    flow.waiting.push_front(cmd);
                } else {
                    // Accepted, or the connection is gone (its close tells the core).
                    flow.early_bytes -= send_len(&cmd);
                }
            }
            Some(Answer::Late) | None => {
                flow.core_owes_writable |= outcome == SendOutcome::Full;
                self.local.push_back(NetEvent::SendDone { conn, outcome });
            }
        }
        self.release(now, conn);
    }

    fn writable(&mut self, now: Instant, conn: ConnId) {
        let Some(flow) = self.flows.get_mut(&conn) else {
            return self.local.push_back(NetEvent::Writable { conn });
        };
        flow.stalled = false;
        if std::mem::take(&mut flow.core_owes_writable) {
            self.local.push_back(NetEvent::Writable { conn });
        }
        self.release(now, conn);
    }

    /// Hands the connection's held commands on, up to and including its next send.
    fn release(&mut self, now: Instant, conn: ConnId) {
        let Some(flow) = self.flows.get_mut(&conn) else {
            return;
        };
        while !flow.stalled && !flow.in_flight {
            let Some(cmd) = flow.waiting.pop_front() else {
                break;
            };
            flow.in_flight = is_send(&cmd);
            self.released.push_back((now, cmd));
        }
        if flow.idle() && !flow.in_flight {
            self.flows.remove(&conn);
        }
    }

    /// The next command due at `now`.
    pub fn poll_command(&mut self, now: Instant) -> Option<NetCommand> {
        if let Some((_, cmd)) = self.released.pop_front() {
            return Some(cmd);
        }
        while self.up.front().is_some_and(|(t, _)| *t <= now) {
            let (_, cmd) = self.up.pop_front()?;
            let Some(conn) = conn_of(&cmd) else {
                return Some(cmd);
            };
            let Some(flow) = self.flows.get_mut(&conn) else {
                return Some(cmd);
            };
            if matches!(cmd, NetCommand::Close { .. }) && flow.stalled {
                // A peer that never reads again must not keep its connection open: the
                // refused data is dropped with it (as a module's buffer at close).
                let Some(flow) = self.flows.remove(&conn) else {
                    return Some(cmd);
                };
                let rest = flow.waiting.into_iter().filter(|c| !is_send(c));
                self.released.extend(rest.map(|c| (now, c)));
                self.released.push_back((now, cmd));
                return self.released.pop_front().map(|(_, c)| c);
            }
            // Behind a send still with the backend, or one it refused: wait in line.
            let blocked = flow.stalled || !flow.waiting.is_empty();
            if blocked || (is_send(&cmd) && flow.in_flight) {
                flow.waiting.push_back(cmd);
                continue;
            }
            flow.in_flight |= is_send(&cmd);
            return Some(cmd);
        }
        None
    }

    /// The next event due at `now`.
    pub fn poll_event(&mut self, now: Instant) -> Option<NetEvent> {
        if let Some(ev) = self.local.pop_front() {
            return Some(ev);
        }
        if self.down.front().is_some_and(|(t, _)| *t <= now) {
            return self.down.pop_front().map(|(_, e)| e);
        }
        None
    }

    /// When the next command or event is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let up = self.up.front().map(|(t, _)| *t);
        let down = self.down.front().map(|(t, _)| *t);
        let released = self.released.front().map(|(t, _)| *t);
        // The module's own answers are due at once.
        let local = (!self.local.is_empty()).then_some(Duration::ZERO);
        up.into_iter()
            .chain(down)
            .chain(released)
            .chain(local)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONN: ConnId = ConnId(1);

    fn send(len: usize) -> NetCommand {
        NetCommand::Send {
            conn: CONN,
            data: vec![7; len],
        }
    }

    fn done(outcome: SendOutcome) -> NetEvent {
        NetEvent::SendDone {
            conn: CONN,
            outcome,
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Every event due at `now`.
    fn events(s: &mut Shaper, now: Instant) -> Vec<NetEvent> {
        std::iter::from_fn(|| s.poll_event(now)).take(100).collect()
    }

    /// Every command due at `now`.
    fn commands(s: &mut Shaper, now: Instant) -> Vec<NetCommand> {
        std::iter::from_fn(|| s.poll_command(now))
            .take(100)
            .collect()
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
    fn sends_wait_for_bandwidth_and_latency_in_order() {
        let profile = LinkProfile {
            rtt_ms: 100,
            up_kbps: 8,
            ..Default::default()
        };
        let mut s = Shaper::new(profile, 1);
        s.command(Duration::ZERO, send(1000));
        s.command(Duration::ZERO, NetCommand::QueryAck { conn: CONN });
        assert_eq!(
            events(&mut s, Duration::ZERO),
            [done(SendOutcome::Accepted)]
        );
        // 1000 bytes at 8 kbit/s: 1 s on the air, then 50 ms.
        assert_eq!(s.poll_timeout(), Some(ms(1050)));
        assert!(s.poll_command(ms(1049)).is_none());
        assert!(matches!(
            s.poll_command(ms(1050)),
            Some(NetCommand::Send { .. })
        ));
        assert!(matches!(
            s.poll_command(ms(1050)),
            Some(NetCommand::QueryAck { .. })
        ));
    }

    #[test]
    fn a_send_is_answered_when_the_module_takes_it_not_after_its_air_time() {
        let mut s = gprs();
        s.command(Duration::ZERO, send(1000));
        // Issue 10: the report waited 0.3-1.8 s on gprs although AT+CIPSENDMODE=0.
        assert_eq!(
            events(&mut s, Duration::ZERO),
            [done(SendOutcome::Accepted)]
        );
        let due = s.poll_timeout().expect("the send is due later");
        assert!(due > ms(500), "{due:?}: still on the air for its bandwidth");
        assert_eq!(commands(&mut s, due), [send(1000)]);
        // The backend's own answer is not reported twice.
        s.event(due, done(SendOutcome::Accepted));
        assert_eq!(events(&mut s, due), []);
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn a_4_kb_write_arrives_segment_by_segment_then_the_close() {
        let mut s = gprs();
        s.event(
            Duration::ZERO,
            NetEvent::Data {
                conn: CONN,
                data: vec![1; 4096],
            },
        );
        s.event(Duration::ZERO, NetEvent::PeerClosed { conn: CONN });
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

    #[test]
    fn a_send_the_backend_refuses_is_kept_and_sent_again_in_order() {
        let mut s = gprs();
        s.command(Duration::ZERO, send(10));
        s.command(Duration::ZERO, send(20));
        let answered = events(&mut s, Duration::ZERO);
        assert_eq!(answered.len(), 2, "both taken at once");
        let t = ms(5000);
        assert_eq!(commands(&mut s, t), [send(10)], "one at a time");
        s.event(t, done(SendOutcome::Full));
        assert_eq!(events(&mut s, t), [], "the core was promised it");
        assert_eq!(commands(&mut s, t), [], "the later send waits");
        s.event(t, NetEvent::Writable { conn: CONN });
        assert_eq!(events(&mut s, t), [], "nobody at the core waits for it");
        assert_eq!(commands(&mut s, t), [send(10)]);
        s.event(t, done(SendOutcome::Accepted));
        assert_eq!(commands(&mut s, t), [send(20)]);
        s.event(t, done(SendOutcome::Accepted));
        assert_eq!(events(&mut s, t), []);
    }

    #[test]
    fn beyond_the_modules_buffer_the_backends_answers_come_in_order() {
        let mut s = gprs();
        s.command(Duration::ZERO, send(EARLY_CAP));
        s.command(Duration::ZERO, send(1));
        s.command(Duration::ZERO, send(1));
        assert_eq!(
            events(&mut s, Duration::ZERO),
            [done(SendOutcome::Accepted)]
        );
        let mut outcomes = Vec::new();
        for _ in 0..3 {
            let Some(at) = s.poll_timeout() else { break };
            for _ in commands(&mut s, at) {
                s.event(at, done(SendOutcome::Accepted));
            }
            outcomes.extend(events(&mut s, at));
        }
        assert_eq!(
            outcomes,
            [done(SendOutcome::Accepted), done(SendOutcome::Accepted)]
        );
    }

    #[test]
    fn closing_a_stalled_connection_is_not_held_behind_its_data() {
        let mut s = gprs();
        s.command(Duration::ZERO, send(10));
        events(&mut s, Duration::ZERO);
        let t = ms(5000);
        commands(&mut s, t);
        s.event(t, done(SendOutcome::Full));
        s.command(t, NetCommand::Close { conn: CONN });
        assert_eq!(commands(&mut s, t), [NetCommand::Close { conn: CONN }]);
    }
}
