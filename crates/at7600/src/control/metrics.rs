//! `GET /metrics`: the modems' counters in the Prometheus text format (or OpenMetrics,
//! when the scraper asks for it), written by the `prometheus-client` encoder.
//! Families and PromQL in `docs/metrics.md`.
//!
//! Process-wide families carry no modem label, so `sum()` counts every modem once, and
//! their counters never go down: a modem that leaves adds its final counters to the
//! retired totals ([`Ledger::leave`]), and a live modem counts with the last counters it
//! reported. Per-modem families (`at7600_modem_*`) are labelled by IMEI and front end
//! only, and can be switched off for large fleets.

mod process;

use super::{Registry, Request, View, ANSWER};
use at7600_core::{Histogram, Metrics, LATENCY_BOUNDS_MS};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::oneshot;

/// What a modem has counted: its core's counters and the faults carried out on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// The core's counters.
    pub metrics: Metrics,
    /// Faults carried out on the modem.
    pub faults: u64,
}

impl Totals {
    fn merge(&mut self, other: &Totals) {
        self.metrics.merge(&other.metrics);
        self.faults += other.faults;
    }
}

/// A live modem as `/metrics` knows it.
#[derive(Clone, Debug)]
struct Member {
    front_end: String,
    imei: String,
    /// Its last answer; `None` until it first answers.
    seen: Option<Seen>,
}

/// What a modem answered last.
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    totals: Totals,
    /// Links in use.
    links: u64,
    /// Whether the PDP context is open.
    network_open: bool,
    /// Whether the host is in transparent data mode.
    data_mode: bool,
}

impl From<&View> for Seen {
    fn from(v: &View) -> Seen {
        Seen {
            totals: Totals {
                metrics: v.metrics,
                faults: v.faults,
            },
            links: v.status.links.len() as u64,
            network_open: v.status.network_open,
            data_mode: v.status.data_mode,
        }
    }
}

/// The registry's bookkeeping for `/metrics`.
#[derive(Debug)]
pub(super) struct Ledger {
    per_modem: bool,
    members: HashMap<u64, Member>,
    /// The sum of the final counters of every modem that left.
    retired: Totals,
    /// How many modems left.
    left: u64,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger::new(true)
    }
}

impl Ledger {
    pub(super) fn new(per_modem: bool) -> Ledger {
        Ledger {
            per_modem,
            members: HashMap::new(),
            retired: Totals::default(),
            left: 0,
        }
    }

    pub(super) fn join(&mut self, id: u64, front_end: &str, imei: &str) {
        self.members.insert(
            id,
            Member {
                front_end: front_end.to_string(),
                imei: imei.to_string(),
                seen: None,
            },
        );
    }

    /// Modem `id` left with these counters: from now on they count among the retired.
    pub(super) fn leave(&mut self, id: u64, last: Totals) {
        if self.members.remove(&id).is_some() {
            self.retired.merge(&last);
            self.left += 1;
        }
    }

    /// Modem `id` answered. An answer from a modem that left meanwhile is dropped: its
    /// final counters are already among the retired.
    fn saw(&mut self, id: u64, view: &View) {
        if let Some(m) = self.members.get_mut(&id) {
            m.seen = Some(Seen::from(view));
        }
    }

    /// Everything one scrape shows, taken at one moment.
    fn snapshot(&self) -> Snapshot {
        let mut total = self.retired;
        let mut live = Seen::default();
        let (mut sessions, mut data_mode) = (0, 0);
        let mut per_modem = Vec::new();
        for m in self.members.values() {
            // A modem that has not answered yet counts nothing (it has counted little).
            let seen = m.seen.unwrap_or_default();
            total.merge(&seen.totals);
            live.links += seen.links;
            sessions += u64::from(seen.network_open);
            data_mode += u64::from(seen.data_mode);
            if self.per_modem {
                per_modem.push((m.imei.clone(), m.front_end.clone(), seen));
            }
        }
        per_modem.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        Snapshot {
            total,
            modems: self.members.len() as u64,
            left: self.left,
            links: live.links,
            sessions,
            data_mode,
            per_modem,
            process: process::Process::read(),
        }
    }
}

/// One scrape's worth of numbers, encoded by [`Collector::encode`].
#[derive(Debug)]
struct Snapshot {
    total: Totals,
    modems: u64,
    left: u64,
    links: u64,
    sessions: u64,
    data_mode: u64,
    /// (IMEI, front end, last answer), sorted; empty with per-modem series off.
    per_modem: Vec<(String, String, Seen)>,
    process: Option<process::Process>,
}

/// `GET /metrics`: asks every modem for its counters at once (each answers from its
/// own loop), waits for them at most [`ANSWER`] in all, then encodes one snapshot.
/// A modem that does not answer in time counts with what it answered before.
pub(super) async fn metrics(State(reg): State<Arc<Registry>>, headers: HeaderMap) -> Response {
    let asked: Vec<(u64, oneshot::Receiver<View>)> = reg
        .modems()
        .into_iter()
        .filter_map(|(id, _, tx)| {
            let (reply, rx) = oneshot::channel();
            tx.send(Request::View(reply)).ok()?;
            Some((id, rx))
        })
        .collect();
    let deadline = tokio::time::Instant::now() + ANSWER;
    for (id, rx) in asked {
        if let Ok(Ok(view)) = tokio::time::timeout_at(deadline, rx).await {
            reg.ledger().saw(id, &view);
        }
    }
    let snapshot = reg.ledger().snapshot();
    let openmetrics = wants_openmetrics(&headers);
    match encode(snapshot, openmetrics) {
        Ok(body) => {
            let kind = if openmetrics {
                "application/openmetrics-text; version=1.0.0; charset=utf-8"
            } else {
                "text/plain; version=0.0.4; charset=utf-8"
            };
            (
                [(header::CONTENT_TYPE, HeaderValue::from_static(kind))],
                body,
            )
                .into_response()
        }
        Err(_) => super::api::ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "metrics could not be encoded",
        )
        .into_response(),
    }
}

/// Whether the scraper lists OpenMetrics among what it accepts (Prometheus does, first,
/// unless told otherwise); everyone else gets the classic text format.
fn wants_openmetrics(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let kind = parts.next().unwrap_or("");
            // `q=0` means "not this one".
            let refused = parts.any(|p| p.replace(' ', "") == "q=0");
            kind.eq_ignore_ascii_case("application/openmetrics-text") && !refused
        })
}

/// The snapshot in the chosen text format.
fn encode(snapshot: Snapshot, openmetrics: bool) -> Result<String, std::fmt::Error> {
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register_collector(Box::new(snapshot));
    let mut body = String::new();
    if openmetrics {
        prometheus_client::encoding::text::encode(&mut body, &registry)?;
    } else {
        prometheus_client::encoding::prometheus_text::encode(&mut body, &registry)?;
    }
    Ok(body)
}

/// A counter of the core's, with its name (without `_total`) and help.
type CoreCounter = (&'static str, &'static str, fn(&Totals) -> u64);

/// The counters exposed process-wide and, as `at7600_modem_<name>`, per modem.
const COUNTERS: [CoreCounter; 8] = [
    (
        "commands",
        "AT commands run (each of a chained line)",
        |t| t.metrics.commands,
    ),
    ("errors", "commands answered ERROR or +CME ERROR", |t| {
        t.metrics.errors
    }),
    ("urcs", "unsolicited result codes raised", |t| {
        t.metrics.urcs
    }),
    ("host_bytes_in", "bytes from the host", |t| {
        t.metrics.host_bytes_in
    }),
    ("host_bytes_out", "bytes delivered to the host", |t| {
        t.metrics.host_bytes_out
    }),
    (
        "net_bytes_sent",
        "link payload bytes handed to the network",
        |t| t.metrics.net_bytes_sent,
    ),
    (
        "net_bytes_received",
        "link payload bytes received from the network",
        |t| t.metrics.net_bytes_received,
    ),
    ("faults", "faults carried out (control API, --fault)", |t| {
        t.faults
    }),
];

/// The core's histograms: name (before `_seconds`), help, which one.
type CoreHistogram = (&'static str, &'static str, fn(&Metrics) -> &Histogram);

const HISTOGRAMS: [CoreHistogram; 3] = [
    (
        "at7600_command_latency",
        "time from a command line's CR to its final result code, on the modem's clock",
        |m| &m.command_latency,
    ),
    (
        "at7600_urc_delay",
        "time from the event behind a URC to the URC going out to the host",
        |m| &m.urc_delay,
    ),
    (
        "at7600_link_open_latency",
        "time from AT+CIPOPEN to its link being up (TCP connected, UDP bound)",
        |m| &m.link_open_latency,
    ),
];

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let build = Info::new([
            ("version", env!("CARGO_PKG_VERSION")),
            (
                "profile",
                if cfg!(debug_assertions) {
                    "debug"
                } else {
                    "release"
                },
            ),
            ("target", std::env::consts::ARCH),
            ("os", std::env::consts::OS),
        ]);
        build.encode(encoder.encode_descriptor(
            "at7600_build",
            "the daemon's version and build",
            None,
            build.metric_type(),
        )?)?;
        gauge(&mut encoder, "at7600_modems", "modems running", self.modems)?;
        counter(
            &mut encoder,
            "at7600_modems_ended",
            "modems that ended (a --tcp host hung up); their counters stay in the totals",
            self.left,
        )?;
        gauge(
            &mut encoder,
            "at7600_links",
            "links in use (opening, open or closing)",
            self.links,
        )?;
        gauge(
            &mut encoder,
            "at7600_sessions",
            "modems with the network open (PDP context active, AT+NETOPEN)",
            self.sessions,
        )?;
        gauge(
            &mut encoder,
            "at7600_data_mode",
            "modems whose host is in transparent data mode",
            self.data_mode,
        )?;
        for (name, help, get) in COUNTERS {
            counter(
                &mut encoder,
                &format!("at7600_{name}"),
                help,
                get(&self.total),
            )?;
        }
        for (name, help, get) in HISTOGRAMS {
            histogram(&mut encoder, name, help, get(&self.total.metrics))?;
        }
        if !self.per_modem.is_empty() {
            self.encode_per_modem(&mut encoder)?;
        }
        if let Some(p) = &self.process {
            p.encode(&mut encoder)?;
        }
        Ok(())
    }
}

impl Snapshot {
    /// `at7600_modem_*{imei,front_end}`: the same counters, one series per live modem.
    fn encode_per_modem(&self, encoder: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for (name, help, get) in COUNTERS {
            let name = format!("at7600_modem_{name}");
            let mut family = encoder.encode_descriptor(&name, help, None, MetricType::Counter)?;
            for (imei, front_end, seen) in &self.per_modem {
                let labels = [("imei", imei.as_str()), ("front_end", front_end.as_str())];
                ConstCounter::new(get(&seen.totals)).encode(family.encode_family(&labels)?)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "at7600_modem_links",
            "links in use on this modem",
            None,
            MetricType::Gauge,
        )?;
        for (imei, front_end, seen) in &self.per_modem {
            let labels = [("imei", imei.as_str()), ("front_end", front_end.as_str())];
            ConstGauge::new(gauge_value(seen.links)).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

/// Gauges hold i64; counts beyond it do not happen, and saturate if they did.
fn gauge_value(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let g = ConstGauge::new(gauge_value(value));
    g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)
}

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let c = ConstCounter::new(value);
    c.encode(encoder.encode_descriptor(name, help, None, c.metric_type())?)
}

/// A core histogram in seconds: per-bucket counts with their upper bounds, `+Inf` last
/// (the encoder makes them cumulative).
fn histogram(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    h: &Histogram,
) -> Result<(), std::fmt::Error> {
    let bounds = LATENCY_BOUNDS_MS
        .iter()
        .map(|&ms| ms as f64 / 1000.0)
        .chain([f64::INFINITY]);
    let buckets: Vec<(f64, u64)> = bounds.zip(h.buckets).collect();
    encoder
        .encode_descriptor(name, help, Some(&Unit::Seconds), MetricType::Histogram)?
        .encode_histogram::<NoLabelSet>(h.sum.as_secs_f64(), h.count(), &buckets, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use at7600_core::{Modem, ModemConfig};

    fn view(commands: u64) -> View {
        View {
            status: Modem::new(ModemConfig::default()).status(),
            metrics: Metrics {
                commands,
                ..Metrics::default()
            },
            faults: 0,
            last_commands: Vec::new(),
        }
    }

    fn commands(ledger: &Ledger) -> u64 {
        ledger.snapshot().total.metrics.commands
    }

    /// A modem that leaves between a scrape's question and its answer is counted once,
    /// with its final counters, and the total never goes down.
    #[test]
    fn a_modem_leaving_mid_scrape_counts_once_and_totals_only_grow() {
        let mut ledger = Ledger::new(true);
        ledger.join(1, "tcp", "867584030012347");
        ledger.join(2, "tcp", "867584030012354");
        ledger.saw(1, &view(4));
        ledger.saw(2, &view(3));
        assert_eq!(commands(&ledger), 7);

        let final_counters = Totals {
            metrics: view(5).metrics,
            faults: 1,
        };
        ledger.leave(1, final_counters);
        // Its answer to a scrape asked before it left arrives late: dropped.
        ledger.saw(1, &view(4));
        let s = ledger.snapshot();
        assert_eq!((s.total.metrics.commands, s.total.faults), (8, 1));
        assert_eq!((s.modems, s.left), (1, 1));
        assert_eq!(s.per_modem.len(), 1, "the modem that left has no series");
        // Leaving twice (or a modem never joined) changes nothing.
        ledger.leave(1, final_counters);
        ledger.leave(9, final_counters);
        assert_eq!(commands(&ledger), 8);

        ledger.leave(
            2,
            Totals {
                metrics: view(6).metrics,
                faults: 0,
            },
        );
        assert_eq!(commands(&ledger), 11, "both modems' final counters");
    }

    #[test]
    fn per_modem_series_off_keeps_the_totals() {
        let mut ledger = Ledger::new(false);
        ledger.join(1, "pty", "867584030012347");
        ledger.saw(1, &view(2));
        let s = ledger.snapshot();
        assert!(s.per_modem.is_empty());
        assert_eq!(s.total.metrics.commands, 2);
    }

    #[test]
    fn openmetrics_is_chosen_from_the_accept_header() {
        let accept = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT, HeaderValue::from_str(v).expect("header"));
            wants_openmetrics(&h)
        };
        assert!(accept(
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"
        ));
        assert!(accept("text/plain, Application/OpenMetrics-Text; q=0.3"));
        assert!(!accept("text/plain;version=0.0.4"));
        assert!(!accept("application/openmetrics-text; q=0"));
        assert!(!wants_openmetrics(&HeaderMap::new()));
    }
}
