//! Resource cases: the idle cost of one modem, and fleets of modems in one process (PTY
//! with `--count`, and `serve --tcp`): memory per modem, idle CPU, answers under load.

use super::latency::at_samples;
use super::{Ctx, RUN_TIME};
use crate::io::{within, Port};
use crate::modem::{Host, ANSWER};
use crate::peer::{Holder, Listener};
use crate::procfs::{cpu_ticks, listen_overflows, rss_kib};
use crate::procs::{socat, Fleet};
use crate::report::{Metric, Target};
use crate::stats::percentile;
use anyhow::{anyhow, bail, Context, Result};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::Duration;

/// The idle window.
const IDLE: Duration = Duration::from_secs(5);

/// Timed `AT` round trips per sampled fleet modem.
const AT_PER_SAMPLE: usize = 50;

/// Concurrent connects to `serve --tcp`.
const BURST: usize = 256;

/// CPU ticks each process in `pids` used over one idle window.
fn idle_ticks(pids: &[u32]) -> Result<Vec<f64>> {
    let before = pids
        .iter()
        .map(|&p| cpu_ticks(p))
        .collect::<Result<Vec<_>>>()?;
    std::thread::sleep(IDLE);
    let after = pids
        .iter()
        .map(|&p| cpu_ticks(p))
        .collect::<Result<Vec<_>>>()?;
    Ok(after
        .iter()
        .zip(&before)
        .map(|(a, b)| a.saturating_sub(*b) as f64)
        .collect())
}

/// A modem with its port and one link open, and socat with its PTY open and its TCP
/// connection: both idle in the same windows.
pub fn idle(ctx: &Ctx) -> Result<Vec<Metric>> {
    let listener = Listener::bind()?;
    let port = listener.port;
    let holder = listener.hold(2, RUN_TIME * 10);
    let daemon = ctx.at7600.pty("ours-idle")?;
    let mut host = Host::open(&daemon.link)?;
    host.netopen()?;
    host.open_link(1, port)?;
    let (proc, link) = socat(&ctx.dir, "socat-idle", port)?;
    let _socat_host = Port::open_tty(&link)?;
    holder.wait_for(2, ANSWER)?;
    std::thread::sleep(Duration::from_millis(300));
    let mut metric = Metric::paired("idle", "ticks in 5 s", "socat", Target::AtMost(0.0));
    let windows = if ctx.quick { 1 } else { ctx.pairs };
    for _ in 0..windows {
        let ticks = idle_ticks(&[daemon.proc.pid(), proc.pid()])?;
        metric.push(ticks[0], ticks[1]);
        ctx.step();
    }
    // A quick run has one window for all its pairs.
    ctx.bar.inc((ctx.pairs - windows) as u64);
    Ok(vec![metric])
}

/// Resident KiB of a daemon with no modem (`serve --tcp`, nobody connected).
fn empty_rss(ctx: &Ctx) -> Result<u64> {
    let empty = ctx.at7600.tcp()?;
    std::thread::sleep(Duration::from_millis(300));
    rss_kib(empty.proc.pid())
}

/// Puts every host through the same steps at once: each step is written to all of them,
/// then every answer is awaited (so the fleet is set up in about one round trip per
/// step, not one per modem).
fn all_hosts(hosts: &mut [Port], peer_port: u16) -> Result<()> {
    let open = format!("AT+CIPOPEN=1,\"TCP\",\"127.0.0.1\",{peer_port}\r");
    let steps: [(&str, &[u8]); 2] = [
        ("AT+NETOPEN\r", b"+NETOPEN: 0\r\n"),
        (&open, b"+CIPOPEN: 1,0\r\n"),
    ];
    for (line, answer) in steps {
        for host in hosts.iter_mut() {
            host.write_all(line.as_bytes(), within(ANSWER))?;
        }
        let deadline = within(ANSWER + Duration::from_millis(hosts.len() as u64));
        for (i, host) in hosts.iter_mut().enumerate() {
            host.until(answer, deadline)
                .with_context(|| format!("modem {i}: {}", line.trim_end()))?;
        }
    }
    Ok(())
}

/// Turns echo off on every host; a PTY modem that had not yet seen its port open gets
/// the command again.
fn echo_off(hosts: &mut [Port]) -> Result<()> {
    for host in hosts.iter_mut() {
        host.write_all(b"ATE0\r", within(ANSWER))?;
    }
    for (i, host) in hosts.iter_mut().enumerate() {
        let mut ok = false;
        for _ in 0..5 {
            if host
                .until(b"OK\r\n", within(Duration::from_secs(2)))
                .is_ok()
            {
                ok = true;
                break;
            }
            host.write_all(b"ATE0\r", within(ANSWER))?;
        }
        if !ok {
            bail!("modem {i} does not answer ATE0");
        }
    }
    // Answers to repeated commands must not be taken for later ones.
    for host in hosts.iter_mut() {
        while !host.is_quiet(Duration::from_millis(1)) {
            host.until(b"OK\r\n", within(ANSWER))?;
        }
    }
    Ok(())
}

/// The memory, idle and answer metrics of a fleet of `n` modems in process `pid`.
fn fleet_numbers(
    case: &str,
    pid: u32,
    empty: u64,
    n: usize,
    holder: &Holder,
    max_kib: f64,
) -> Result<Vec<Metric>> {
    holder.wait_for(n, ANSWER)?;
    std::thread::sleep(Duration::from_secs(1));
    let rss = rss_kib(pid)?;
    let mut memory = Metric::paired(case, "KiB/modem", "", Target::AtMost(max_kib));
    memory.alone(rss.saturating_sub(empty) as f64 / n as f64);
    let mut ticks = Metric::paired(case, "ticks in 5 s", "", Target::AtMost(0.0));
    ticks.alone(idle_ticks(&[pid])?[0]);
    Ok(vec![memory, ticks])
}

/// `serve --pty 'DIR/fleet-ttyAT{n}' --count N`, each modem with `AT+NETOPEN` and one
/// link: KiB per modem over an empty daemon, idle ticks, and the `AT` p99 on a 1 %
/// sample against one modem alone.
pub fn fleet_pty(ctx: &Ctx) -> Result<Vec<Metric>> {
    let case = "fleet-pty";
    let n = ctx.fleet;
    let sampled: Vec<usize> = (0..n).step_by(100).collect();
    let count = AT_PER_SAMPLE * sampled.len();
    let single = {
        let daemon = ctx.at7600.pty("ours-single")?;
        let mut host = Host::open(&daemon.link)?;
        at_samples(&mut host.port, count)?
    };
    let empty = empty_rss(ctx)?;
    let (proc, links) = match ctx.at7600.pty_fleet(n)? {
        Fleet::Ready(proc, links) => (proc, links),
        Fleet::Unsupported => {
            ctx.step();
            return Ok(vec![Metric::missing(
                case,
                "n/a (binary lacks --count)".into(),
            )]);
        }
    };
    let listener = Listener::bind()?;
    let port = listener.port;
    let holder = listener.hold(n, RUN_TIME * 10);
    let mut hosts = links
        .iter()
        .map(|l| Port::open_tty(l))
        .collect::<Result<Vec<_>>>()?;
    echo_off(&mut hosts)?;
    all_hosts(&mut hosts, port)?;
    let mut metrics = fleet_numbers(&format!("{case} {n}"), proc.pid(), empty, n, &holder, 16.0)?;
    let mut samples = Vec::with_capacity(count);
    for &i in &sampled {
        samples.extend(at_samples(&mut hosts[i], AT_PER_SAMPLE)?);
    }
    let at = |p: f64| -> Result<(f64, f64)> {
        let none = || anyhow!("no samples");
        Ok((
            percentile(&samples, p).ok_or_else(none)?,
            percentile(&single, p).ok_or_else(none)?,
        ))
    };
    // The median is context for the p99, which is what the target is about.
    for (name, p, target) in [
        ("AT med us (1%)", 50.0, Target::None),
        ("AT p99 us (1%)", 99.0, Target::RatioAtMost(5.0)),
    ] {
        let mut answers = Metric::paired(&format!("{case} {n}"), name, "1 modem", target);
        let (fleet, alone) = at(p)?;
        answers.push(fleet, alone);
        metrics.push(answers);
    }
    ctx.step();
    Ok(metrics)
}

/// `n` hosts connected to `serve --tcp`, each with `AT+NETOPEN` and one link: KiB per
/// modem, idle ticks; then 256 concurrent connects, each answered, with the kernel's
/// ListenOverflows counter before and after.
pub fn fleet_tcp(ctx: &Ctx) -> Result<Vec<Metric>> {
    let n = ctx.fleet;
    let case = format!("fleet-tcp {n}");
    let daemon = ctx.at7600.tcp()?;
    std::thread::sleep(Duration::from_millis(300));
    let empty = rss_kib(daemon.proc.pid())?;
    let listener = Listener::bind()?;
    let port = listener.port;
    let holder = listener.hold(n, RUN_TIME * 10);
    let mut hosts = Vec::with_capacity(n);
    for i in 0..n {
        let stream = TcpStream::connect(&daemon.addr).with_context(|| format!("host {i}"))?;
        hosts.push(Port::tcp(stream)?);
    }
    echo_off(&mut hosts)?;
    all_hosts(&mut hosts, port)?;
    let mut metrics = fleet_numbers(&case, daemon.proc.pid(), empty, n, &holder, 14.5)?;

    let before = listen_overflows()?;
    let barrier = Arc::new(Barrier::new(BURST));
    let threads: Vec<_> = (0..BURST)
        .map(|_| {
            let barrier = barrier.clone();
            let addr = daemon.addr.clone();
            std::thread::spawn(move || -> Result<()> {
                barrier.wait();
                let mut port = Port::tcp(TcpStream::connect(&addr)?)?;
                port.write_all(b"AT\r", within(ANSWER))?;
                port.until(b"OK\r\n", within(ANSWER))?;
                Ok(())
            })
        })
        .collect();
    let mut answered = 0;
    for t in threads {
        if matches!(t.join(), Ok(Ok(()))) {
            answered += 1;
        }
    }
    let overflows = listen_overflows()?.saturating_sub(before);
    let mut burst = Metric::paired(&case, "overflows/256", "", Target::AtMost(0.0));
    burst.alone(overflows as f64);
    metrics.push(burst);
    if answered != BURST {
        metrics.push(Metric::missing(
            &case,
            format!("only {answered} of {BURST} concurrent hosts got an answer to AT"),
        ));
    }
    ctx.step();
    Ok(metrics)
}
