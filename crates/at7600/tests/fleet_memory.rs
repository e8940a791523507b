//! Issue 8's memory per modem as a resource bound: a few hundred modems over
//! `serve --tcp`, each after `AT+NETOPEN` with one TCP link open and idle (the bench's
//! `fleet-tcp`), cost at most [`KIB_PER_MODEM`] of resident memory each. Memory, not
//! time: a loaded machine makes the test slower, not its number larger.
mod common;

use common::{rss_kib, Daemon};

/// Enough for the average to hold still (a few KiB of allocator noise spread over
/// them), few enough for the test's own descriptors (two per modem).
const MODEMS: usize = 256;

/// About 13 KiB here (the debug build), as the bench's `fleet-tcp` measures the release
/// build at 4,000 modems (target 14.5). Before issue 8's layout work the SSL set and
/// the links sat inline in every modem and channels no idle modem uses were made for
/// each: 5-6 KiB more. The bound leaves 4 KiB for a noisy allocator and fails on a
/// regression of that size.
const KIB_PER_MODEM: f64 = 17.0;

#[test]
fn an_idle_tcp_fleet_stays_within_its_memory_per_modem() {
    let daemon = Daemon::start(&["--log-level", "warn"]);
    // One modem through the whole path first: the runtime's one-time allocations (the
    // worker threads' arenas, the resolver) belong to the empty daemon, not the fleet.
    let mut first = daemon.modem();
    first.send("ATE0\r", "OK\\r\\n");
    let first_peer = first.link_to_loopback_peer(1);
    let before = rss_kib(daemon.pid());
    let mut fleet = Vec::with_capacity(MODEMS);
    for _ in 0..MODEMS {
        let mut host = daemon.modem();
        host.send("ATE0\r", "OK\\r\\n");
        let peer = host.link_to_loopback_peer(1);
        fleet.push((host, peer));
    }
    // Every modem answers, so each is up and idle, not half-built.
    for (host, _) in &mut fleet {
        host.send("AT+CIPOPEN?\r", "OK\\r\\n");
    }
    let after = rss_kib(daemon.pid());
    let per_modem = after.saturating_sub(before) as f64 / MODEMS as f64;
    eprintln!("{MODEMS} modems: {before} -> {after} KiB, {per_modem:.2} KiB per modem");
    assert!(
        per_modem <= KIB_PER_MODEM,
        "{per_modem:.2} KiB per modem, bound {KIB_PER_MODEM}"
    );
    drop((first, first_peer));
}
