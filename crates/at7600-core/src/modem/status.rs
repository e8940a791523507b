//! Read-only views of the modem for supervisors (control API, metrics) and the one
//! runtime change a supervisor may make: the radio values.

use super::{HostState, Modem, NetState, LINKS};
use crate::config::Radio;
use crate::io::{ConnId, Instant, Protocol};
use crate::link::LinkState;
use std::net::{Ipv4Addr, SocketAddrV4};

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
    use crate::{Modem, ModemConfig};
    use std::time::Duration;

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
