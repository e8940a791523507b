//! The client driver (`at7600-client`) against the daemon on the SIMULATED network
//! (`--network sim`, hosts from a config file): every API, ten links at once moving
//! 1 MiB each, and faults injected through the control API while the client works —
//! each surfacing as EOF or as the right typed error. Every wait is bounded.
mod common;

use at7600_client::{Config, ErrCode, Error, Modem, TcpListener, TcpStream, UdpSocket};
use common::client::{modem_at, random_bytes, run, typed};
use common::{ctl, Daemon};
use std::net::SocketAddrV4;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const STREAMS: u64 = 10;
const SIZE: usize = 1 << 20;

/// The simulated internet: an echo host (TCP echo and discard, UDP echo) and a fixed
/// responder.
const WORLD: &str = r#"
[sim]
modem_ip = "10.148.0.17"

[[sim.host]]
name = "echo.sim"
addr = "192.0.2.7"
udp_echo = [7]
tcp = [
  { port = 7, kind = "echo" },
  { port = 9, kind = "discard" },
]

[[sim.host]]
name = "greeter.sim"
addr = "192.0.2.80"
tcp = [
  { port = 80, kind = "fixed", greeting = "220 ready\r\n", reply = "OK\r\n" },
]

# Dials the modem's server on port 8080 half a second after it listens, and echoes.
[[sim.client]]
addr = "192.0.2.66"
port = 8080
after_ms = 500
kind = "echo"
"#;

const ECHO: &str = "192.0.2.7";

/// The daemon on the simulated network with the control API, and its config file.
struct SimDaemon {
    daemon: Daemon,
    control: String,
    _dir: tempfile::TempDir,
}

impl SimDaemon {
    /// `link` is a `[link]` table for the config file ("" for none).
    fn start(link: &str, extra: &[&str]) -> SimDaemon {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
        let path: PathBuf = dir.path().join("sim.toml");
        std::fs::write(&path, format!("{link}\n{WORLD}")).expect("config written");
        let path = path.to_str().expect("utf-8 path").to_string();
        let mut args = vec!["--network", "sim", "--sim-seed", "7", "--config", &path];
        args.extend_from_slice(extra);
        let (daemon, control) = Daemon::start_with_control(&args);
        SimDaemon {
            daemon,
            control,
            _dir: dir,
        }
    }

    /// Injects `fault` (JSON) into modem `id`.
    fn fault(&self, id: u32, fault: &str) {
        ctl(&self.control, &["fault", &id.to_string(), fault]);
    }

    /// A number field of link `link` of modem `id`, as the control API shows it.
    fn link_field(&self, id: u32, link: u8, field: &str) -> Option<u64> {
        let show = ctl(&self.control, &["show", &id.to_string()]);
        let start = show.find(&format!("\"link\":{link},"))?;
        let rest = &show[start..];
        let rest = &rest[..rest.find('}').unwrap_or(rest.len())];
        let at = rest.find(&format!("\"{field}\":"))? + field.len() + 3;
        let digits: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        digits.parse().ok()
    }

    /// Waits (bounded) until the module received `n` bytes on `link`.
    fn wait_received(&self, id: u32, link: u8, n: u64) {
        let deadline = Instant::now() + common::WAIT;
        loop {
            let got = self.link_field(id, link, "received");
            if got == Some(n) {
                return;
            }
            if Instant::now() >= deadline {
                let show = ctl(&self.control, &["show", &id.to_string()]);
                panic!("link {link} received {got:?} of {n}: {show}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

async fn modem(d: &SimDaemon, config: Config) -> Modem {
    modem_at(&d.daemon.addr, config).await
}

/// Reads whatever arrives within `ms`.
async fn read_for(s: &mut TcpStream, ms: u64) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    while let Ok(r) = tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
        match r.expect("read") {
            0 => break,
            n => got.extend_from_slice(&buf[..n]),
        }
    }
    got
}

#[test]
fn sim_network_open_address_and_names_from_the_host_table() {
    let d = SimDaemon::start("", &[]);
    run(async {
        let m = modem(&d, Config::default()).await;
        assert!(!m.is_net_open().await.expect("NETOPEN?"));
        m.net_open().await.expect("net open");
        assert!(m.is_net_open().await.expect("NETOPEN?"));
        assert_eq!(
            m.ip_address().await.expect("IPADDR").to_string(),
            "10.148.0.17"
        );
        assert_eq!(
            m.resolve("echo.sim").await.expect("resolve").to_string(),
            ECHO
        );
        assert_eq!(
            m.resolve("greeter.sim").await.expect("resolve").to_string(),
            "192.0.2.80"
        );
        let e = m.resolve("nobody.sim").await.expect_err("unknown name");
        assert!(
            matches!(&e, Error::Dns { name, code: 10 } if name == "nobody.sim"),
            "{e:?}"
        );
        // A name CIPOPEN cannot resolve: `+CIPOPEN: <n>,11`.
        let e = TcpStream::connect(&m, "nobody.sim", 7)
            .await
            .expect_err("unknown host");
        assert!(
            matches!(
                e,
                Error::Connect {
                    code: ErrCode::DnsParseFailed,
                    ..
                }
            ),
            "{e:?}"
        );
        // A port nobody serves is refused.
        let e = TcpStream::connect(&m, ECHO, 8)
            .await
            .expect_err("closed port");
        assert!(
            matches!(
                e,
                Error::Connect {
                    code: ErrCode::NetworkFailure,
                    ..
                }
            ),
            "{e:?}"
        );
        m.net_close().await.expect("net close");
        assert!(!m.is_net_open().await.expect("NETOPEN?"));
    });
}

#[test]
fn sim_tcp_echo_by_name_and_the_fixed_responder() {
    // LTE Cat 1: real round trips (60 ms) and a setup delay.
    let d = SimDaemon::start("", &["--link", "lte-cat1"]);
    run(async {
        let m = modem(&d, Config::default()).await;
        m.net_open().await.expect("net open");
        let mut s = TcpStream::connect(&m, "echo.sim", 7)
            .await
            .expect("connect");
        let data = random_bytes(1, 5000);
        let started = Instant::now();
        s.write_all(&data).await.expect("write");
        let mut got = vec![0u8; data.len()];
        s.read_exact(&mut got).await.expect("read");
        assert!(got == data, "echo differs");
        assert!(
            started.elapsed() >= Duration::from_millis(50),
            "{:?}",
            started.elapsed()
        );
        let mut g = TcpStream::connect(&m, "greeter.sim", 80)
            .await
            .expect("connect");
        let mut greeting = [0u8; 11];
        g.read_exact(&mut greeting).await.expect("greeting");
        assert_eq!(&greeting, b"220 ready\r\n");
        g.write_all(b"HELO\n").await.expect("write");
        let mut reply = [0u8; 4];
        g.read_exact(&mut reply).await.expect("reply");
        assert_eq!(&reply, b"OK\r\n");
        g.close().await.expect("close");
        s.close().await.expect("close");
    });
}

#[test]
fn sim_udp_echo_keeps_datagram_boundaries() {
    let d = SimDaemon::start("", &[]);
    run(async {
        let m = modem(&d, Config::default()).await;
        m.net_open().await.expect("net open");
        let sock = UdpSocket::bind(&m, 5000).await.expect("bind");
        let echo = SocketAddrV4::new(ECHO.parse().expect("ip"), 7);
        let big = random_bytes(3, 1400);
        let sent: Vec<&[u8]> = vec![b"first", b"second", &big, b"x"];
        for d in &sent {
            sock.send_to(d, echo).await.expect("send");
        }
        let mut buf = [0u8; 1500];
        for d in &sent {
            let (n, _) = sock.recv_from(&mut buf).await.expect("recv");
            assert_eq!(&buf[..n], *d);
        }
        // A datagram to a port without udp_echo vanishes; nothing comes back.
        sock.send_to(b"lost", SocketAddrV4::new(ECHO.parse().expect("ip"), 9))
            .await
            .expect("send");
        let nothing =
            tokio::time::timeout(Duration::from_millis(300), sock.recv_from(&mut buf)).await;
        assert!(nothing.is_err(), "{nothing:?}");
    });
}

#[test]
fn sim_ten_streams_move_one_mib_each_byte_exact() {
    // No link profile: the simulated network adds no delay, so the host line is the
    // limit and the test stays within a few seconds.
    let d = SimDaemon::start("", &[]);
    run(async {
        let m = modem(&d, Config::default()).await;
        m.net_open().await.expect("net open");
        let started = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..STREAMS {
            let m = m.clone();
            tasks.push(tokio::spawn(async move {
                let s = TcpStream::connect(&m, "echo.sim", 7)
                    .await
                    .expect("connect");
                let data = random_bytes(0x5eed + i, SIZE);
                let (mut r, mut w) = tokio::io::split(s);
                let sent = data.clone();
                let writer = tokio::spawn(async move {
                    w.write_all(&sent).await.expect("write 1 MiB");
                    w
                });
                let mut got = vec![0u8; data.len()];
                r.read_exact(&mut got).await.expect("read 1 MiB");
                assert!(got == data, "stream {i} corrupted");
                let w = writer.await.expect("writer");
                r.unsplit(w).close().await.expect("close");
            }));
        }
        for t in tasks {
            t.await.expect("stream task");
        }
        eprintln!("10 x 1 MiB over the sim network: {:?}", started.elapsed());
    });
}

#[test]
fn sim_transparent_stream_echo() {
    let d = SimDaemon::start("", &["--escape-guard-ms", "150", "--escape-gap-ms", "150"]);
    run(async {
        let config = Config {
            transparent: true,
            escape_guard: Duration::from_millis(250),
            ..Config::default()
        };
        let m = modem(&d, config).await;
        m.net_open().await.expect("net open");
        let mut s = at7600_client::TransparentStream::connect(&m, "echo.sim", 7)
            .await
            .expect("CONNECT");
        let data = random_bytes(11, 20_000);
        s.write_all(&data).await.expect("write");
        let mut got = vec![0u8; data.len()];
        s.read_exact(&mut got).await.expect("echo");
        assert!(got == data, "echo differs");
        // A command in between: +++, the command, ATO.
        assert_eq!(
            m.resolve("greeter.sim").await.expect("resolve").to_string(),
            "192.0.2.80"
        );
        s.write_all(b"AFTER ATO").await.expect("write after ATO");
        let mut got = [0u8; 9];
        s.read_exact(&mut got).await.expect("echo after ATO");
        assert_eq!(&got, b"AFTER ATO");
        s.close().await.expect("close");
    });
}

#[test]
fn sim_peer_close_is_eof_after_the_buffered_bytes_then_writes_fail() {
    let d = SimDaemon::start("", &[]);
    run(async {
        let m = modem(&d, Config::default()).await;
        m.net_open().await.expect("net open");
        let mut s = TcpStream::connect(&m, "echo.sim", 7)
            .await
            .expect("connect");
        // More than the client's read-ahead window (32 KiB), so part of it waits in the
        // module; but no more than that window plus the module's 64 KiB link buffer,
        // after which the module stops reading (back-pressure) and the rest would stay
        // in the network, never "received", until the application reads.
        let data = random_bytes(5, 90_000);
        s.write_all(&data).await.expect("write");
        let link = s.link();
        // (The test's own thread: the driver runs on the runtime's workers.)
        d.wait_received(1, link, data.len() as u64);
        d.fault(1, &format!(r#"{{"kind":"peer-close","link":{link}}}"#));
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.expect("read to EOF");
        assert!(got == data, "got {} of {} bytes", got.len(), data.len());
        let e = typed(s.write_all(b"late").await.expect_err("write after close"));
        assert!(
            matches!(
                e,
                Error::Code {
                    code: ErrCode::WrongParameter,
                    ..
                }
            ),
            "{e:?}"
        );
    });
}

#[test]
fn sim_network_lost_fails_open_streams_and_a_new_network_works() {
    let d = SimDaemon::start("", &[]);
    run(async {
        let m = modem(&d, Config::default()).await;
        m.net_open().await.expect("net open");
        let mut s = TcpStream::connect(&m, "echo.sim", 7)
            .await
            .expect("connect");
        s.write_all(b"before").await.expect("write");
        let mut got = [0u8; 6];
        s.read_exact(&mut got).await.expect("read");
        assert_eq!(&got, b"before");
        // A reader waits while the network goes.
        let (mut r, mut w) = tokio::io::split(s);
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 16];
            let e = r.read(&mut buf).await.expect_err("read fails");
            (typed(e), r)
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let lost_at = Instant::now();
        d.fault(1, r#"{"kind":"network-lost","for_ms":1500}"#);
        let (e, r) = reader.await.expect("reader");
        assert!(matches!(e, Error::NetworkLost), "{e:?}");
        let e = typed(w.write_all(b"after").await.expect_err("write fails"));
        assert!(matches!(e, Error::NetworkLost), "{e:?}");
        drop(r.unsplit(w));
        m.net_close().await.expect("net close");
        // The network stays down for 1.5 s: `+NETOPEN: 1`.
        let mut tries = 0;
        loop {
            tries += 1;
            assert!(tries < 50, "no network after {tries} tries");
            match m.net_open().await {
                Ok(()) => break,
                Err(Error::Code {
                    code: ErrCode::NetworkFailure,
                    ..
                }) => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(e) => panic!("{e:?}"),
            }
        }
        assert!(tries > 1 || lost_at.elapsed() >= Duration::from_millis(1500));
        let mut s = TcpStream::connect(&m, "echo.sim", 7)
            .await
            .expect("connect again");
        s.write_all(b"again").await.expect("write");
        let mut got = [0u8; 5];
        s.read_exact(&mut got).await.expect("read");
        assert_eq!(&got, b"again");
    });
}

#[test]
fn sim_stalled_peer_is_back_pressure_then_a_typed_timeout_without_reordering() {
    let d = SimDaemon::start("", &[]);
    run(async {
        let config = Config {
            cipsend_timeout: Duration::from_secs(2),
            ..Config::default()
        };
        let m = modem(&d, config).await;
        m.net_open().await.expect("net open");
        let mut s = TcpStream::connect(&m, "echo.sim", 7)
            .await
            .expect("connect");
        let before = random_bytes(9, 30_000);
        s.write_all(&before).await.expect("write");
        let mut got = vec![0u8; before.len()];
        s.read_exact(&mut got).await.expect("read");
        assert!(got == before, "echo differs");
        let link = s.link();
        d.fault(1, &format!(r#"{{"kind":"stall","link":{link}}}"#));
        // The stalled peer takes 64 KiB, then the module answers "buffer full": the
        // write waits (back-pressure) and gives up after the configured 2 s.
        let more = random_bytes(10, 200_000);
        let started = Instant::now();
        let e = typed(s.write_all(&more).await.expect_err("the peer is stalled"));
        let took = started.elapsed();
        assert!(
            matches!(&e, Error::Timeout { command, timeout_ms: 2000 } if command == "AT+CIPSEND=0,1500"),
            "{e:?}"
        );
        assert!(
            took >= Duration::from_millis(1500) && took < Duration::from_secs(30),
            "{took:?}"
        );
        // Nothing after the stall comes back; nothing before it comes twice.
        let late = read_for(&mut s, 300).await;
        assert!(late.is_empty(), "{} bytes after the stall", late.len());
    });
}

#[test]
fn sim_refused_timed_out_and_unresolved_opens_are_typed() {
    let d = SimDaemon::start("", &[]);
    run(async {
        // Short enough to see the client's own timeout fire, long enough that every
        // other open here (answered in milliseconds) fits on a loaded machine.
        let config = Config {
            cipopen_timeout: Duration::from_secs(4),
            ..Config::default()
        };
        let m = modem(&d, config).await;
        m.net_open().await.expect("net open");
        d.fault(1, r#"{"kind":"refuse-open"}"#);
        let e = TcpStream::connect(&m, "echo.sim", 7)
            .await
            .expect_err("refused");
        assert!(
            matches!(
                e,
                Error::Connect {
                    code: ErrCode::NetworkFailure,
                    ..
                }
            ),
            "{e:?}"
        );
        d.fault(1, r#"{"kind":"dns-failure"}"#);
        let e = m.resolve("echo.sim").await.expect_err("DNS fails");
        assert!(matches!(e, Error::Dns { code: 10, .. }), "{e:?}");
        d.fault(1, r#"{"kind":"dns-failure"}"#);
        let e = TcpStream::connect(&m, "echo.sim", 7)
            .await
            .expect_err("DNS fails in CIPOPEN");
        assert!(
            matches!(
                e,
                Error::Connect {
                    code: ErrCode::DnsParseFailed,
                    ..
                }
            ),
            "{e:?}"
        );
        // The connect is never answered: the client's own CIPOPEN timeout.
        d.fault(1, r#"{"kind":"timeout-open"}"#);
        let started = Instant::now();
        let e = TcpStream::connect(&m, ECHO, 7)
            .await
            .expect_err("never answered");
        assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
        // The client's 4 s, not the manual's 120 s default.
        assert!(started.elapsed() < Duration::from_secs(30));
        // Each fault hit one attempt only: the next connect works.
        let mut s = TcpStream::connect(&m, "echo.sim", 7)
            .await
            .expect("connect");
        s.write_all(b"ok").await.expect("write");
        let mut got = [0u8; 2];
        s.read_exact(&mut got).await.expect("read");
        assert_eq!(&got, b"ok");
    });
}

#[test]
fn sim_slow_link_applies_back_pressure_and_keeps_every_byte_in_order() {
    // 2 Mbit/s each way: far slower than the host line, so the module's send queue
    // (64 KiB unacknowledged) fills and the writer must wait for it.
    let d = SimDaemon::start(
        "[link]\nprofile = \"none\"\nrtt_ms = 40\nup_kbps = 2000\ndown_kbps = 2000\n",
        &[],
    );
    run(async {
        let config = Config {
            cipsend_timeout: Duration::from_secs(5),
            ..Config::default()
        };
        let m = modem(&d, config).await;
        m.net_open().await.expect("net open");
        let s = TcpStream::connect(&m, "echo.sim", 7)
            .await
            .expect("connect");
        let data = random_bytes(21, 300_000);
        let (mut r, mut w) = tokio::io::split(s);
        let sent = data.clone();
        let started = Instant::now();
        let writer = tokio::spawn(async move {
            w.write_all(&sent).await.expect("write on a slow link");
            w
        });
        let mut got = vec![0u8; data.len()];
        r.read_exact(&mut got).await.expect("read");
        let took = started.elapsed();
        assert!(got == data, "echo differs");
        // 300 kB at 250 kB/s.
        assert!(took >= Duration::from_millis(1100), "{took:?}");
        let w = writer.await.expect("writer");
        r.unsplit(w).close().await.expect("close");
    });
}

#[test]
fn sim_listener_accepts_a_simulated_client_and_echoes() {
    let d = SimDaemon::start("", &[]);
    run(async {
        let m = modem(&d, Config::default()).await;
        m.net_open().await.expect("net open");
        let mut listener = TcpListener::bind(&m, 8080, 2).await.expect("server");
        let (mut s, peer) = listener.accept().await.expect("accept");
        assert_eq!(peer.ip(), &std::net::Ipv4Addr::new(192, 0, 2, 66));
        let data = random_bytes(11, 20_000);
        s.write_all(&data).await.expect("write");
        let mut got = vec![0u8; data.len()];
        s.read_exact(&mut got).await.expect("echo");
        assert!(got == data, "echoed bytes differ");
    });
}
