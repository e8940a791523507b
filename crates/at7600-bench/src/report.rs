//! What a case measured, its target, and the table and JSON made of it.

use crate::stats::{median, pair_ratios, Spread};
use serde::Serialize;
use std::fmt::Write;

/// What a metric must reach.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Target {
    /// The median of per-pair ratios ours/reference at least this (throughput).
    RatioAtLeast(f64),
    /// The median of per-pair ratios at most this (latency).
    RatioAtMost(f64),
    /// Our median value at least this.
    AtLeast(f64),
    /// Our median value at most this.
    AtMost(f64),
    /// Reported only.
    None,
}

/// One row of the table: a quantity measured for at7600 and (usually) its reference.
#[derive(Clone, Debug, Serialize)]
pub struct Metric {
    /// The case it belongs to.
    pub case: String,
    /// What is measured, with its unit (e.g. "MB/s", "p99 us").
    pub name: String,
    /// The reference's name ("socat", "raw PTY", ...), empty when there is none.
    pub reference: String,
    /// The reference's value in each pair.
    pub reference_values: Vec<f64>,
    /// Our value in each pair.
    pub ours_values: Vec<f64>,
    /// What it must reach.
    pub target: Target,
    /// Why there is no value (a case the binary cannot run, or an error).
    pub note: Option<String>,
}

impl Metric {
    /// A metric with a reference.
    pub fn paired(case: &str, name: &str, reference: &str, target: Target) -> Self {
        Metric {
            case: case.into(),
            name: name.into(),
            reference: reference.into(),
            reference_values: Vec::new(),
            ours_values: Vec::new(),
            target,
            note: None,
        }
    }

    /// A row that says why the case has no numbers.
    pub fn missing(case: &str, note: String) -> Self {
        Metric {
            note: Some(note),
            ..Metric::paired(case, "", "", Target::None)
        }
    }

    /// Records one pair.
    pub fn push(&mut self, ours: f64, reference: f64) {
        self.ours_values.push(ours);
        self.reference_values.push(reference);
    }

    /// Records a value that has no reference.
    pub fn alone(&mut self, ours: f64) {
        self.ours_values.push(ours);
    }

    /// The per-pair ratios ours/reference, summarised.
    pub fn ratio(&self) -> Option<Spread> {
        Spread::of(&pair_ratios(&self.ours_values, &self.reference_values))
    }

    /// Whether the target is met (`None` when there is nothing to judge).
    pub fn met(&self) -> Option<bool> {
        let ours = median(&self.ours_values)?;
        match self.target {
            Target::RatioAtLeast(t) => self.ratio().map(|r| r.median >= t),
            Target::RatioAtMost(t) => self.ratio().map(|r| r.median <= t),
            Target::AtLeast(t) => Some(ours >= t),
            Target::AtMost(t) => Some(ours <= t),
            Target::None => None,
        }
    }
}

/// The machine and its load around the run.
#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    /// CPU model name.
    pub cpu: String,
    /// Online CPUs.
    pub cores: usize,
    /// Kernel release.
    pub kernel: String,
    /// /proc/loadavg's first three fields before the run.
    pub load_before: String,
    /// The same after the run.
    pub load_after: String,
}

/// A whole run, as written by `--json`.
#[derive(Serialize)]
pub struct Run {
    /// The at7600 binary measured.
    pub binary: String,
    /// Pairs per case.
    pub pairs: usize,
    /// `--quick` was given.
    pub quick: bool,
    /// Where it ran.
    pub machine: Machine,
    /// Every row, with its medians, ratio and verdict worked out.
    #[serde(serialize_with = "rows")]
    pub metrics: Vec<Metric>,
}

/// A metric as written to JSON: its values and what the table makes of them.
#[derive(Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    metric: &'a Metric,
    reference_median: Option<f64>,
    ours_median: Option<f64>,
    ratio: Option<Spread>,
    met: Option<bool>,
}

fn rows<S: serde::Serializer>(metrics: &[Metric], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(metrics.iter().map(|metric| Row {
        metric,
        reference_median: median(&metric.reference_values),
        ours_median: median(&metric.ours_values),
        ratio: metric.ratio(),
        met: metric.met(),
    }))
}

/// A value in at most 9 characters.
fn num(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 10_000.0 {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn target_text(t: Target) -> String {
    match t {
        Target::RatioAtLeast(v) => format!(">= {v}x"),
        Target::RatioAtMost(v) => format!("<= {v}x"),
        Target::AtLeast(v) => format!(">= {}", num(v)),
        Target::AtMost(v) => format!("<= {}", num(v)),
        Target::None => String::new(),
    }
}

/// The table, at most 100 columns wide.
pub fn table(run: &Run) -> String {
    let mut out = String::new();
    let m = &run.machine;
    let _ = writeln!(out, "at7600 {}", run.binary);
    let _ = writeln!(out, "machine: {} x {}, Linux {}", m.cores, m.cpu, m.kernel);
    let _ = writeln!(
        out,
        "load: {} -> {}; {} pairs{}",
        m.load_before,
        m.load_after,
        run.pairs,
        if run.quick { " (--quick)" } else { "" }
    );
    let _ = writeln!(
        out,
        "{:<17} {:<15} {:<9} {:>9} {:>9} {:>21} {:>9} ok",
        "case", "metric", "reference", "ref", "ours", "ratio med (min..max)", "target"
    );
    let _ = writeln!(out, "{}", "-".repeat(98));
    for metric in &run.metrics {
        if let Some(note) = &metric.note {
            let _ = writeln!(out, "{:<17} {}", metric.case, clip(note, 80));
            continue;
        }
        let reference = median(&metric.reference_values)
            .filter(|_| !metric.reference.is_empty())
            .map(num)
            .unwrap_or_else(|| "-".into());
        let ours = median(&metric.ours_values)
            .map(num)
            .unwrap_or_else(|| "-".into());
        let ratio = match (metric.reference.is_empty(), metric.ratio()) {
            (false, Some(r)) => format!("{} ({}..{})", num(r.median), num(r.min), num(r.max)),
            _ => "-".into(),
        };
        let ok = match metric.met() {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "",
        };
        let _ = writeln!(
            out,
            "{:<17} {:<15} {:<9} {:>9} {:>9} {:>21} {:>9} {}",
            clip(&metric.case, 17),
            clip(&metric.name, 15),
            clip(&metric.reference, 9),
            reference,
            ours,
            ratio,
            target_text(metric.target),
            ok
        );
    }
    out
}

fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(metrics: Vec<Metric>) -> Run {
        Run {
            binary: "target/release/at7600".into(),
            pairs: 3,
            quick: true,
            machine: Machine {
                cpu: "Intel(R) Xeon(R) Processor".into(),
                cores: 2,
                kernel: "6.18.44-fc-v1147".into(),
                load_before: "10.10 9.79 5.98".into(),
                load_after: "10.46 9.93 6.19".into(),
            },
            metrics,
        }
    }

    #[test]
    fn targets_are_judged_on_the_median_of_pair_ratios() {
        let mut m = Metric::paired(
            "transparent-down",
            "MB/s",
            "socat",
            Target::RatioAtLeast(1.0),
        );
        m.push(90.0, 100.0);
        m.push(120.0, 100.0);
        m.push(110.0, 100.0);
        assert_eq!(m.met(), Some(true));
        let mut slow = Metric::paired("at-rtt", "median us", "raw PTY", Target::RatioAtMost(1.3));
        slow.push(258.0, 35.0);
        assert_eq!(slow.met(), Some(false));
    }

    #[test]
    fn the_table_fits_in_100_columns() {
        let mut m = Metric::paired(
            "cipsend-lockstep",
            "MB/s",
            "socat",
            Target::RatioAtLeast(0.5),
        );
        m.push(1.7, 23.0);
        let mut churn = Metric::paired("churn", "cycles/s", "bare", Target::AtLeast(5000.0));
        churn.push(894.0, 50_000.0);
        let text = table(&run(vec![
            m,
            churn,
            Metric::missing("fleet-pty", "n/a (binary lacks --count)".into()),
        ]));
        assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
        assert!(text.contains("n/a (binary lacks --count)"));
        assert!(text.contains("NO"));
    }

    #[test]
    fn json_rows_carry_the_ratio_and_the_verdict() {
        let mut m = Metric::paired("direct-push", "MB/s", "socat", Target::RatioAtLeast(1.0));
        m.push(25.0, 100.0);
        m.push(30.0, 100.0);
        m.push(20.0, 100.0);
        let value = serde_json::to_value(run(vec![m])).expect("serializable");
        let row = &value["metrics"][0];
        assert_eq!(row["case"], "direct-push");
        assert_eq!(row["ratio"]["median"], 0.25);
        assert_eq!(row["met"], false);
        assert_eq!(row["ours_values"][1], 30.0);
    }
}
