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

pub mod tls;

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

/// The kernel's queues of the IPv4 TCP socket bound to `local` and connected to `remote`
/// (ports on loopback), from `/proc/net/tcp`: `(send queue, receive queue)` in bytes.
/// Shows what a process left in the kernel rather than reading it.
pub fn kernel_queues(local: u16, remote: u16) -> Option<(u64, u64)> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let port = |addr: &str| u16::from_str_radix(addr.rsplit(':').next()?, 16).ok();
        if port(f.get(1)?)? != local || port(f.get(2)?)? != remote {
            return None;
        }
        let (tx, rx) = f.get(4)?.split_once(':')?;
        Some((
            u64::from_str_radix(tx, 16).ok()?,
            u64::from_str_radix(rx, 16).ok()?,
        ))
    })
}

/// Sends `chunk`-byte pieces of [`pattern`] on `conn` until a send answers `Full` (the
/// peer does not read); returns how many bytes were accepted. At most 20000 sends.
pub async fn send_until_full(
    net: &mut NetHandle,
    events: &mut NetEvents,
    conn: ConnId,
    chunk: usize,
) -> usize {
    let mut accepted = 0usize;
    for _ in 0..20_000 {
        let data = (accepted..accepted + chunk)
            .map(|i| (i % 251) as u8)
            .collect();
        net.execute(NetCommand::Send { conn, data });
        match next(events).await {
            NetEvent::SendDone {
                outcome: SendOutcome::Accepted,
                ..
            } => accepted += chunk,
            NetEvent::SendDone {
                outcome: SendOutcome::Full,
                ..
            } => return accepted,
            other => panic!("unexpected {other:?}"),
        }
        // Let the connection hand its queue to the kernel, which fills up in turn.
        tokio::task::yield_now().await;
    }
    panic!("the send queue never filled ({accepted} bytes accepted)");
}

/// A simulated network driven by hand with [`NetCommand`]s through a fault layer, on
/// its own virtual clock: for what the AT side cannot reach yet, or should not need to.
pub struct NetSim {
    pub net: at7600_net::sim::SimNetwork,
    pub faults: at7600_net::FaultLayer,
    pub now: Duration,
}

impl NetSim {
    /// The world `config` on the named link `profile`.
    pub fn new(config: at7600_net::sim::SimConfig, profile: &str, seed: u64) -> Self {
        let profile = at7600_net::LinkProfile::named(profile).expect("profile");
        NetSim {
            net: at7600_net::sim::SimNetwork::new(config, profile, seed),
            faults: at7600_net::FaultLayer::new(),
            now: Duration::ZERO,
        }
    }

    /// A command from the core, now.
    pub fn cmd(&mut self, cmd: NetCommand) {
        if let Some(cmd) = self.faults.to_net(self.now, cmd) {
            self.net.handle(self.now, cmd);
        }
    }

    /// Lets `d` of virtual time pass; returns the events with the instants they came.
    pub fn run_for(&mut self, d: Duration) -> Vec<(Duration, NetEvent)> {
        let end = self.now + d;
        let mut out = Vec::new();
        for _ in 0..1_000_000 {
            self.drain(&mut out);
            match self.net.poll_timeout() {
                Some(at) if at <= end => {
                    self.now = self.now.max(at);
                    self.net.handle_timeout(self.now);
                }
                _ => break,
            }
        }
        self.now = end;
        self.drain(&mut out);
        out
    }

    /// The events of the next `d`, without their instants.
    pub fn events(&mut self, d: Duration) -> Vec<NetEvent> {
        self.run_for(d).into_iter().map(|(_, e)| e).collect()
    }

    fn drain(&mut self, out: &mut Vec<(Duration, NetEvent)>) {
        while let Some(e) = self.faults.poll_event() {
            out.push((self.now, e));
        }
        while let Some(e) = self.net.poll_event() {
            if let Some(e) = self.faults.to_core(e) {
                out.push((self.now, e));
            }
        }
    }
}

/// Log lines of the whole test process (info and above), as an operator would read
/// them.
pub fn capture_logs() -> ((), std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    // One process-wide subscriber, installed once: a per-thread default races with
    // tests on other threads that run without one (tracing caches a callsite as
    // "never interested" process-wide), and drops events from runtime worker threads.
    // Every test sees every line; each looks for its own.
    static LOGS: std::sync::OnceLock<std::sync::Arc<std::sync::Mutex<Vec<u8>>>> =
        std::sync::OnceLock::new();
    #[derive(Clone)]
    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut v) = self.0.lock() {
                v.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let logs = LOGS.get_or_init(|| {
        let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = Sink(logs.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        // Fails only if another subscriber was set first; then nothing is captured
        // and the caller's assertion says so.
        let _ = tracing::subscriber::set_global_default(subscriber);
        logs
    });
    ((), logs.clone())
}

pub fn logged(logs: &std::sync::Mutex<Vec<u8>>) -> String {
    logs.lock()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default()
}
