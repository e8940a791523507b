//! Throughput cases: transparent mode both ways, CIPSEND lock-step, CIPRXGET drain and
//! direct push, each against socat relaying the same traffic between a PTY and TCP.

use super::{mbps, Ctx, RUN_TIME};
use crate::io::{within, Port};
use crate::modem::{parse_rxget, Host};
use crate::payload::{seeded, Verifier};
use crate::peer::{responder, sink, source, Listener};
use crate::procs::socat;
use crate::report::{Metric, Target};
use anyhow::{bail, Result};
use std::sync::Arc;
use std::time::Instant;

/// CIPSEND's largest fixed length, and the chunk of every lock-step case.
const CHUNK: usize = 1500;

/// Runs `ours` and `reference` alternately, `ctx.pairs` times, into one metric.
fn pairs(
    ctx: &Ctx,
    metric: Metric,
    mut ours: impl FnMut(u64) -> Result<f64>,
    mut reference: impl FnMut(u64) -> Result<f64>,
) -> Result<Vec<Metric>> {
    let mut metric = metric;
    for pair in 0..ctx.pairs as u64 {
        let a = ours(pair)?;
        let b = reference(pair)?;
        metric.push(a, b);
        ctx.step();
    }
    Ok(vec![metric])
}

/// A source peer sends `data` once `open` has set up the far side for its port
/// (returning what must live for the run, and the host's end); `read` takes all of it
/// at the host. MB/s from the go to the last verified byte.
fn timed_down<G, H>(
    data: &Arc<[u8]>,
    open: impl FnOnce(u16) -> Result<(G, H)>,
    read: impl FnOnce(&mut H, &mut Verifier) -> Result<()>,
) -> Result<f64> {
    let listener = Listener::bind()?;
    let port = listener.port;
    let mut peer = source(listener, data.clone(), RUN_TIME);
    let (guard, mut host) = open(port)?;
    let mut verifier = Verifier::new(data.clone());
    peer.go();
    let start = Instant::now();
    read(&mut host, &mut verifier)?;
    let elapsed = start.elapsed();
    verifier.finish()?;
    drop(host);
    drop(guard);
    peer.join()?;
    Ok(mbps(data.len(), elapsed))
}

/// socat's TCP -> PTY relay: a peer sends `data`, the host reads and checks it. MB/s.
pub fn socat_down(ctx: &Ctx, data: &Arc<[u8]>) -> Result<f64> {
    timed_down(
        data,
        |port| {
            let (proc, link) = socat(&ctx.dir, "socat-down", port)?;
            Ok((proc, Port::open_tty(&link)?))
        },
        |host, verifier| host.take(data.len(), within(RUN_TIME), |b| verifier.feed(b)),
    )
}

/// A modem on a PTY whose link 1 (or link 0 in transparent mode) goes to a source peer
/// sending `data`; `read` takes the stream at the host.
fn ours_down(
    ctx: &Ctx,
    data: &Arc<[u8]>,
    setup: impl Fn(&mut Host, u16) -> Result<()>,
    read: impl Fn(&mut Host, &mut Verifier) -> Result<()>,
) -> Result<f64> {
    timed_down(
        data,
        |port| {
            let daemon = ctx.at7600.pty("ours-down")?;
            let mut host = Host::open(&daemon.link)?;
            setup(&mut host, port)?;
            Ok((daemon, host))
        },
        |host, verifier| read(host, verifier),
    )
}

/// A peer -> host case against socat's TCP -> PTY relay of the same bytes (`size`
/// full and quick, from `seed`); `setup` and `read` as in [`ours_down`].
fn down_case(
    ctx: &Ctx,
    case: &str,
    seed: u64,
    size: (usize, usize),
    setup: impl Fn(&mut Host, u16) -> Result<()>,
    read: impl Fn(&mut Host, &mut Verifier) -> Result<()>,
) -> Result<Vec<Metric>> {
    let data = seeded(seed, ctx.size(size.0, size.1));
    pairs(
        ctx,
        Metric::paired(case, "MB/s", "socat", Target::RatioAtLeast(1.0)),
        |_| ours_down(ctx, &data, &setup, &read),
        |_| socat_down(ctx, &data),
    )
}

/// Transparent mode, peer -> host.
pub fn transparent_down(ctx: &Ctx) -> Result<Vec<Metric>> {
    down_case(
        ctx,
        "transparent-down",
        1,
        (32 << 20, 4 << 20),
        |host, port| host.transparent(port),
        |host, v| {
            let n = v.remaining();
            host.port.take(n, within(RUN_TIME), |b| v.feed(b))
        },
    )
}

/// Host -> peer through `host` (already set up); `send` writes the stream. MB/s from
/// the start to the later of the host finishing and the peer holding every byte.
fn timed_up(
    peer: crate::peer::Peer<Instant>,
    bytes: usize,
    send: impl FnOnce() -> Result<()>,
) -> Result<f64> {
    let start = Instant::now();
    send()?;
    let host_done = Instant::now();
    let peer_done = peer.join()?;
    Ok(mbps(bytes, host_done.max(peer_done) - start))
}

/// Transparent mode, host -> peer.
pub fn transparent_up(ctx: &Ctx) -> Result<Vec<Metric>> {
    let data = seeded(2, ctx.size(32 << 20, 4 << 20));
    pairs(
        ctx,
        Metric::paired("transparent-up", "MB/s", "socat", Target::RatioAtLeast(1.0)),
        |_| {
            let listener = Listener::bind()?;
            let port = listener.port;
            let peer = sink(listener, data.clone(), None, RUN_TIME);
            let daemon = ctx.at7600.pty("ours-up")?;
            let mut host = Host::open(&daemon.link)?;
            host.transparent(port)?;
            timed_up(peer, data.len(), || {
                host.port.write_all(&data, within(RUN_TIME))
            })
        },
        |_| {
            let listener = Listener::bind()?;
            let port = listener.port;
            let peer = sink(listener, data.clone(), None, RUN_TIME);
            let (_proc, link) = socat(&ctx.dir, "socat-up", port)?;
            let mut host = Port::open_tty(&link)?;
            timed_up(peer, data.len(), || host.write_all(&data, within(RUN_TIME)))
        },
    )
}

/// `AT+CIPSEND=1,<n>` per 1500-byte chunk, each time waiting for the `>` prompt and
/// the `+CIPSEND: 1,<n>,<n>` report; socat's reference relays each chunk and waits for
/// the peer's one-byte answer (one round trip per chunk, where the modem needs two PTY
/// turnarounds).
pub fn cipsend_lockstep(ctx: &Ctx) -> Result<Vec<Metric>> {
    let data = seeded(3, CHUNK * ctx.size(3000, 300));
    pairs(
        ctx,
        Metric::paired(
            "cipsend-lockstep",
            "MB/s",
            "socat",
            Target::RatioAtLeast(0.5),
        ),
        |_| {
            let listener = Listener::bind()?;
            let port = listener.port;
            let peer = sink(listener, data.clone(), None, RUN_TIME);
            let daemon = ctx.at7600.pty("ours-cipsend")?;
            let mut host = Host::open(&daemon.link)?;
            host.netopen()?;
            host.open_link(1, port)?;
            timed_up(peer, data.len(), || {
                let deadline = within(RUN_TIME);
                for chunk in data.chunks(CHUNK) {
                    // `\r\n`: the `\n` is swallowed, so a payload starting with `\n` is kept.
                    let line = format!("AT+CIPSEND=1,{}\r\n", chunk.len());
                    host.port.write_all(line.as_bytes(), deadline)?;
                    host.port.until(b">", deadline)?;
                    host.port.write_all(chunk, deadline)?;
                    host.port.until(b"+CIPSEND: 1,", deadline)?;
                    let report = host.port.until(b"\r\n", deadline)?;
                    let want = format!("{0},{0}\r\n", chunk.len());
                    if report != want.as_bytes() {
                        bail!("+CIPSEND: 1,{}", String::from_utf8_lossy(&report).trim());
                    }
                }
                Ok(())
            })
        },
        |_| {
            let listener = Listener::bind()?;
            let port = listener.port;
            let peer = sink(listener, data.clone(), Some(CHUNK), RUN_TIME);
            let (_proc, link) = socat(&ctx.dir, "socat-lockstep", port)?;
            let mut host = Port::open_tty(&link)?;
            timed_up(peer, data.len(), || {
                let deadline = within(RUN_TIME);
                for chunk in data.chunks(CHUNK) {
                    host.write_all(chunk, deadline)?;
                    host.take(1, deadline, |_| Ok(()))?;
                }
                Ok(())
            })
        },
    )
}

/// Reads link 1 in buffer access mode until `verifier` has everything: after each
/// `+CIPRXGET: 1,1` report, `AT+CIPRXGET=2,1,1500` until the rest is 0. `need_report`:
/// wait for the report before the first read.
pub fn drain(host: &mut Host, verifier: &mut Verifier, need_report: bool) -> Result<()> {
    let deadline = within(RUN_TIME);
    let mut need_report = need_report;
    for _ in 0..100_000_000u64 {
        if verifier.remaining() == 0 {
            return Ok(());
        }
        if need_report {
            host.port.until(b"+CIPRXGET: 1,1\r\n", deadline)?;
        }
        host.port.write_all(b"AT+CIPRXGET=2,1,1500\r", deadline)?;
        host.port.until(b"+CIPRXGET: 2,", deadline)?;
        let fields = host.port.until(b"\r\n", deadline)?;
        let (read, rest) = parse_rxget(&fields)?;
        host.port.take(read, deadline, |b| verifier.feed(b))?;
        host.port.until(b"OK\r\n", deadline)?;
        need_report = rest == 0;
    }
    bail!("drain did not end")
}

/// The request a host sends for each piece in buffer access mode.
const RXGET_REQUEST: &[u8] = b"AT+CIPRXGET=2,1,1500\r";

/// Buffer access mode, draining with `AT+CIPRXGET=2`, 1500 bytes per request. The
/// reference is socat relaying the same lock-step exchange: the host writes a request of
/// the same length, the peer answers with the next 1500 bytes (one round trip per
/// piece, as for the modem, whose data is already buffered).
pub fn ciprxget_drain(ctx: &Ctx) -> Result<Vec<Metric>> {
    let data = seeded(4, ctx.size(8 << 20, 1 << 20));
    pairs(
        ctx,
        Metric::paired("ciprxget-drain", "MB/s", "socat", Target::RatioAtLeast(1.0)),
        |_| {
            ours_down(
                ctx,
                &data,
                |host, port| {
                    host.command("AT+CIPRXGET=1\r", "OK\r\n")?;
                    host.netopen()?;
                    host.open_link(1, port)
                },
                |host, v| drain(host, v, true),
            )
        },
        |_| {
            let listener = Listener::bind()?;
            let port = listener.port;
            let peer = responder(listener, data.clone(), RXGET_REQUEST.len(), CHUNK, RUN_TIME);
            let (proc, link) = socat(&ctx.dir, "socat-drain", port)?;
            let mut host = Port::open_tty(&link)?;
            let mut verifier = Verifier::new(data.clone());
            let deadline = within(RUN_TIME);
            let start = Instant::now();
            while verifier.remaining() > 0 {
                host.write_all(RXGET_REQUEST, deadline)?;
                let n = verifier.remaining().min(CHUNK);
                host.take(n, deadline, |b| verifier.feed(b))?;
            }
            let elapsed = start.elapsed();
            verifier.finish()?;
            drop(host);
            drop(proc);
            peer.join()?;
            Ok(mbps(data.len(), elapsed))
        },
    )
}

/// Direct push: `+IPD<n>` frames, parsed and checked.
pub fn direct_push(ctx: &Ctx) -> Result<Vec<Metric>> {
    down_case(
        ctx,
        "direct-push",
        5,
        (16 << 20, 2 << 20),
        |host, port| {
            host.netopen()?;
            host.open_link(1, port)
        },
        |host, v| {
            let deadline = within(RUN_TIME);
            while v.remaining() > 0 {
                if Instant::now() > deadline {
                    bail!("direct push timed out");
                }
                let n = host.ipd_header()?;
                host.port.take(n, deadline, |b| v.feed(b))?;
            }
            Ok(())
        },
    )
}
