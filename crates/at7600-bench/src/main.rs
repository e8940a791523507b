//! `at7600-bench`: the performance suite of at7600 (see docs/performance.md).
//!
//! Every case runs at7600 and a reference that moves the same traffic (socat relaying
//! a PTY and TCP, a raw PTY round trip, a bare connect + close loop) alternately in the
//! same run, on seeded bytes that are checked at the far end, and reports the median of
//! the per-pair ratios with their spread.
#![warn(missing_docs)]

mod cases;
mod io;
mod modem;
mod payload;
mod peer;
mod procfs;
mod procs;
mod report;
mod stats;

use anyhow::{bail, Context, Result};
use cases::{Ctx, CASES};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use procs::At7600;
use report::{Metric, Run};
use std::path::{Path, PathBuf};

/// Benchmarks at7600 against socat, a raw PTY and bare connects, on verified bytes.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The at7600 binary to measure [default: the workspace's target/release/at7600,
    /// built with `cargo build --release -p at7600` if missing].
    #[arg(long, value_name = "PATH")]
    at7600: Option<PathBuf>,
    /// Small sizes and 3 pairs: the whole suite in under a minute.
    #[arg(long)]
    quick: bool,
    /// Pairs (A B) per case [default: 5, or 3 with --quick].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=100))]
    pairs: Option<u16>,
    /// Modems in the fleet cases [default: 4000, or 100 with --quick].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20000))]
    fleet: Option<u32>,
    /// Only these cases (repeatable, or a comma-separated list); see --list.
    #[arg(long = "case", value_name = "NAME", value_delimiter = ',')]
    cases: Vec<String>,
    /// Also write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// List the cases and exit.
    #[arg(long)]
    list: bool,
}

fn main() {
    // A bad option or a missing tool is a message, not a backtrace.
    if let Err(e) = run(Args::parse()) {
        eprintln!("at7600-bench: {e:#}");
        std::process::exit(2);
    }
}

fn run(args: Args) -> Result<()> {
    if args.list {
        for case in CASES {
            println!("{:<17} {}", case.name, case.about);
        }
        return Ok(());
    }
    for name in &args.cases {
        if !CASES.iter().any(|c| c.name == name) {
            bail!("no case {name:?}; --list shows them");
        }
    }
    let selected: Vec<_> = CASES
        .iter()
        .filter(|c| args.cases.is_empty() || args.cases.iter().any(|n| n == c.name))
        .collect();
    let bin = match &args.at7600 {
        Some(path) => path.clone(),
        None => default_binary()?,
    };
    if !bin.is_file() {
        bail!("{} is not a file", bin.display());
    }
    let bin = bin.canonicalize().context("the at7600 binary")?;
    procs::ensure_socat()?;
    let nofile = procfs::raise_nofile();
    let pairs = usize::from(args.pairs.unwrap_or(if args.quick { 3 } else { 5 }));
    let fleet = args
        .fleet
        .map_or(if args.quick { 100 } else { 4000 }, |n| n as usize);
    if (2 * fleet + 64) as u64 > nofile {
        eprintln!("warning: {nofile} open files allowed; a fleet of {fleet} needs more");
    }
    let tmp = std::env::temp_dir().join(format!("at7600-bench.{}", std::process::id()));
    std::fs::create_dir_all(&tmp).context("temporary directory")?;
    let steps: usize = selected
        .iter()
        .map(|c| if c.once { 1 } else { pairs })
        .sum();
    let bar = ProgressBar::new(steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let ctx = Ctx {
        at7600: At7600 {
            bin: bin.clone(),
            dir: tmp.clone(),
        },
        dir: tmp.clone(),
        pairs,
        quick: args.quick,
        fleet,
        bar: bar.clone(),
    };
    let mut machine = procfs::machine();
    let mut metrics = Vec::new();
    for case in selected {
        bar.set_message(case.name);
        let before = bar.position();
        match (case.run)(&ctx) {
            Ok(m) => metrics.extend(m),
            Err(e) => {
                metrics.push(Metric::missing(case.name, format!("error: {e:#}")));
                // Keep the bar honest about what is left.
                let steps = if case.once { 1 } else { pairs } as u64;
                bar.set_position(before + steps);
            }
        }
    }
    bar.finish_and_clear();
    machine.load_after = procfs::loadavg();
    let _ = std::fs::remove_dir_all(&tmp);
    let run = Run {
        binary: bin.display().to_string(),
        pairs,
        quick: args.quick,
        machine,
        metrics,
    };
    print!("{}", report::table(&run));
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&run)?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The workspace's release binary, built if missing.
fn default_binary() -> Result<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let bin = target.join("release/at7600");
    if !bin.is_file() {
        eprintln!("building {}", bin.display());
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "--release", "-p", "at7600"])
            .current_dir(&root)
            .status()
            .context("cargo build")?;
        if !status.success() {
            bail!("cargo build --release -p at7600 failed ({status})");
        }
    }
    Ok(bin)
}
