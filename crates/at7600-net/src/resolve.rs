//! Host names to IPv4 addresses: through the host's resolver, or by asking the name
//! servers the modem's host chose with `AT+CDNSCFG`.

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RData, RecordType};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;
use tokio::net::UdpSocket;

/// [`resolve_v4`] as the destination policy allows: no lookup of a name when names
/// may not be looked up, and not found for an address that may not be reached.
/// With `servers` (`AT+CDNSCFG`), the name is asked of them instead of the host's
/// resolver, each only where the policy lets a modem send.
pub(crate) async fn resolve_allowed(
    name: &str,
    config: &crate::NetConfig,
    servers: Option<[Ipv4Addr; 2]>,
) -> Option<Ipv4Addr> {
    if !config.policy.may_look_up(name) {
        return config.policy.answer(name, None);
    }
    let found = match servers {
        Some(servers) if name.trim().parse::<Ipv4Addr>().is_err() => {
            let allowed: Vec<SocketAddrV4> = servers
                .iter()
                .map(|ip| SocketAddrV4::new(*ip, DNS_PORT))
                .filter(|s| match config.policy.check(*s) {
                    Ok(()) => true,
                    Err(why) => {
                        tracing::info!(server = %s, %why, "name server refused by the destination policy");
                        false
                    }
                })
                .collect();
            ask_servers(name, &allowed, config.dns_timeout).await
        }
        _ => resolve_v4(name, config.dns_timeout).await,
    };
    config.policy.answer(name, found)
}

/// Where name servers listen.
const DNS_PORT: u16 = 53;

/// How long one server gets before the next is asked (the module's resolver, like
/// most stub resolvers, moves on to the secondary after a few seconds).
const PER_SERVER: Duration = Duration::from_secs(3);

/// Asks `servers` in turn for the A record of `name`, within `timeout` in all: the
/// first address any of them gives, or `None` when none answers with one. A server
/// that answers "no such name" ends the search, as a stub resolver does.
pub(crate) async fn ask_servers(
    name: &str,
    servers: &[SocketAddrV4],
    timeout: Duration,
) -> Option<Ipv4Addr> {
    let name = name.trim();
    if is_invalid(name) {
        return None;
    }
    let query = match query_message(name) {
        Some(q) => q,
        None => {
            tracing::debug!(name, "not a name that can be asked of a DNS server");
            return None;
        }
    };
    let ask = async {
        for server in servers {
            match tokio::time::timeout(PER_SERVER, ask_one(&query, *server)).await {
                Ok(Ok(answer)) => return answer,
                Ok(Err(e)) => tracing::debug!(%server, name, error = %e, "name server failed"),
                Err(_) => tracing::debug!(%server, name, "name server did not answer"),
            }
        }
        None
    };
    tokio::time::timeout(timeout, ask).await.unwrap_or(None)
}

static NEXT_ID: AtomicU16 = AtomicU16::new(1);

/// A recursive query for `name`'s A record, encoded, with its id.
fn query_message(name: &str) -> Option<(u16, Vec<u8>)> {
    let mut fqdn = Name::from_ascii(name).ok()?;
    fqdn.set_fqdn(true);
    // Each query has a socket of its own, connected to the server, so the id only
    // has to tell this answer from a stray datagram: a counter does.
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let mut message = Message::new();
    message
        .set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(fqdn, RecordType::A));
    Some((id, message.to_vec().ok()?))
}

/// One query to one server over UDP: `Ok(Some(ip))` for an address, `Ok(None)` for an
/// answer without one (no such name, or no A record).
async fn ask_one(
    (id, query): &(u16, Vec<u8>),
    server: SocketAddrV4,
) -> std::io::Result<Option<Ipv4Addr>> {
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).await?;
    socket.connect(server).await?;
    socket.send(query).await?;
    let mut buf = vec![0u8; 1500];
    // Bounded: a peer that floods the port with junk costs at most PER_SERVER.
    loop {
        let n = socket.recv(&mut buf).await?;
        let Ok(answer) = Message::from_vec(&buf[..n]) else {
            continue;
        };
        if answer.id() != *id || answer.message_type() != MessageType::Response {
            continue;
        }
        return Ok(answer.answers().iter().find_map(|r| match r.data() {
            RData::A(a) => Some(a.0),
            _ => None,
        }));
    }
}

/// Names under `.invalid` never resolve (RFC 6761 §6.4).
fn is_invalid(name: &str) -> bool {
    let lower = name.trim_end_matches('.').to_ascii_lowercase();
    lower.is_empty() || lower == "invalid" || lower.ends_with(".invalid")
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
    if is_invalid(name) {
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
