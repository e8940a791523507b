//! Shared helpers of the real backend's tests: a modem's network, loopback peers, and
//! bounded waits for its events.
#![allow(dead_code, unused_imports)]

pub use at7600_core::io::SocketOptions;

pub use at7600_core::{ConnId, NetCommand, NetEvent, OpenError, Protocol, SendOutcome};
pub use at7600_net::{NetConfig, NetEvents, NetHandle, RealNetwork};
pub use std::net::{Ipv4Addr, SocketAddrV4};
pub use std::time::Duration;
pub use tokio::io::{AsyncReadExt, AsyncWriteExt};
pub use tokio::net::{TcpListener, TcpStream, UdpSocket};
pub use tokio::time::{sleep, timeout, Instant};

pub const WAIT: Duration = Duration::from_secs(5);
pub const LOCAL: Ipv4Addr = Ipv4Addr::LOCALHOST;

pub fn modem() -> (NetHandle, NetEvents) {
    RealNetwork::new(NetConfig::default()).modem()
}

pub fn options() -> SocketOptions {
    SocketOptions {
        retries: 2,
        min_rto: Duration::from_millis(500),
        keepalive: None,
        dns: None,
    }
}

pub fn open_tcp(conn: u64, host: &str, port: u16, local_port: Option<u16>) -> NetCommand {
    NetCommand::Open {
        conn: ConnId(conn),
        protocol: Protocol::Tcp,
        remote: Some((host.to_string(), port)),
        local_port,
        options: options(),
        tls: None,
    }
}

pub async fn next(events: &mut NetEvents) -> NetEvent {
    timeout(WAIT, events.recv())
        .await
        .expect("no event in time")
        .expect("event channel closed")
}

/// Asserts that nothing arrives for `quiet`.
pub async fn silent(events: &mut NetEvents, quiet: Duration) {
    if let Ok(ev) = timeout(quiet, events.recv()).await {
        panic!("unexpected event {ev:?}");
    }
}

pub async fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind((LOCAL, 0)).await.unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// A port nobody listens on (bound, then released).
pub async fn free_port() -> u16 {
    listener().await.1
}

/// Opens a TCP link to a fresh loopback listener; returns the link and the peer's socket.
pub async fn connected(net: &mut NetHandle, events: &mut NetEvents, conn: u64) -> TcpStream {
    let (l, port) = listener().await;
    net.execute(open_tcp(conn, "127.0.0.1", port, None));
    let (peer, _) = timeout(WAIT, l.accept()).await.unwrap().unwrap();
    match next(events).await {
        NetEvent::Opened {
            conn: c,
            remote,
            local_port,
        } => {
            assert_eq!(c, ConnId(conn));
            assert_eq!(remote, SocketAddrV4::new(LOCAL, port));
            assert_eq!(peer.peer_addr().unwrap().port(), local_port);
        }
        other => panic!("expected Opened, got {other:?}"),
    }
    peer
}

/// Collects `Data` for `conn` until `len` bytes arrived (skipping its `AckStatus`).
pub async fn read_data(events: &mut NetEvents, conn: ConnId, len: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < len {
        match next(events).await {
            NetEvent::Data { conn: c, data } if c == conn => got.extend_from_slice(&data),
            // Told unasked whenever received bytes carry a new ACK.
            NetEvent::AckStatus { conn: c, .. } if c == conn => {}
            other => panic!("expected Data, got {other:?}"),
        }
    }
    got
}

pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A modem on the simulated network with the default world, on the named link
/// `profile`, echo off, its network open.
pub fn sim(profile: &str, seed: u64) -> at7600_net::Sim {
    let profile = at7600_net::LinkProfile::named(profile).unwrap();
    let mut sim = at7600_net::Sim::new(
        at7600_core::ModemConfig::default(),
        at7600_net::sim::SimConfig::default(),
        profile,
        seed,
    );
    sim.host("ATE0\r");
    sim.host("AT+NETOPEN\r");
    assert!(sim.run_until("+NETOPEN: 0", Duration::from_secs(10)));
    sim.take_output();
    sim
}
