//! The TCP front end: every accepted connection is its own modem.

use crate::driver::Driver;
use crate::netstack::NetSpec;
use crate::record::{numbered, Recorder};
use crate::workers::Workers;
use anyhow::{Context, Result};
use at7600_core::ModemConfig;
use at7600_net::AcceptBackoff;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Connections waiting to be accepted: enough for hundreds of hosts connecting at once
/// (the kernel caps it at `net.core.somaxconn`).
const BACKLOG: u32 = 4096;

/// Accepts host connections on `addr` until shutdown; each one gets a fresh modem with
/// its own network handle and identity ([`at7600_core::config::Identity::nth`]: the
/// lowest number of `identities` no connected modem holds, [`crate::slots`]), ended
/// (links closed) when the connection closes. Modems run on `workers`. With `record`, modem `n` (counted from 1 in connection order) is
/// recorded to `record` numbered `n` ([`numbered`]).
///
/// The descriptor limit is the only limit: past (limit - 64) / 2
/// modems, new hosts are accepted and closed at once (so they see a refusal, not a
/// hang), with one warning per episode; the modems already there and the control API
/// keep working.
pub async fn serve(
    addr: SocketAddr,
    config: ModemConfig,
    identities: crate::identity::IdentityRange,
    network: NetSpec,
    record: Option<&Path>,
    mut shutdown: watch::Receiver<bool>,
    workers: &Workers,
) -> Result<()> {
    let listener = listen(addr).with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr().context("listener address")?;
    // Modems must not reach their own front end (a link to it would be a new modem).
    let policy = match &network.backend {
        crate::netstack::Backend::Real(net) => &net.config().policy,
        crate::netstack::Backend::Sim(sim) => &sim.policy,
    };
    let _own = policy.own.add(bound);
    if !bound.ip().is_loopback() && policy.allow.is_empty() && policy.deny.is_empty() {
        tracing::warn!(
            %bound,
            "modems reachable from other hosts may reach every network this host can; \
             consider --allow/--deny (docs/network.md)"
        );
    }
    crate::service::ready_line(&format!("at7600: modems ready on tcp {bound}"));

    let mut modems = JoinSet::new();
    let mut count: u64 = 0;
    let slots = crate::slots::Slots::default();
    let max_modems = max_modems();
    tracing::debug!(max_modems, "modem limit from the descriptor limit");
    let mut reserve = Reserve::hold();
    let mut at_limit = false;
    let mut backoff = AcceptBackoff::new();
    loop {
        tokio::select! {
            changed = shutdown.changed() => if changed.is_err() || *shutdown.borrow() {
                break;
            },
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    backoff.succeeded("hosts");
                    if modems.len() >= max_modems {
                        // Full: the host sees its connection closed at once.
                        if !at_limit {
                            at_limit = true;
                            tracing::warn!(modems = modems.len(),
                                "modem limit reached (two descriptors per modem with a link, \
                                 {DESCRIPTOR_RESERVE} kept for the control API and the \
                                 daemon); new hosts are refused until one leaves \
                                 (raise the limit with ulimit -n)");
                        }
                        tracing::debug!(%peer, "refused: modem limit");
                        drop(stream);
                        continue;
                    }
                    if at_limit {
                        at_limit = false;
                        tracing::info!(modems = modems.len(), "accepting hosts again");
                    }
                    tracing::info!(%peer, "host connected");
                    let _ = stream.set_nodelay(true);
                    let stream = match stream.into_std() {
                        Ok(s) => s,
                        Err(e) => {
                            tracing::warn!(%peer, error = %e, "cannot hand the host to a modem");
                            continue;
                        }
                    };
                    let slot = slots.take();
                    count += 1;
                    let recorder = record.and_then(|path| {
                        let path = numbered(path, count);
                        // One host's recording failing must not refuse it the modem.
                        Recorder::create(&path, count, "tcp", &config)
                            .map_err(|e| {
                                tracing::error!(path = %path.display(), error = %e, "cannot record");
                            })
                            .ok()
                    });
                    let mut config = config.clone();
                    config.identity = config.identity.nth(identities.nth(slot.number()));
                    // Boxed: a task's future keeps room for all it captured for as long
                    // as it runs, and these are needed only to build the driver.
                    let setup = Box::new((config, network.clone(), recorder));
                    let mut shutdown = shutdown.clone();
                    // Every log line of this modem (its links' too) names it.
                    let span = tracing::info_span!("modem", n = count);
                    modems.spawn_on(tracing::Instrument::instrument(async move {
                        // Registered with the worker's own event loop, where its links live.
                        let mut stream = match tokio::net::TcpStream::from_std(stream) {
                            Ok(s) => s,
                            Err(e) => {
                                tracing::warn!(%peer, error = %e, "cannot register the host");
                                return;
                            }
                        };
                        let mut driver = {
                            let (config, network, recorder) = *setup;
                            Driver::new(config, &network, recorder)
                        };
                        let stop = driver.run(&mut stream, &mut shutdown).await;
                        tracing::info!(%peer, ?stop, "host gone, modem ends");
                        // The identity is free for the next host once the modem is gone.
                        drop(driver);
                        drop(slot);
                    }, span), workers.next_handle());
                }
                Err(e) if is_out_of_descriptors(&e) => {
                    if !at_limit {
                        at_limit = true;
                        tracing::warn!(modems = modems.len(),
                            "out of file descriptors: new hosts are refused until one leaves \
                             (raise the limit with ulimit -n)");
                    }
                    // Free the reserve for a moment to take the waiting host off the queue
                    // and close it: a refusal it can see instead of a connection that hangs.
                    reserve.release();
                    if let Ok((s, peer)) = listener.accept().await {
                        tracing::debug!(%peer, "refused: out of descriptors");
                        drop(s);
                    }
                    reserve = Reserve::hold();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => {
                    // Out of descriptors, say: back off rather than spin (logged once).
                    tokio::time::sleep(backoff.failed("hosts", &e)).await;
                }
            },
            // Reap finished modems so the set does not grow with every connection.
            Some(_) = modems.join_next(), if !modems.is_empty() => {}
        }
    }
    drop(listener);
    // Every modem sees the same shutdown; give them a moment to let go of their links.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while modems.join_next().await.is_some() {}
    })
    .await;
    Ok(())
}

/// A listening socket with a deep backlog (see [`BACKLOG`]).
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Descriptors kept free of modems: the control API's connections, the listeners,
/// recordings, name lookups.
const DESCRIPTOR_RESERVE: u64 = 64;

/// How many modems the descriptor limit allows: each has its host connection and, in
/// the usual case, one link; the rest of its links come out of the same pool, so a
/// modem that opens many may still see `+CIPOPEN: <n>,5` near the limit.
fn max_modems() -> usize {
    let limit = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_or(1024, |(soft, _)| soft);
    usize::try_from(limit.saturating_sub(DESCRIPTOR_RESERVE) / 2)
        .unwrap_or(usize::MAX)
        .max(1)
}

fn is_out_of_descriptors(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// A descriptor kept in hand so that, at the limit, one is there to accept and close a
/// waiting host.
struct Reserve(Option<std::fs::File>);

impl Reserve {
    fn hold() -> Reserve {
        Reserve(std::fs::File::open("/dev/null").ok())
    }

    fn release(&mut self) {
        self.0 = None;
    }
}
