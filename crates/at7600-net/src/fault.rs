//! Faults on demand: a layer between a modem and any network backend (real or
//! simulated) that breaks things when told to.
//!
//! [`FaultLayer`] sees every [`NetCommand`] on its way out and every [`NetEvent`] on
//! its way in, and can swallow, answer or invent them. Faults that belong to the modem
//! rather than the network (radio values, DTR) are carried out by [`apply`] on the core.

use at7600_core::{ConnId, Input, Instant, Modem, NetCommand, NetEvent, OpenError, SendOutcome};
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::time::Duration;

/// One fault. In the config file a `[[fault]]` table with `at_ms` and `kind`
/// (see `docs/network.md`); through the control API the same fields as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Fault {
    /// The mobile network goes away: `+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY`; every
    /// connection is cut; `AT+NETOPEN` fails for `for_ms` milliseconds.
    NetworkLost {
        /// How long attaching again fails.
        #[serde(default)]
        for_ms: u64,
    },
    /// The peer of a link (or of every link) closes it: `+IPCLOSE: <n>,1`.
    PeerClose {
        /// The link 0-9; every open link if absent.
        link: Option<u8>,
    },
    /// The next TCP connect is refused: `+CIPOPEN: <n>,1`.
    RefuseOpen,
    /// The next TCP connect is never answered: the core's CIPOPEN timeout decides.
    TimeoutOpen,
    /// The next name lookup fails (`+CDNSGIP: 0,10`, or `+CIPOPEN: <n>,11`).
    DnsFailure,
    /// The next TLS session's handshake fails once TCP is up (`+CCHOPEN: <s>,15`),
    /// without a ClientHello, whatever the server and the SSL context.
    TlsHandshakeFailure,
    /// The peer of a link (or of every link) stops reading and acknowledging: sends are
    /// taken until the send buffer is full; with `AT+CIPSENDMODE=1` the link closes with
    /// `+IPCLOSE: <n>,2` when the CIPSEND timeout passes.
    Stall {
        /// The link 0-9; every open link if absent.
        link: Option<u8>,
    },
    /// Signal, registration and the network's time zone change (`+CREG:`/`+CGREG:`
    /// when enabled; not registered loses an open network; `+CTZV:` with `AT+CTZR=1`).
    Radio {
        /// New `<rssi>` 0-31 or 99.
        rssi: Option<u8>,
        /// New registration status 0-5.
        reg_status: Option<u8>,
        /// New network time zone in quarter hours, -96..=96.
        #[serde(default)]
        tz: Option<i8>,
    },
    /// Power comes back after `AT+CPOF`: the boot sequence (no effect on a module
    /// that is on).
    PowerOn,
    /// The host's DTR line changes (for PTYs, which have no modem-control lines).
    Dtr {
        /// ON (true) or OFF.
        on: bool,
    },
}

/// A fault at a moment: `at_ms` after the modem started.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ScheduledFault {
    /// When, in milliseconds of the modem's clock.
    pub at_ms: u64,
    /// What.
    #[serde(flatten)]
    pub fault: Fault,
}

/// The bytes a stalled connection pretends to take before it answers `Full`.
const STALL_CAP: usize = 64 * 1024;

/// The longest `network-lost` outage, in milliseconds (a day): a test that needs the
/// network away for longer can lose it again; a larger number is a mistake.
pub const MAX_OUTAGE_MS: u64 = 24 * 60 * 60 * 1000;

impl Fault {
    /// Checks the fault's values: `Err` says which one is out of bounds.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Fault::NetworkLost { for_ms } if *for_ms > MAX_OUTAGE_MS => Err(format!(
                "for_ms must be at most {MAX_OUTAGE_MS} (a day), not {for_ms}"
            )),
            Fault::Radio { rssi: Some(v), .. } if *v > 31 && *v != 99 => {
                Err(format!("rssi must be 0-31 or 99, not {v}"))
            }
            Fault::Radio {
                reg_status: Some(v),
                ..
            } if *v > 5 => Err(format!("reg_status must be 0-5, not {v}")),
            _ => Ok(()),
        }
    }
}

/// The network half of fault injection. See the module docs.
#[derive(Debug, Default)]
pub struct FaultLayer {
    injected: VecDeque<NetEvent>,
    /// Connections the backend reported open and not yet gone.
    open: BTreeSet<ConnId>,
    /// Connections whose incoming data is dropped (network lost, peer closed).
    cut: BTreeSet<ConnId>,
    /// Stalled connections and the bytes they pretended to take.
    stalled: HashMap<ConnId, usize>,
    attach_fails_until: Option<Instant>,
    refuse_next: bool,
    timeout_next: bool,
    dns_fail_next: bool,
    tls_fail_next: bool,
    /// Faults carried out, by kind, for metrics.
    pub injected_count: u64,
}

impl FaultLayer {
    /// A layer that lets everything through until told otherwise.
    pub fn new() -> Self {
        FaultLayer::default()
    }

    /// The network is lost at `now`; attaching fails until `now + down_for`.
    pub fn network_lost(&mut self, now: Instant, down_for: Duration) {
        self.injected_count += 1;
        self.injected.push_back(NetEvent::NetworkLost);
        self.cut.extend(self.open.iter().copied());
        self.attach_fails_until = Some(now + down_for);
    }

    /// The peers of `conns` (every open connection if empty) close them.
    pub fn peer_close(&mut self, conns: &[ConnId]) {
        self.injected_count += 1;
        for conn in self.targets(conns) {
            self.cut.insert(conn);
            self.injected.push_back(NetEvent::PeerClosed { conn });
        }
    }

    /// The next TCP open is refused.
    pub fn refuse_next_open(&mut self) {
        self.injected_count += 1;
        self.refuse_next = true;
    }

    /// The next TCP open is never answered.
    pub fn timeout_next_open(&mut self) {
        self.injected_count += 1;
        self.timeout_next = true;
    }

    /// The next name lookup fails.
    pub fn dns_failure(&mut self) {
        self.injected_count += 1;
        self.dns_fail_next = true;
    }

    /// The next TLS session's handshake fails.
    pub fn tls_handshake_failure(&mut self) {
        self.injected_count += 1;
        self.tls_fail_next = true;
    }

    /// The peers of `conns` (every open connection if empty) stop reading.
    pub fn stall(&mut self, conns: &[ConnId]) {
        self.injected_count += 1;
        for conn in self.targets(conns) {
            self.stalled.entry(conn).or_insert(0);
        }
    }

    fn targets(&self, conns: &[ConnId]) -> Vec<ConnId> {
        if conns.is_empty() {
            self.open.iter().copied().collect()
        } else {
            conns.to_vec()
        }
    }

    /// A command on its way to the backend: `Some` to pass it on, `None` when the layer
    /// answered (or swallowed) it.
    pub fn to_net(&mut self, now: Instant, mut cmd: NetCommand) -> Option<NetCommand> {
        if let NetCommand::Open {
            conn,
            tls: Some(params),
            ..
        } = &mut cmd
        {
            if std::mem::take(&mut self.tls_fail_next) {
                // SSL 3.0, which no backend offers: each fails the handshake as soon as
                // TCP is up, on the real network and the simulated one alike.
                tracing::info!(%conn, "fault: this TLS handshake fails");
                params.version = 0;
            }
        }
        match &cmd {
            NetCommand::Attach if self.attach_fails_until.is_some_and(|t| now < t) => {
                self.injected.push_back(NetEvent::AttachFailed);
                return None;
            }
            NetCommand::Open {
                conn,
                protocol: at7600_core::Protocol::Tcp,
                remote,
                ..
            } => {
                let by_name = remote
                    .as_ref()
                    .is_some_and(|(h, _)| h.parse::<Ipv4Addr>().is_err());
                let error = if by_name && std::mem::take(&mut self.dns_fail_next) {
                    Some(OpenError::Dns)
                } else if std::mem::take(&mut self.refuse_next) {
                    Some(OpenError::Refused)
                } else {
                    None
                };
                if let Some(error) = error {
                    self.injected
                        .push_back(NetEvent::OpenFailed { conn: *conn, error });
                    return None;
                }
                if std::mem::take(&mut self.timeout_next) {
                    return None;
                }
            }
            NetCommand::Resolve { query, .. } if std::mem::take(&mut self.dns_fail_next) => {
                self.injected.push_back(NetEvent::Resolved {
                    query: *query,
                    addr: None,
                });
                return None;
            }
            NetCommand::Send { conn, data } => {
                if let Some(held) = self.stalled.get_mut(conn) {
                    let outcome = if *held + data.len() <= STALL_CAP {
                        *held += data.len();
                        SendOutcome::Accepted
                    } else {
                        SendOutcome::Full
                    };
                    let conn = *conn;
                    self.injected
                        .push_back(NetEvent::SendDone { conn, outcome });
                    return None;
                }
            }
            NetCommand::Close { conn } => {
                self.stalled.remove(conn);
            }
            _ => {}
        }
        Some(cmd)
    }

    /// An event on its way to the modem: `Some` to pass it on, `None` to drop it.
    pub fn to_core(&mut self, event: NetEvent) -> Option<NetEvent> {
        match &event {
            NetEvent::Opened { conn, .. } | NetEvent::Accepted { conn, .. } => {
                self.open.insert(*conn);
            }
            NetEvent::Data { conn, .. }
            | NetEvent::Datagram { conn, .. }
            | NetEvent::PeerClosed { conn }
                if self.cut.contains(conn) =>
            {
                return None;
            }
            NetEvent::PeerClosed { conn } | NetEvent::OpenFailed { conn, .. } => {
                self.open.remove(conn);
            }
            NetEvent::Closed { conn } => {
                self.open.remove(conn);
                self.cut.remove(conn);
                self.stalled.remove(conn);
            }
            NetEvent::Detached => {
                self.open.clear();
                self.cut.clear();
                self.stalled.clear();
            }
            _ => {}
        }
        Some(event)
    }

    /// The next event the layer itself has for the modem.
    pub fn poll_event(&mut self) -> Option<NetEvent> {
        self.injected.pop_front()
    }
}

/// Carries out `fault` at `now` on a modem's fault layer: links are looked up in the
/// core. Radio and DTR faults belong to the core itself: they come back as the
/// [`Input`] for the caller to feed it (so that whoever owns the core sees, and can
/// record, every input). Errors say why a fault could not be applied (a value out of
/// bounds, see [`Fault::validate`]; a link that is not open).
pub fn apply(
    now: Instant,
    fault: &Fault,
    modem: &Modem,
    layer: &mut FaultLayer,
) -> Result<Option<Input>, String> {
    let conns = |link: Option<u8>| -> Result<Vec<ConnId>, String> {
        match link {
            None => Ok(Vec::new()),
            Some(n) => modem
                .link_conn(usize::from(n))
                .map(|c| vec![c])
                .ok_or_else(|| format!("link {n} is not in use")),
        }
    };
    fault.validate()?;
    match fault {
        Fault::NetworkLost { for_ms } => layer.network_lost(now, Duration::from_millis(*for_ms)),
        Fault::PeerClose { link } => layer.peer_close(&conns(*link)?),
        Fault::RefuseOpen => layer.refuse_next_open(),
        Fault::TimeoutOpen => layer.timeout_next_open(),
        Fault::DnsFailure => layer.dns_failure(),
        Fault::TlsHandshakeFailure => layer.tls_handshake_failure(),
        Fault::Stall { link } => layer.stall(&conns(*link)?),
        Fault::PowerOn => {
            layer.injected_count += 1;
            return Ok(Some(Input::PowerOn));
        }
        Fault::Radio {
            rssi,
            reg_status,
            tz,
        } => {
            let mut radio = modem.status().radio;
            if let Some(v) = *rssi {
                radio.rssi = v;
            }
            if let Some(v) = *reg_status {
                radio.reg_status = v;
            }
            if let Some(v) = *tz {
                if !(-96..=96).contains(&v) {
                    return Err(format!("tz must be -96..96 quarter hours, not {v}"));
                }
                radio.tz = v;
            }
            layer.injected_count += 1;
            return Ok(Some(Input::Radio(radio)));
        }
        Fault::Dtr { on } => {
            layer.injected_count += 1;
            return Ok(Some(Input::Dtr(*on)));
        }
    }
    Ok(None)
}
