//! Link shaping for the real network, without root and without `tc`: a sans-IO delay
//! line between the core and the backend. Sends wait for the uplink (bandwidth) and
//! half a round trip, received data for the downlink and half a round trip; the
//! attach (AT+NETOPEN) and each connection attempt wait for the radio bearer (setup
//! delay). Order is kept in each
//! direction, so the backend sees commands, and the core events, in the order issued.
//!
//! Loss on a real TCP connection is shown as one retransmission timeout of extra delay
//! for the segment; a lost UDP datagram is dropped.

use crate::profile::LinkProfile;
use crate::rng::Rng;
use at7600_core::{Instant, NetCommand, NetEvent};
use std::collections::VecDeque;
use std::time::Duration;

/// Retransmission timeout assumed for a lost segment on the real network.
const REAL_MIN_RTO: Duration = Duration::from_millis(200);

/// The delay line. See the module docs.
#[derive(Debug)]
pub struct Shaper {
    profile: LinkProfile,
    rng: Rng,
    up: VecDeque<(Instant, NetCommand)>,
    down: VecDeque<(Instant, NetEvent)>,
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
            NetCommand::Send { data, .. } | NetCommand::SendTo { data, .. } => {
                let start = now.max(self.up_free);
                self.up_free = start + self.profile.up_time(data.len());
                let mut at = self.up_free + self.one_way();
                if self.rng.chance(self.profile.loss) {
                    if matches!(cmd, NetCommand::SendTo { .. }) {
                        return; // a lost datagram
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

    /// An event from the backend; it comes out of [`Shaper::poll_event`] when due.
    pub fn event(&mut self, now: Instant, event: NetEvent) {
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
        self.down.push_back((at.max(last), event));
    }

    /// The next command due at `now`.
    pub fn poll_command(&mut self, now: Instant) -> Option<NetCommand> {
        if self.up.front().is_some_and(|(t, _)| *t <= now) {
            return self.up.pop_front().map(|(_, c)| c);
        }
        None
    }

    /// The next event due at `now`.
    pub fn poll_event(&mut self, now: Instant) -> Option<NetEvent> {
        if self.down.front().is_some_and(|(t, _)| *t <= now) {
            return self.down.pop_front().map(|(_, e)| e);
        }
        None
    }

    /// When the next command or event is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let up = self.up.front().map(|(t, _)| *t);
        let down = self.down.front().map(|(t, _)| *t);
        up.into_iter().chain(down).min()
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
