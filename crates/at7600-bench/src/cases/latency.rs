//! Latency cases: the `AT` round trip against a raw PTY round trip, URC latency against
//! socat's one-way TCP -> PTY latency, and link open/close churn against bare connects.

use super::stream::drain;
use super::{Ctx, RUN_TIME};
use crate::io::{make_raw, within, Port};
use crate::modem::Host;
use crate::payload::{seeded, Verifier};
use crate::peer::Listener;
use crate::procs::socat;
use crate::report::{Metric, Target};
use crate::stats::{median, percentile};
use anyhow::{anyhow, bail, Context, Result};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a URC case sends each time.
const URC_MESSAGE: usize = 16;

/// Untimed exchanges before the timed ones.
const WARM_UP: usize = 20;

/// Median and p99 of each side over the pairs, as two metrics.
struct Latency {
    median: Metric,
    p99: Metric,
}

impl Latency {
    fn new(case: &str, reference: &str, median_max: f64, p99_max: f64) -> Self {
        Latency {
            median: Metric::paired(
                case,
                "median us",
                reference,
                Target::RatioAtMost(median_max),
            ),
            p99: Metric::paired(case, "p99 us", reference, Target::RatioAtMost(p99_max)),
        }
    }

    fn push(&mut self, ours: &[f64], reference: &[f64]) -> Result<()> {
        let none = || anyhow!("no samples");
        self.median.push(
            median(ours).ok_or_else(none)?,
            median(reference).ok_or_else(none)?,
        );
        self.p99.push(
            percentile(ours, 99.0).ok_or_else(none)?,
            percentile(reference, 99.0).ok_or_else(none)?,
        );
        Ok(())
    }

    /// Runs both sides alternately; each returns its samples in microseconds.
    fn run(
        mut self,
        ctx: &Ctx,
        mut ours: impl FnMut() -> Result<Vec<f64>>,
        mut reference: impl FnMut() -> Result<Vec<f64>>,
    ) -> Result<Vec<Metric>> {
        for _ in 0..ctx.pairs {
            let a = ours()?;
            let b = reference()?;
            self.push(&a, &b)?;
            ctx.step();
        }
        Ok(vec![self.median, self.p99])
    }
}

/// Microseconds since `start`.
fn us(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e6
}

/// `count` timed `AT` round trips (after a warm-up) on a host with echo off.
pub fn at_samples(host: &mut Port, count: usize) -> Result<Vec<f64>> {
    let deadline = within(RUN_TIME);
    let mut samples = Vec::with_capacity(count);
    for i in 0..WARM_UP + count {
        let start = Instant::now();
        host.write_all(b"AT\r", deadline)?;
        let answer = host.until(b"OK\r\n", deadline)?;
        let took = us(start);
        if answer != b"\r\nOK\r\n" {
            bail!("AT answered {:?}", String::from_utf8_lossy(&answer));
        }
        if i >= WARM_UP {
            samples.push(took);
        }
    }
    Ok(samples)
}

/// The raw PTY round trip: a thread on the master answers each `\r` with `\r\nOK\r\n`,
/// as the modem would, with nothing in between.
pub fn raw_pty_samples(count: usize) -> Result<Vec<f64>> {
    let pty = nix::pty::openpty(None, None).context("openpty")?;
    make_raw(&pty.slave)?;
    let mut master = Port::new(pty.master)?;
    let exchanges = WARM_UP + count;
    let echo = std::thread::spawn(move || -> Result<()> {
        let deadline = within(RUN_TIME);
        for _ in 0..exchanges {
            master.until(b"\r", deadline)?;
            master.write_all(b"\r\nOK\r\n", deadline)?;
        }
        master.wait_closed(deadline);
        Ok(())
    });
    let mut slave = Port::new(pty.slave)?;
    let samples = at_samples(&mut slave, count);
    drop(slave);
    let echoed = echo.join().map_err(|_| anyhow!("echo thread panicked"))?;
    echoed.context("the raw PTY's answering side")?;
    samples
}

/// `AT` round trip against the raw PTY round trip.
pub fn at_rtt(ctx: &Ctx) -> Result<Vec<Metric>> {
    let count = ctx.size(2000, 300);
    Latency::new("at-rtt", "raw PTY", 1.3, 1.5).run(
        ctx,
        || {
            let daemon = ctx.at7600.pty("ours-rtt")?;
            let mut host = Host::open(&daemon.link)?;
            at_samples(&mut host.port, count)
        },
        || raw_pty_samples(count),
    )
}

/// Sends `count` messages from `peer` and times each until `arrived` saw it at the host.
fn one_way(
    peer: &mut Port,
    count: usize,
    mut arrived: impl FnMut(&mut Verifier) -> Result<()>,
) -> Result<Vec<f64>> {
    let messages = seeded(6, URC_MESSAGE * (WARM_UP + count));
    let deadline = within(RUN_TIME);
    let mut samples = Vec::with_capacity(count);
    for (i, message) in messages.chunks(URC_MESSAGE).enumerate() {
        let mut verifier = Verifier::new(Arc::from(message));
        let start = Instant::now();
        peer.write_all(message, deadline)?;
        arrived(&mut verifier)?;
        let took = us(start);
        verifier.finish()?;
        if i >= WARM_UP {
            samples.push(took);
        }
    }
    Ok(samples)
}

/// socat's one-way TCP -> PTY latency for `count` messages.
fn socat_one_way(ctx: &Ctx, count: usize) -> Result<Vec<f64>> {
    let listener = Listener::bind()?;
    let (_proc, link) = socat(&ctx.dir, "socat-urc", listener.port)?;
    let mut peer = Port::tcp(listener.accept(within(RUN_TIME))?)?;
    let mut host = Port::open_tty(&link)?;
    one_way(&mut peer, count, |v| {
        host.take(URC_MESSAGE, within(RUN_TIME), |b| v.feed(b))
    })
}

/// A modem with the network open and link 1 to a peer of ours; `setup` runs first.
fn modem_with_link(ctx: &Ctx, setup: &str) -> Result<(crate::procs::PtyDaemon, Host, Port)> {
    let listener = Listener::bind()?;
    let daemon = ctx.at7600.pty("ours-urc")?;
    let mut host = Host::open(&daemon.link)?;
    if !setup.is_empty() {
        host.command(setup, "OK\r\n")?;
    }
    host.netopen()?;
    host.open_link(1, listener.port)?;
    let peer = Port::tcp(listener.accept(within(RUN_TIME))?)?;
    Ok((daemon, host, peer))
}

/// Peer write -> the whole `+IPD` frame at the host.
pub fn urc_ipd(ctx: &Ctx) -> Result<Vec<Metric>> {
    let count = ctx.size(1000, 200);
    Latency::new("urc-ipd", "socat", 1.3, 1.5).run(
        ctx,
        || {
            let (_daemon, mut host, mut peer) = modem_with_link(ctx, "")?;
            one_way(&mut peer, count, |v| {
                while v.remaining() > 0 {
                    let n = host.ipd_header()?;
                    host.port.take(n, within(RUN_TIME), |b| v.feed(b))?;
                }
                Ok(())
            })
        },
        || socat_one_way(ctx, count),
    )
}

/// Peer write -> `+CIPRXGET: 1,1` at the host (then read, untimed, and checked).
pub fn urc_ciprxget(ctx: &Ctx) -> Result<Vec<Metric>> {
    let count = ctx.size(1000, 200);
    Latency::new("urc-ciprxget", "socat", 1.3, 1.5).run(
        ctx,
        || {
            let (_daemon, mut host, mut peer) = modem_with_link(ctx, "AT+CIPRXGET=1\r")?;
            let mut samples = Vec::with_capacity(count);
            let messages = seeded(7, URC_MESSAGE * (WARM_UP + count));
            let deadline = within(RUN_TIME);
            for (i, message) in messages.chunks(URC_MESSAGE).enumerate() {
                let start = Instant::now();
                peer.write_all(message, deadline)?;
                host.port.until(b"+CIPRXGET: 1,1\r\n", deadline)?;
                let took = us(start);
                let mut verifier = Verifier::new(Arc::from(message));
                drain(&mut host, &mut verifier, false)?;
                if i >= WARM_UP {
                    samples.push(took);
                }
            }
            Ok(samples)
        },
        || socat_one_way(ctx, count),
    )
}

/// `AT+CIPOPEN=1` + `AT+CIPCLOSE=1` cycles per second against a bare connect + close
/// loop to the same kind of peer; every cycle must reach the peer.
pub fn churn(ctx: &Ctx) -> Result<Vec<Metric>> {
    let count = ctx.size(2000, 300);
    let mut metric = Metric::paired("churn", "cycles/s", "bare", Target::AtLeast(5000.0));
    for _ in 0..ctx.pairs {
        let ours = {
            let listener = Listener::bind()?;
            let port = listener.port;
            let holder = listener.hold(count, RUN_TIME);
            let daemon = ctx.at7600.pty("ours-churn")?;
            let mut host = Host::open(&daemon.link)?;
            host.netopen()?;
            let start = Instant::now();
            for _ in 0..count {
                host.open_link(1, port)?;
                host.command("AT+CIPCLOSE=1\r", "+CIPCLOSE: 1,0\r\n")?;
            }
            let elapsed = start.elapsed();
            holder.wait_for(count, Duration::from_secs(10))?;
            count as f64 / elapsed.as_secs_f64()
        };
        let bare = {
            let listener = Listener::bind()?;
            let addr = ("127.0.0.1", listener.port);
            let holder = listener.hold(count, RUN_TIME);
            let start = Instant::now();
            for _ in 0..count {
                drop(TcpStream::connect(addr).context("bare connect")?);
            }
            let elapsed = start.elapsed();
            holder.wait_for(count, Duration::from_secs(10))?;
            count as f64 / elapsed.as_secs_f64()
        };
        metric.push(ours, bare);
        ctx.step();
    }
    Ok(vec![metric])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_raw_pty_reference_answers_every_at() {
        let samples = raw_pty_samples(10).expect("round trips");
        assert_eq!(samples.len(), 10);
    }
}
