//! `AT+CPING` and `AT+CPINGSTOP` (`more-commands.md` §7): sequential echo probes,
//! one URC per probe and a summary. The backend sends each probe
//! ([`NetCommand::Ping`]); the core owns the waits and measures the round trip
//! with its own clock, so a shaped link's delays count as on a module.

use super::device::DevTimer;
use super::network::valid_domain;
use super::{Failure, Instant, Modem, Step, Timer};
use crate::config::Personality;
use crate::io::NetCommand;
use crate::parser::{Arg, Form};
use std::net::Ipv4Addr;
use std::time::Duration;

/// One running `AT+CPING`.
#[derive(Debug)]
pub(super) struct Ping {
    addr: Option<Ipv4Addr>,
    /// The name lookup in flight, for a host given by name.
    query: Option<u64>,
    count: u32,
    size: u16,
    interval: Duration,
    wait: Duration,
    ttl: u8,
    sent: u32,
    received: u32,
    /// Round trips of the replies, in ms: min, max, sum.
    rtt: Option<(u64, u64, u64)>,
    /// The probe waiting for its reply: id and when it went.
    probe: Option<(u64, Instant)>,
}

impl Ping {
    /// `+CPING: 3,<sent>,<received>,<lost>,<min>,<max>,<avg>`.
    fn summary(&self) -> String {
        let (min, max, avg) = match self.rtt {
            Some((min, max, sum)) => (min, max, sum / u64::from(self.received.max(1))),
            None => (0, 0, 0),
        };
        let lost = self.sent - self.received;
        format!(
            "+CPING: 3,{},{},{lost},{min},{max},{avg}",
            self.sent, self.received
        )
    }
}

/// An optional field: empty or absent takes the default, else it must be in range.
fn field(
    args: &[Arg],
    i: usize,
    range: std::ops::RangeInclusive<u64>,
    default: u64,
) -> Option<u64> {
    match args.get(i) {
        None => Some(default),
        Some(a) if a.is_empty() => Some(default),
        Some(a) => a.in_range(range),
    }
}

impl Modem {
    pub(super) fn cmd_cping(&mut self, form: &Form) -> Step {
        let max_count = match self.config.identity.personality {
            Personality::Sim7600 => 100,
            Personality::A76xx => 5,
        };
        let args = match form {
            Form::Test => {
                let line = format!(
                    "+CPING: IP address,(1,2),(1-{max_count}),(4-188),(1000-10000),(10000-100000),(16-255)"
                );
                return self.info_step(&line);
            }
            Form::Write(args) => args,
            _ => return Step::Fail(Failure::Param),
        };
        let host = args
            .first()
            .map(|a| a.str().to_string())
            .unwrap_or_default();
        let values = (
            args.get(1).and_then(|a| a.in_range(1..=1)),
            field(args, 2, 1..=max_count, 4),
            field(args, 3, 4..=188, 64),
            field(args, 4, 1000..=10_000, 2000),
            field(args, 5, 10_000..=100_000, 10_000),
            field(args, 6, 16..=255, 255),
        );
        let (Some(_), Some(count), Some(size), Some(interval), Some(wait), Some(ttl)) = values
        else {
            return Step::Fail(Failure::Plain);
        };
        let literal = host.parse::<Ipv4Addr>().ok();
        let name_ok = literal.is_some() || valid_domain(&host);
        if args.len() > 7 || !name_ok || !self.pdp_active() || self.dev.ping.is_some() {
            return Step::Fail(Failure::Plain);
        }
        let query = literal.is_none().then(|| {
            let query = self.next_query;
            self.next_query += 1;
            let servers = self.s.socket_options().dns;
            self.net_out.push_back(NetCommand::Resolve {
                query,
                name: host,
                servers,
            });
            query
        });
        self.dev.ping = Some(Ping {
            addr: literal,
            query,
            count: count as u32,
            size: size as u16,
            interval: Duration::from_millis(interval),
            wait: Duration::from_millis(wait),
            ttl: ttl as u8,
            sent: 0,
            received: 0,
            rtt: None,
            probe: None,
        });
        if literal.is_some() {
            self.send_probe();
        }
        Step::Next
    }

    pub(super) fn cmd_cpingstop(&mut self, form: &Form) -> Step {
        match form {
            Form::Execute => match self.dev.ping.take() {
                Some(ping) => {
                    self.cancel_timer(Timer::Device(DevTimer::PingWait));
                    self.cancel_timer(Timer::Device(DevTimer::PingNext));
                    self.info_step(&ping.summary())
                }
                None => Step::Fail(Failure::Plain),
            },
            Form::Test => Step::Next,
            _ => Step::Fail(Failure::Param),
        }
    }

    /// The ping's name lookup answered; true if it was the ping's.
    pub(super) fn ping_resolved(&mut self, query: u64, addr: Option<Ipv4Addr>) -> bool {
        let Some(ping) = self.dev.ping.as_mut().filter(|p| p.query == Some(query)) else {
            return false;
        };
        ping.query = None;
        match addr {
            Some(addr) => {
                ping.addr = Some(addr);
                self.send_probe();
            }
            // What a SIM7600 prints when the name does not resolve: nothing was sent.
            None => {
                self.dev.ping = None;
                self.urc("+CPING: 3,0,0,0,0,0,0");
            }
        }
        true
    }

    fn send_probe(&mut self) {
        let id = self.next_query;
        self.next_query += 1;
        let now = self.now;
        let Some(ping) = self.dev.ping.as_mut() else {
            return;
        };
        let Some(addr) = ping.addr else {
            return;
        };
        ping.sent += 1;
        ping.probe = Some((id, now));
        let (size, ttl, wait) = (ping.size, ping.ttl, ping.wait);
        self.net_out.push_back(NetCommand::Ping {
            id,
            addr,
            size,
            ttl,
            wait,
        });
        self.set_timer(Timer::Device(DevTimer::PingWait), now + wait);
    }

    pub(super) fn on_ping_reply(&mut self, id: u64, reply_ttl: Option<u8>) {
        let now = self.now;
        let Some(ping) = self.dev.ping.as_mut() else {
            return;
        };
        let Some((_, at)) = ping.probe.filter(|(probe, _)| *probe == id) else {
            return;
        };
        ping.probe = None;
        let rtt = now.saturating_sub(at).as_millis() as u64;
        ping.received += 1;
        ping.rtt = Some(match ping.rtt {
            None => (rtt, rtt, rtt),
            Some((min, max, sum)) => (min.min(rtt), max.max(rtt), sum + rtt),
        });
        let ttl = reply_ttl.unwrap_or(ping.ttl);
        let line = format!(
            "+CPING: 1,{},{},{rtt},{ttl}",
            ping.addr.unwrap_or(Ipv4Addr::UNSPECIFIED),
            ping.size
        );
        self.cancel_timer(Timer::Device(DevTimer::PingWait));
        self.urc(&line);
        self.after_probe();
    }

    pub(super) fn ping_timer(&mut self, timer: DevTimer) {
        match timer {
            DevTimer::PingWait => {
                if let Some(ping) = self.dev.ping.as_mut() {
                    ping.probe = None;
                    self.urc("+CPING: 2");
                    self.after_probe();
                }
            }
            _ => self.send_probe(),
        }
    }

    /// The next probe `interval` after this result, or the summary after the last.
    fn after_probe(&mut self) {
        let Some(ping) = self.dev.ping.as_ref() else {
            return;
        };
        if ping.sent < ping.count {
            let at = self.now + ping.interval;
            self.set_timer(Timer::Device(DevTimer::PingNext), at);
        } else {
            let line = ping.summary();
            self.dev.ping = None;
            self.urc(&line);
        }
    }
}
