//! Host names to IPv4 addresses.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// [`resolve_v4`] as the destination policy allows: no lookup of a name when names
/// may not be looked up, and not found for an address that may not be reached.
pub(crate) async fn resolve_allowed(name: &str, config: &crate::NetConfig) -> Option<Ipv4Addr> {
    if !config.policy.may_look_up(name) {
        return config.policy.answer(name, None);
    }
    let found = resolve_v4(name, config.dns_timeout).await;
    config.policy.answer(name, found)
}

/// The first IPv4 address of `name` (an IPv4 literal or a host name), or `None`.
///
/// Names under `.invalid` never resolve (RFC 6761 §6.4), so they are answered here
/// without asking a DNS server; tests rely on that to stay on the loopback.
pub(crate) async fn resolve_v4(name: &str, timeout: Duration) -> Option<Ipv4Addr> {
    let name = name.trim();
    if let Ok(ip) = name.parse::<Ipv4Addr>() {
        return Some(ip);
    }
    let lower = name.trim_end_matches('.').to_ascii_lowercase();
    if lower.is_empty() || lower == "invalid" || lower.ends_with(".invalid") {
        return None;
    }
    match tokio::time::timeout(timeout, tokio::net::lookup_host((name, 0))).await {
        Ok(Ok(addrs)) => {
            let found = addrs.into_iter().find_map(|a| match a {
                SocketAddr::V4(v4) => Some(*v4.ip()),
                SocketAddr::V6(_) => None,
            });
            if found.is_none() {
                tracing::debug!(name, "name has no IPv4 address");
            }
            found
        }
        Ok(Err(e)) => {
            tracing::debug!(name, error = %e, "name lookup failed");
            None
        }
        Err(_) => {
            tracing::debug!(name, "name lookup timed out");
            None
        }
    }
}
