//! Read-only views of the modem for supervisors (control API, metrics) and the one
//! runtime change a supervisor may make: the radio values.

use super::{HostState, Modem, NetState, LINKS};
use crate::config::Radio;
use crate::io::{ConnId, Instant, Protocol};
use crate::link::LinkState;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

/// One used link, as [`Modem::status`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkStatus {
    /// The link number 0-9.
    pub link: u8,
    /// Its connection.
    pub conn: ConnId,
    /// TCP or UDP.
    pub protocol: Protocol,
    /// Where it is in its life.
    pub state: LinkState,
    /// The peer, or the fixed remote of a UDP link (`0.0.0.0:0` if none).
    pub remote: SocketAddrV4,
    /// Bytes taken by the network stack.
    pub sent: u64,
    /// Bytes the peer acknowledged, as last reported.
    pub acked: u64,
    /// Bytes received.
    pub received: u64,
    /// Bytes waiting in buffer access mode.
    pub buffered: usize,
}

/// A snapshot of the modem's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// Whether the PDP context is open (`AT+NETOPEN` succeeded and was not lost).
    pub network_open: bool,
    /// Whether the network was lost and not yet closed by the host.
    pub network_lost: bool,
    /// The modem's address while the network is open.
    pub ip: Option<Ipv4Addr>,
    /// Whether the host is in transparent data mode.
    pub data_mode: bool,
    /// The DTR line as last reported.
    pub dtr: bool,
    /// The used links, lowest number first.
    pub links: Vec<LinkStatus>,
    /// The radio values in force.
    pub radio: Radio,
}

/// Counters since power-on, for monitoring. They only grow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Commands run (each command of a chained line counts).
    pub commands: u64,
    /// Commands that ended in `ERROR` (or `+CME ERROR`).
    pub errors: u64,
    /// Unsolicited result codes queued.
    pub urcs: u64,
    /// Bytes received from the host.
    pub host_bytes_in: u64,
    /// Bytes delivered to the host.
    pub host_bytes_out: u64,
    /// Payload bytes handed to the network.
    pub net_bytes_sent: u64,
    /// Payload bytes received from the network.
    pub net_bytes_received: u64,
    /// Time from a command line's carriage return to its final result code (`OK`,
    /// `ERROR`, `+CME ERROR`, `CONNECT`...), on the modem's own clock: one observation
    /// per line, however many commands it chains.
    pub command_latency: Histogram,
    /// Time from the event behind an unsolicited result code to the code going out on
    /// the host's line (a URC waits while a command runs or a payload is typed).
    pub urc_delay: Histogram,
    /// Time from `AT+CIPOPEN` to its link being up (TCP connected, UDP bound), for the
    /// links that came up.
    pub link_open_latency: Histogram,
}

/// Upper bounds of the [`Histogram`] buckets, in milliseconds: from a command answered
/// at once to one waiting out a two-minute network timeout.
pub const LATENCY_BOUNDS_MS: [u64; 14] = [
    1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 120_000,
];

/// Durations counted in fixed buckets ([`LATENCY_BOUNDS_MS`]): a fixed-size value, so
/// observing costs no allocation and a supervisor copies it with the other counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Histogram {
    /// `buckets[i]` counts observations above the bound before `i` and at most
    /// `LATENCY_BOUNDS_MS[i]`; the last one counts those above every bound.
    pub buckets: [u64; LATENCY_BOUNDS_MS.len() + 1],
    /// The sum of all observations.
    pub sum: Duration,
}

impl Histogram {
    /// Counts one duration.
    pub fn observe(&mut self, d: Duration) {
        let i = LATENCY_BOUNDS_MS.partition_point(|&ms| Duration::from_millis(ms) < d);
        self.buckets[i] += 1;
        self.sum = self.sum.saturating_add(d);
    }

    /// How many durations were counted.
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// Adds another histogram's counts (a fleet's total from its modems').
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.buckets.iter_mut().zip(other.buckets) {
            *mine += theirs;
        }
        self.sum = self.sum.saturating_add(other.sum);
    }

    /// Cumulative counts as Prometheus wants them: `(upper bound, observations at or
    /// below it)` for each finite bound, lowest first (the `+Inf` count is
    /// [`Histogram::count`]).
    pub fn cumulative(&self) -> impl Iterator<Item = (Duration, u64)> + '_ {
        LATENCY_BOUNDS_MS
            .iter()
            .zip(&self.buckets)
            .scan(0, |seen, (&ms, &n)| {
                *seen += n;
                Some((Duration::from_millis(ms), *seen))
            })
    }
}

impl Metrics {
    /// Adds another modem's counters to these (a fleet's total).
    pub fn merge(&mut self, other: &Metrics) {
        self.commands += other.commands;
        self.errors += other.errors;
        self.urcs += other.urcs;
        self.host_bytes_in += other.host_bytes_in;
        self.host_bytes_out += other.host_bytes_out;
        self.net_bytes_sent += other.net_bytes_sent;
        self.net_bytes_received += other.net_bytes_received;
        self.command_latency.merge(&other.command_latency);
        self.urc_delay.merge(&other.urc_delay);
        self.link_open_latency.merge(&other.link_open_latency);
    }
}

impl Modem {
    /// The counters since power-on.
    pub fn metrics(&self) -> Metrics {
        self.metrics
    }

    /// A snapshot of the modem's state (cheap; for supervisors, not the hot path).
    pub fn status(&self) -> Status {
        let links = (0..LINKS)
            .filter_map(|i| {
                let l = self.links[i].as_ref()?;
                Some(LinkStatus {
                    link: i as u8,
                    conn: l.conn,
                    protocol: l.protocol,
                    state: l.state,
                    remote: l.remote,
                    sent: l.sent,
                    acked: l.acked,
                    received: l.received,
                    buffered: l.rx.len(),
                })
            })
            .collect();
        Status {
            network_open: self.net == NetState::Open,
            network_lost: self.net == NetState::Lost,
            ip: self.ip,
            data_mode: matches!(self.host, HostState::Data),
            dtr: self.dtr,
            links,
            radio: self.config.radio.clone(),
        }
    }

    /// The connection behind link `link` (0-9), if the link is used.
    pub fn link_conn(&self, link: usize) -> Option<ConnId> {
        self.links.get(link)?.as_ref().map(|l| l.conn)
    }

    /// Changes the radio values at runtime (signal fading, losing registration, a new
    /// network time zone).
    ///
    /// `AT+CSQ`, `AT+CREG?`, `AT+CGREG?`, `AT+CEREG?` and `AT+COPS?` answer with the new
    /// values from now on. When the registration status (or, with `<n>` 2, the cell)
    /// changed and the host enabled reports, the modem emits `+CREG:`/`+CGREG:`/
    /// `+CEREG:` URCs (3GPP TS 27.007); `+CNSMOD:` and `+CSQ:` likewise with
    /// `AT+CNSMOD=1` and `AT+AUTOCSQ=1,1`. Losing registration loses an open network
    /// (`+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY`): PDP context 1 needs it. A zone
    /// change gives `+CTZV:` with `AT+CTZR=1` and sets the clock with `AT+CTZU=1`.
    pub fn set_radio(&mut self, now: Instant, radio: Radio) {
        self.advance(now);
        let before = self.radio_view();
        let old = std::mem::replace(&mut self.config.radio, radio);
        if old.tz != self.config.radio.tz {
            self.zone_changed(self.config.radio.tz);
        }
        self.radio_changed(before);
        self.flush_urcs();
    }
}

#[cfg(test)]
mod tests {
    use super::{Histogram, LATENCY_BOUNDS_MS};
    use crate::{Modem, ModemConfig};
    use std::time::Duration;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A modem whose every command line takes `command_ms` (the timing profile).
    fn slow_modem(command_ms: u64) -> Modem {
        let mut config = ModemConfig::default();
        config.timing.command_ms = command_ms;
        Modem::new(config)
    }

    /// Index of the bucket holding `d`.
    fn bucket(d: Duration) -> usize {
        let mut h = Histogram::default();
        h.observe(d);
        h.buckets.iter().position(|&n| n == 1).unwrap_or(usize::MAX)
    }

    #[test]
    fn histogram_buckets_are_upper_bound_inclusive() {
        assert_eq!(bucket(Duration::ZERO), 0);
        assert_eq!(bucket(ms(1)), 0);
        assert_eq!(bucket(ms(1) + Duration::from_nanos(1)), 1);
        assert_eq!(bucket(ms(300)), 7, "(250, 500]");
        assert_eq!(bucket(ms(120_000)), LATENCY_BOUNDS_MS.len() - 1);
        assert_eq!(
            bucket(ms(120_001)),
            LATENCY_BOUNDS_MS.len(),
            "above every bound"
        );

        let mut h = Histogram::default();
        for d in [0, 3, 3, 700] {
            h.observe(ms(d));
        }
        let cumulative: Vec<u64> = h.cumulative().map(|(_, n)| n).collect();
        assert_eq!(&cumulative[..9], &[1, 3, 3, 3, 3, 3, 3, 3, 4]);
        assert_eq!((h.count(), h.sum), (4, ms(706)));
        let mut twice = h;
        twice.merge(&h);
        assert_eq!((twice.count(), twice.sum), (8, ms(1412)));
    }

    /// Command latency runs on the modem's clock, from the line's `\r` to its final
    /// result, once per line however many commands it chains.
    #[test]
    fn command_latency_is_measured_in_virtual_time() {
        let mut m = slow_modem(300);
        m.handle_host(ms(1_000), b"ATE0;+CSQ\r");
        assert_eq!(
            m.host_output(),
            b"ATE0;+CSQ\r",
            "only the echo: still processing"
        );
        assert_eq!(
            m.metrics().command_latency.count(),
            0,
            "no final result yet"
        );
        m.handle_timeout(ms(1_300));
        assert!(m.host_output().ends_with(b"OK\r\n"));
        m.consume_host_output(usize::MAX);
        let h = m.metrics().command_latency;
        assert_eq!((h.count(), h.sum), (1, ms(300)));
        assert_eq!(h.buckets[7], 1, "300 ms is in (250, 500]");

        // An error is a final result too, and a line that overflows is answered at once.
        let mut m = Modem::new(ModemConfig::default());
        m.handle_host(ms(5), b"AT+NOPE\r");
        m.handle_host(ms(9), b"AT\r");
        let h = m.metrics().command_latency;
        assert_eq!((h.count(), h.sum, h.buckets[0]), (2, Duration::ZERO, 2));
    }

    /// The open latency runs from `AT+CIPOPEN` to the backend's `Opened`.
    #[test]
    fn link_open_latency_runs_from_cipopen_to_the_connection() {
        use crate::io::{NetCommand, NetEvent};
        let mut m = Modem::new(ModemConfig::default());
        run(&mut m, b"ATE0\r");
        run(&mut m, b"AT+NETOPEN\r");
        assert!(matches!(m.poll_net(), Some(NetCommand::Attach)));
        let ip = std::net::Ipv4Addr::new(10, 0, 0, 2);
        m.handle_net(ms(10), NetEvent::Attached { ip });
        m.handle_host(ms(1_000), b"AT+CIPOPEN=0,\"TCP\",\"192.0.2.7\",7\r");
        let Some(NetCommand::Open { conn, .. }) = m.poll_net() else {
            panic!("no open");
        };
        assert_eq!(m.metrics().link_open_latency.count(), 0);
        let remote = "192.0.2.7:7".parse().expect("address");
        let opened = NetEvent::Opened {
            conn,
            remote,
            local_port: 40000,
        };
        m.handle_net(ms(1_040), opened);
        assert!(String::from_utf8_lossy(m.host_output()).contains("+CIPOPEN: 0,0"));
        let h = m.metrics().link_open_latency;
        assert_eq!((h.count(), h.sum, h.buckets[4]), (1, ms(40), 1), "(25, 50]");
    }

    /// A URC raised while a command runs waits for its final result; the wait is the
    /// URC's delay.
    #[test]
    fn urc_delay_counts_the_wait_behind_a_running_command() {
        let mut m = slow_modem(300);
        m.handle_host(Duration::ZERO, b"ATE0;+CREG=1\r");
        m.handle_timeout(ms(300));
        m.consume_host_output(usize::MAX);
        m.handle_host(ms(1_000), b"AT+CSQ\r");
        let mut radio = m.status().radio;
        radio.reg_status = 2;
        m.set_radio(ms(1_100), radio);
        assert_eq!(m.host_output(), b"", "the URC waits for the command");
        m.handle_timeout(ms(1_300));
        let out = String::from_utf8_lossy(m.host_output()).into_owned();
        assert!(out.ends_with("OK\r\n\r\n+CREG: 2\r\n"), "{out:?}");
        let h = m.metrics().urc_delay;
        assert_eq!((h.count(), h.sum), (1, ms(200)));
        assert_eq!(h.buckets[6], 1, "200 ms is in (100, 250]");
        let mut fleet = m.metrics();
        fleet.merge(&m.metrics());
        assert_eq!(fleet.urc_delay.count(), 2);
        assert_eq!(fleet.commands, 2 * m.metrics().commands);
    }

    fn run(m: &mut Modem, cmd: &[u8]) -> String {
        m.handle_host(Duration::ZERO, cmd);
        let out = String::from_utf8_lossy(m.host_output()).into_owned();
        m.consume_host_output(out.len());
        out
    }

    #[test]
    fn registration_changes_are_reported_only_when_enabled() {
        let mut m = Modem::new(ModemConfig::default());
        run(&mut m, b"ATE0\r");
        let mut radio = m.status().radio;
        radio.reg_status = 2;
        m.set_radio(Duration::ZERO, radio.clone());
        assert_eq!(m.host_output(), b"", "AT+CREG=0: no URC");
        assert_eq!(run(&mut m, b"AT+CREG?\r"), "\r\n+CREG: 0,2\r\n\r\nOK\r\n");

        run(&mut m, b"AT+CREG=1;+CGREG=2\r");
        radio.reg_status = 1;
        m.set_radio(Duration::from_secs(1), radio.clone());
        assert_eq!(
            String::from_utf8_lossy(m.host_output()),
            "\r\n+CREG: 1\r\n\r\n+CGREG: 1,\"1816\",\"01A50B0B\"\r\n"
        );
        m.consume_host_output(usize::MAX);

        // Signal only: no registration URC, but AT+CSQ follows.
        radio.rssi = 7;
        m.set_radio(Duration::from_secs(2), radio);
        assert_eq!(m.host_output(), b"");
        assert_eq!(run(&mut m, b"AT+CSQ\r"), "\r\n+CSQ: 7,99\r\n\r\nOK\r\n");
        let metrics = m.metrics();
        assert_eq!(metrics.urcs, 2);
        assert_eq!(metrics.errors, 0);
        run(&mut m, b"AT+NOPE\r");
        assert_eq!(m.metrics().errors, 1);
        assert_eq!(m.metrics().commands, 6);
    }
}
