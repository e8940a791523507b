//! `AT+CPING`'s probes on the host's network: an ICMP echo where the host allows
//! unprivileged ping sockets (Linux: `net.ipv4.ping_group_range` includes our group),
//! else a TCP probe (a connection attempt to port 80: an accept or a refusal both mean
//! the host answered). `docs/network.md` says which is used when.

use socket2::{Domain, Protocol, Socket, Type};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

/// The port the TCP probe knocks on.
const TCP_PROBE_PORT: u16 = 80;

/// Probes `addr`; `Some(ttl)` if it answered within `wait` (the reply's TTL is not
/// read: `None` inside means the request's stands).
pub(crate) async fn probe(
    addr: Ipv4Addr,
    size: u16,
    ttl: u8,
    wait: Duration,
) -> Option<Option<u8>> {
    match icmp_socket(ttl) {
        Some(socket) => icmp_echo(socket, addr, size, wait).await,
        None => tcp_probe(addr, wait).await,
    }
}

/// An unprivileged ICMP datagram socket, if the host allows one.
fn icmp_socket(ttl: u8) -> Option<tokio::net::UdpSocket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::ICMPV4)).ok()?;
    socket.set_ttl(u32::from(ttl)).ok()?;
    socket.set_nonblocking(true).ok()?;
    tokio::net::UdpSocket::from_std(std::net::UdpSocket::from(socket)).ok()
}

/// One echo request (type 8); the kernel fills in the identifier and the checksum of
/// a ping socket. Waits for the echo reply (type 0).
async fn icmp_echo(
    socket: tokio::net::UdpSocket,
    addr: Ipv4Addr,
    size: u16,
    wait: Duration,
) -> Option<Option<u8>> {
    let mut request = vec![0u8; 8 + usize::from(size)];
    request[0] = 8;
    request[6..8].copy_from_slice(&1u16.to_be_bytes());
    socket
        .send_to(&request, SocketAddrV4::new(addr, 0))
        .await
        .ok()?;
    let reply = async {
        let mut buf = vec![0u8; 8 + usize::from(size) + 64];
        // Bounded: each round either returns or consumes one datagram; the timeout
        // around this ends it.
        loop {
            let (n, from) = socket.recv_from(&mut buf).await.ok()?;
            if n >= 8 && buf[0] == 0 && from.ip() == std::net::IpAddr::V4(addr) {
                return Some(None);
            }
        }
    };
    tokio::time::timeout(wait, reply).await.ok().flatten()
}

/// A connection attempt: accepted or refused, the host is there.
async fn tcp_probe(addr: Ipv4Addr, wait: Duration) -> Option<Option<u8>> {
    let connect = tokio::net::TcpStream::connect(SocketAddrV4::new(addr, TCP_PROBE_PORT));
    match tokio::time::timeout(wait, connect).await {
        Ok(Ok(_)) => Some(None),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => Some(None),
        _ => None,
    }
}
