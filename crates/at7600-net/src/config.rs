//! What the real network backend is told at start.

use crate::policy::Policy;
use std::net::Ipv4Addr;
use std::time::Duration;

/// Settings shared by every modem of one [`crate::RealNetwork`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetConfig {
    /// The modem's own address on the mobile network, reported in `Attached` and so by
    /// `AT+IPADDR`. Default `10.148.0.17`, as in the manual's examples; it is never bound.
    pub modem_ip: Ipv4Addr,
    /// The host address that `AT+SERVERSTART` servers listen on, and that UDP links
    /// opened without a remote (which take datagrams from anyone) are bound to. Default
    /// `127.0.0.1`, so a modem's servers are not reachable from other machines unless
    /// asked for. (A UDP link with a remote is connected to it and hears it alone.)
    pub server_bind: Ipv4Addr,
    /// Bytes a connection may hold in its own send queue (accepted from the core but not
    /// yet taken by the kernel). A send that would exceed it answers `Full`. Default 64 KiB.
    pub send_queue_cap: usize,
    /// Received bytes (`Data`/`Datagram` payloads) a modem may have in flight between the
    /// sockets and the driver. When it is used up, socket reads wait, so a modem that
    /// does not keep up back-pressures its peers. At least 64 KiB (one maximal datagram).
    pub read_credit: usize,
    /// How long `Close` keeps trying to hand the queued bytes to the kernel before it
    /// gives up and closes anyway (a peer that never reads would otherwise hold it open).
    pub close_flush_timeout: Duration,
    /// How long a name lookup may take before it counts as failed.
    pub dns_timeout: Duration,
    /// Where modems may open links, send datagrams and look names up.
    pub policy: Policy,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            modem_ip: Ipv4Addr::new(10, 148, 0, 17),
            server_bind: Ipv4Addr::LOCALHOST,
            send_queue_cap: 64 * 1024,
            read_credit: 64 * 1024,
            close_flush_timeout: Duration::from_secs(10),
            dns_timeout: Duration::from_secs(10),
            policy: Policy::default(),
        }
    }
}
