//! The TCP front end: every accepted connection is its own modem.

use crate::driver::Driver;
use crate::netstack::NetSpec;
use crate::record::{numbered, Recorder};
use anyhow::{Context, Result};
use at7600_core::ModemConfig;
use at7600_net::AcceptBackoff;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Accepts host connections on `addr` until shutdown; each one gets a fresh modem with
/// its own network handle, ended (links closed) when the connection closes. With
/// `record`, modem `n` (counted from 1 in connection order) is recorded to `record`
/// numbered `n` ([`numbered`]).
pub async fn serve(
    addr: SocketAddr,
    config: ModemConfig,
    network: NetSpec,
    record: Option<&Path>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr().context("listener address")?;
    println!("at7600: modems ready on tcp {bound}");
    let _ = std::io::stdout().flush();

    let mut modems = JoinSet::new();
    let mut count: u64 = 0;
    let mut backoff = AcceptBackoff::new();
    loop {
        tokio::select! {
            changed = shutdown.changed() => if changed.is_err() || *shutdown.borrow() {
                break;
            },
            accepted = listener.accept() => match accepted {
                Ok((mut stream, peer)) => {
                    backoff.succeeded("hosts");
                    tracing::info!(%peer, "host connected");
                    let _ = stream.set_nodelay(true);
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
                    let config = config.clone();
                    let network = network.clone();
                    let mut shutdown = shutdown.clone();
                    modems.spawn(async move {
                        let mut driver = Driver::new(config, &network, recorder);
                        let stop = driver.run(&mut stream, &mut shutdown).await;
                        tracing::info!(%peer, ?stop, "host gone, modem ends");
                    });
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
