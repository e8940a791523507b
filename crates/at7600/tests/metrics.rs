//! `GET /metrics` read the way Prometheus reads it: parsed by a Prometheus text-format
//! parser, summed with `sum()`, and watched across `--tcp` modems that hang up. The
//! daemon runs `--tcp` fleets on loopback with the control API beside it; every wait is
//! bounded.

mod common;

use at7600_core::ModemConfig;
use common::{config_file, ctl, Daemon, WAIT};
use prometheus_parse::{Sample, Scrape, Value};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// `serve --tcp` on the simulated network with the control API, and `extra` flags.
fn sim_daemon(extra: &[&str]) -> (Daemon, String) {
    Daemon::start_with_control(&[&["--network", "sim"][..], extra].concat())
}

/// One scrape of `/metrics`, parsed.
fn scrape(control: &str) -> Scrape {
    let text = ctl(control, &["metrics"]);
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("the exposition parses")
}

/// A sample's value, whatever its type (histograms give their count).
fn value(s: &Sample) -> f64 {
    match &s.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
        Value::Summary(_) => panic!("{}: no summaries are exported", s.metric),
    }
}

/// The one process-wide sample of `name` (no `imei` label: not a per-modem series).
fn process_wide(scrape: &Scrape, name: &str) -> f64 {
    let found: Vec<&Sample> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && s.labels.get("imei").is_none())
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{name}: exactly one process-wide sample, got {found:?}"
    );
    value(found[0])
}

/// Scrapes until `at7600_modems` is `n` (bounded by [`WAIT`]); returns that scrape.
fn scrape_with_modems(control: &str, n: f64) -> Scrape {
    let start = Instant::now();
    loop {
        let s = scrape(control);
        if process_wide(&s, "at7600_modems") == n {
            return s;
        }
        assert!(
            start.elapsed() < WAIT,
            "at7600_modems never became {n}: {:?}",
            s.samples
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The issue's failure: `commands_total` went 4 -> 3 -> 0 as `--tcp` modems hung up,
/// which Prometheus reads as counter resets. Process-wide counters keep what a modem
/// that left had counted.
#[test]
fn process_wide_counters_never_go_down_when_tcp_modems_hang_up() {
    let (daemon, control) = sim_daemon(&[]);
    let mut a = daemon.modem();
    let mut b = daemon.modem();
    a.send("ATE0\r", "OK\\r\\n");
    a.send("AT+CSQ\r", "OK\\r\\n");
    a.send("AT+NOPE\r", "ERROR\\r\\n");
    b.send("ATE0\r", "OK\\r\\n");

    let counters = [
        "at7600_commands_total",
        "at7600_errors_total",
        "at7600_host_bytes_in_total",
        "at7600_host_bytes_out_total",
    ];
    let read = |s: &Scrape| counters.map(|name| process_wide(s, name));
    let both = read(&scrape_with_modems(&control, 2.0));
    assert_eq!(both[0], 4.0, "four commands so far");
    assert_eq!(both[1], 1.0, "one of them failed");

    drop(a);
    let one = read(&scrape_with_modems(&control, 1.0));
    drop(b);
    let none = read(&scrape_with_modems(&control, 0.0));
    for (i, name) in counters.iter().enumerate() {
        assert!(
            both[i] <= one[i] && one[i] <= none[i],
            "{name} went down: {} -> {} -> {}",
            both[i],
            one[i],
            none[i]
        );
    }
    assert_eq!(none[0], 4.0, "the modems that left keep their commands");
}

/// The IMEI of the `n`th modem of a fleet (counted from 0 in connection order).
fn imei(n: u64) -> String {
    ModemConfig::default().identity.nth(n).imei
}

/// The per-modem samples of `name`, by IMEI.
fn per_modem(scrape: &Scrape, name: &str) -> Vec<(String, f64)> {
    let mut found: Vec<(String, f64)> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter_map(|s| Some((s.labels.get("imei")?.to_string(), value(s))))
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// Every sample name of a scrape.
fn names(scrape: &Scrape) -> BTreeSet<String> {
    scrape.samples.iter().map(|s| s.metric.clone()).collect()
}

/// `GET path` over plain HTTP with an `Accept` header; returns (head, body).
fn get(control: &str, path: &str, accept: &str) -> (String, String) {
    let mut s = std::net::TcpStream::connect(control).expect("connect to the control API");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("answer");
    let (head, body) = answer.split_once("\r\n\r\n").expect("head and body");
    (head.to_ascii_lowercase(), body.to_string())
}

/// The process-wide families, with their Prometheus types.
const FAMILIES: [(&str, &str); 21] = [
    ("at7600_build_info", "gauge"),
    ("at7600_modems", "gauge"),
    ("at7600_modems_ended_total", "counter"),
    ("at7600_links", "gauge"),
    ("at7600_sessions", "gauge"),
    ("at7600_data_mode", "gauge"),
    ("at7600_commands_total", "counter"),
    ("at7600_errors_total", "counter"),
    ("at7600_urcs_total", "counter"),
    ("at7600_host_bytes_in_total", "counter"),
    ("at7600_host_bytes_out_total", "counter"),
    ("at7600_net_bytes_sent_total", "counter"),
    ("at7600_net_bytes_received_total", "counter"),
    ("at7600_faults_total", "counter"),
    ("at7600_command_latency_seconds", "histogram"),
    ("at7600_urc_delay_seconds", "histogram"),
    ("at7600_link_open_latency_seconds", "histogram"),
    ("process_cpu_seconds_total", "counter"),
    ("process_resident_memory_bytes", "gauge"),
    ("process_open_fds", "gauge"),
    ("process_start_time_seconds", "gauge"),
];

/// The counters that exist process-wide and per modem (`at7600_modem_<name>`).
const COUNTERS: [&str; 8] = [
    "commands_total",
    "errors_total",
    "urcs_total",
    "host_bytes_in_total",
    "host_bytes_out_total",
    "net_bytes_sent_total",
    "net_bytes_received_total",
    "faults_total",
];

#[test]
fn every_family_has_its_type_and_help() {
    let (daemon, control) = sim_daemon(&[]);
    let mut a = daemon.modem();
    a.send("ATE0\r", "OK\\r\\n");
    // Each family's lines start a line, the first one included.
    let text = format!("\n{}", ctl(&control, &["metrics"]));
    for (name, kind) in FAMILIES {
        assert!(
            text.contains(&format!("\n# TYPE {name} {kind}\n")),
            "no {kind} {name} in\n{text}"
        );
        assert!(
            text.contains(&format!("\n# HELP {name} ")),
            "{name} has no help"
        );
    }
    for name in COUNTERS {
        assert!(text.contains(&format!("\n# TYPE at7600_modem_{name} counter\n")));
    }
    let s = scrape(&control);
    let build = s
        .samples
        .iter()
        .find(|s| s.metric == "at7600_build_info")
        .expect("build info");
    assert_eq!(value(build), 1.0);
    assert_eq!(build.labels.get("version"), Some(env!("CARGO_PKG_VERSION")));
    assert!(process_wide(&s, "process_open_fds") >= 3.0);
    assert!(process_wide(&s, "process_start_time_seconds") > 1e9);
    assert_eq!(
        per_modem(&s, "at7600_modem_commands_total"),
        [(imei(0), 1.0)],
        "the modem is labelled by its IMEI"
    );
}

/// The issue's `sum()` counted twice: per-modem series beside a pre-summed one. Now
/// the per-modem series add up to the process-wide one.
#[test]
fn per_modem_series_add_up_to_the_process_wide_ones() {
    let (daemon, control) = sim_daemon(&[]);
    let mut a = daemon.modem();
    let mut b = daemon.modem();
    a.send("ATE0;+CMEE=1\r", "OK\\r\\n");
    a.send("AT+NOPE\r", "ERROR: 100\\r\\n");
    b.send("ATE0\r", "OK\\r\\n");
    b.send("AT+NETOPEN\r", "+NETOPEN: 0\\r\\n");
    b.send(
        "AT+CIPOPEN=1,\"TCP\",\"echo.sim\",7\r",
        "+CIPOPEN: 1,0\\r\\n",
    );
    b.send("AT+CIPSEND=1,5\r", "\\r\\n>");
    b.send("hello", "+CIPSEND: 1,5,5\\r\\n");
    b.expect("+IPD5\\r\\nhello");

    let s = scrape_with_modems(&control, 2.0);
    for name in COUNTERS {
        let each = per_modem(&s, &format!("at7600_modem_{name}"));
        let imeis: Vec<&str> = each.iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(imeis, [imei(0), imei(1)], "{name}: one series per IMEI");
        let sum: f64 = each.iter().map(|(_, v)| v).sum();
        assert_eq!(sum, process_wide(&s, &format!("at7600_{name}")), "{name}");
    }
    assert_eq!(process_wide(&s, "at7600_net_bytes_sent_total"), 5.0);
    assert_eq!(process_wide(&s, "at7600_net_bytes_received_total"), 5.0);
    assert_eq!(process_wide(&s, "at7600_links"), 1.0);
    assert_eq!(process_wide(&s, "at7600_sessions"), 1.0);
    assert_eq!(process_wide(&s, "at7600_link_open_latency_seconds"), 1.0);
    let links = per_modem(&s, "at7600_modem_links");
    assert_eq!(links, [(imei(0), 0.0), (imei(1), 1.0)]);
}

#[test]
fn per_modem_series_can_be_switched_off() {
    let file = config_file("[metrics]\nper_modem = false\n");
    let path = file.path().to_str().expect("utf-8 path");
    for flags in [&["--metrics-per-modem", "off"][..], &["--config", path][..]] {
        let (daemon, control) = sim_daemon(flags);
        let mut a = daemon.modem();
        a.send("ATE0\r", "OK\\r\\n");
        let s = scrape_with_modems(&control, 1.0);
        assert_eq!(process_wide(&s, "at7600_commands_total"), 1.0);
        let families: Vec<String> = names(&s)
            .into_iter()
            .filter(|n| n.starts_with("at7600_modem_"))
            .collect();
        assert!(families.is_empty(), "{flags:?}: {families:?}");
        assert!(
            s.samples.iter().all(|s| s.labels.get("imei").is_none()),
            "{flags:?}"
        );
    }
}

/// Bucket counts of a histogram sample, cumulative, by upper bound.
fn buckets(scrape: &Scrape, name: &str) -> Vec<(f64, f64)> {
    let s = scrape
        .samples
        .iter()
        .find(|s| s.metric == name)
        .unwrap_or_else(|| panic!("no {name}"));
    match &s.value {
        Value::Histogram(b) => b.iter().map(|b| (b.less_than, b.count)).collect(),
        other => panic!("{name} is not a histogram: {other:?}"),
    }
}

#[test]
fn histogram_buckets_move_with_commands_and_urcs() {
    let (daemon, control) = sim_daemon(&[]);
    let mut a = daemon.modem();
    a.send("ATE0;+CREG=1\r", "OK\\r\\n");
    let before = scrape_with_modems(&control, 1.0);
    let latency = "at7600_command_latency_seconds";
    let delay = "at7600_urc_delay_seconds";
    assert_eq!(process_wide(&before, latency), 1.0, "one line so far");
    assert_eq!(process_wide(&before, delay), 0.0);

    a.send("AT+CSQ\r", "OK\\r\\n");
    a.send("AT+NOPE\r", "ERROR\\r\\n");
    ctl(
        &control,
        &["fault", "1", r#"{"kind":"radio","reg_status":2}"#],
    );
    a.expect("+CREG: 2\\r\\n");
    let after = scrape(&control);
    assert_eq!(process_wide(&after, latency), 3.0, "every line counts once");
    assert_eq!(process_wide(&after, delay), 1.0, "the +CREG: URC");
    for name in [latency, delay] {
        let b = buckets(&after, name);
        assert!(b.len() >= 10, "{name}: {b:?}");
        assert!(b.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
        assert_eq!(b.last().map(|x| x.0), Some(f64::INFINITY));
    }
    // Answered at once on an instant modem: within the first buckets.
    let fast = buckets(&after, latency)
        .iter()
        .find(|(le, _)| *le >= 0.25)
        .map_or(0.0, |(_, n)| *n);
    assert_eq!(fast, 3.0);
}

#[test]
fn openmetrics_when_the_scraper_asks_for_it() {
    let (_daemon, control) = sim_daemon(&[]);
    // What Prometheus sends.
    let accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
                  version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let (head, body) = get(&control, "/metrics", accept);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("content-type: application/openmetrics-text; version=1.0.0"),
        "{head}"
    );
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert!(body.contains("\n# TYPE at7600_commands counter\nat7600_commands_total 0\n"));
    assert!(body.contains("\n# TYPE at7600_build info\n"));

    let (head, body) = get(&control, "/metrics", "*/*");
    assert!(
        head.contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    assert!(!body.contains("# EOF"));
    let (head, _) = get(&control, "/metrics", "application/openmetrics-text;q=0");
    assert!(head.contains("content-type: text/plain"), "{head}");
}

/// The Grafana dashboard is JSON, and its queries name only families the daemon
/// exports.
#[test]
fn the_grafana_dashboard_queries_families_that_exist() {
    let text = include_str!("../../../deploy/grafana/at7600.json");
    let dashboard: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    let exprs: Vec<&str> = panels
        .iter()
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
        .filter_map(|t| t["expr"].as_str())
        .collect();
    assert!(exprs.len() >= 6, "{exprs:?}");

    let (daemon, control) = sim_daemon(&[]);
    let mut a = daemon.modem();
    a.send("ATE0\r", "OK\\r\\n");
    let exported = names(&scrape_with_modems(&control, 1.0));
    for expr in exprs {
        let words = expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
        for word in words.filter(|w| w.starts_with("at7600_") || w.starts_with("process_")) {
            // A histogram's series are its family's name and a suffix.
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| word.strip_suffix(suffix))
                .filter(|base| exported.contains(*base))
                .unwrap_or(word);
            assert!(exported.contains(family), "{expr}: no family {word}");
        }
    }
}
