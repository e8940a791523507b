//! The client driver (`at7600-client`) against the daemon on loopback: every API, the
//! errors it types, and ten links at once moving 1 MiB each. Every wait is bounded.
mod common;

use at7600_client::{Config, ErrCode, Error, Modem, TcpListener, TcpStream, UdpSocket};
use common::client::{echo_server, modem_at, random_bytes, run};
use common::{free_udp_port, Daemon};
use std::net::SocketAddrV4;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const STREAMS: u64 = 10;
const SIZE: usize = 1 << 20;

async fn modem(d: &Daemon, config: Config) -> Modem {
    modem_at(&d.addr, config).await
}

#[test]
fn network_open_address_dns_close() {
    let d = Daemon::start(&[]);
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
            m.resolve("localhost").await.expect("resolve").to_string(),
            "127.0.0.1"
        );
        m.net_close().await.expect("net close");
    });
}

#[test]
fn tcp_echo_round_trip() {
    let d = Daemon::start(&[]);
    run(async {
        let port = echo_server().await;
        let m = modem(&d, Config::default()).await;
        m.net_open().await.expect("net open");
        let mut s = TcpStream::connect(&m, "127.0.0.1", port)
            .await
            .expect("connect");
        s.write_all(b"hello, module").await.expect("write");
        let mut got = [0u8; 13];
        s.read_exact(&mut got).await.expect("read");
        assert_eq!(&got, b"hello, module");
        s.close().await.expect("close");
    });
}

#[test]
fn ten_streams_move_one_mib_each_byte_exact() {
    let d = Daemon::start(&[]);
    run(async {
        let port = echo_server().await;
        let m = modem(&d, Config::default()).await;
        m.net_open().await.expect("net open");
        let mut tasks = Vec::new();
        for i in 0..STREAMS {
            let m = m.clone();
            tasks.push(tokio::spawn(async move {
                let s = TcpStream::connect(&m, "127.0.0.1", port)
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
    });
}

#[test]
fn remote_close_is_eof_after_the_data_and_then_writes_fail() {
    let d = Daemon::start(&[]);
    run(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let data = random_bytes(7, 100_000);
        let sent = data.clone();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            s.write_all(&sent).await.expect("peer writes");
            // Dropped: FIN.
        });
        let m = modem(&d, Config::default()).await;
        m.net_open().await.expect("net open");
        let mut s = TcpStream::connect(&m, "127.0.0.1", port)
            .await
            .expect("connect");
        // A slow reader: let the peer finish and close first.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.expect("read to EOF");
        assert!(got == data, "got {} of {} bytes", got.len(), data.len());
        let err = s.write_all(b"late").await.expect_err("write after close");
        let inner = err.into_inner().expect("typed error");
        let typed = inner.downcast::<Error>().expect("at7600 error");
        assert!(
            matches!(
                *typed,
                Error::Code {
                    code: ErrCode::WrongParameter,
                    ..
                }
            ),
            "{typed:?}"
        );
    });
}

#[test]
fn failures_are_typed() {
    let d = Daemon::start(&[]);
    run(async {
        let m = modem(&d, Config::default()).await;
        // Network not open: `+CIPOPEN: <n>,2` + ERROR.
        let e = TcpStream::connect(&m, "127.0.0.1", 9)
            .await
            .expect_err("no network");
        assert!(
            matches!(
                e,
                Error::Code {
                    code: ErrCode::NetworkNotOpened,
                    ..
                }
            ),
            "{e:?}"
        );
        m.net_open().await.expect("net open");
        // Connection refused: OK, then `+CIPOPEN: <n>,1`.
        let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let e = TcpStream::connect(&m, "127.0.0.1", closed_port)
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
        // DNS failure: `+CDNSGIP: 0,10` + ERROR.
        let e = m
            .resolve("nothing.invalid")
            .await
            .expect_err("no such name");
        assert!(matches!(e, Error::Dns { code: 10, .. }), "{e:?}");
        // A name that does not resolve in CIPOPEN: `+CIPOPEN: <n>,11`.
        let e = TcpStream::connect(&m, "nothing.invalid", 80)
            .await
            .expect_err("no such host");
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
        // Already open: `+IP ERROR: Network is already opened`.
        let e = m.net_open().await.expect_err("twice");
        assert!(
            matches!(
                e,
                Error::Ip {
                    info: at7600_client::ErrInfo::NetworkAlreadyOpened,
                    ..
                }
            ),
            "{e:?}"
        );
        m.net_close().await.expect("net close");
        // Not open: `+NETCLOSE: 2` + ERROR.
        let e = m.net_close().await.expect_err("not open");
        assert!(
            matches!(
                e,
                Error::Code {
                    code: ErrCode::NetworkNotOpened,
                    ..
                }
            ),
            "{e:?}"
        );
    });
}

#[test]
fn udp_exchange_keeps_datagram_boundaries() {
    let d = Daemon::start(&[]);
    run(async {
        let peer = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("peer");
        let peer_addr = match peer.local_addr().expect("addr") {
            std::net::SocketAddr::V4(a) => a,
            other => panic!("{other}"),
        };
        let m = modem(&d, Config::default()).await;
        m.net_open().await.expect("net open");
        let local = free_udp_port();
        let sock = UdpSocket::bind(&m, local).await.expect("bind");
        sock.send_to(b"first", peer_addr).await.expect("send");
        sock.send_to(b"second", peer_addr).await.expect("send");
        let mut buf = [0u8; 64];
        let (n, from) = peer.recv_from(&mut buf).await.expect("peer recv");
        assert_eq!(&buf[..n], b"first");
        let (n, _) = peer.recv_from(&mut buf).await.expect("peer recv");
        assert_eq!(&buf[..n], b"second");
        peer.send_to(b"one", from).await.expect("reply");
        peer.send_to(b"two!", from).await.expect("reply");
        let (n, _) = sock.recv_from(&mut buf).await.expect("recv");
        assert_eq!(&buf[..n], b"one");
        let (n, _) = sock.recv_from(&mut buf).await.expect("recv");
        assert_eq!(&buf[..n], b"two!");
    });
}

#[test]
fn listener_accepts_a_client() {
    let d = Daemon::start(&[]);
    run(async {
        let m = modem(&d, Config::default()).await;
        m.net_open().await.expect("net open");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let mut listener = TcpListener::bind(&m, port, 1).await.expect("server");
        let client = tokio::spawn(async move {
            let mut c = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("client connects");
            c.write_all(b"ping").await.expect("client writes");
            let mut got = [0u8; 4];
            c.read_exact(&mut got).await.expect("client reads");
            got
        });
        let (mut s, peer) = listener.accept().await.expect("accept");
        assert_eq!(peer.ip(), SocketAddrV4::new([127, 0, 0, 1].into(), 0).ip());
        let mut got = [0u8; 4];
        s.read_exact(&mut got).await.expect("read");
        assert_eq!(&got, b"ping");
        s.write_all(b"pong").await.expect("write");
        assert_eq!(&client.await.expect("client"), b"pong");
    });
}

#[test]
fn transparent_stream_with_commands_in_between() {
    let d = Daemon::start(&["--escape-guard-ms", "150", "--escape-gap-ms", "150"]);
    run(async {
        let port = echo_server().await;
        let config = Config {
            transparent: true,
            escape_guard: Duration::from_millis(250),
            ..Config::default()
        };
        let m = modem(&d, config).await;
        m.net_open().await.expect("net open");
        let mut s = at7600_client::TransparentStream::connect(&m, "127.0.0.1", port)
            .await
            .expect("CONNECT");
        s.write_all(b"DATA FROM SERVER\r\n").await.expect("write");
        let mut got = [0u8; 18];
        s.read_exact(&mut got).await.expect("echo");
        assert_eq!(&got, b"DATA FROM SERVER\r\n");
        // A command while in data mode: +++, the command, ATO, all inside.
        assert_eq!(
            m.ip_address().await.expect("IPADDR").to_string(),
            "10.148.0.17"
        );
        s.write_all(b"HELLO CLIENT").await.expect("write after ATO");
        let mut got = [0u8; 12];
        s.read_exact(&mut got).await.expect("echo after ATO");
        assert_eq!(&got, b"HELLO CLIENT");
        s.close().await.expect("close");
    });
}

#[test]
fn transparent_remote_close_is_eof() {
    let d = Daemon::start(&[]);
    run(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            s.write_all(b"bye").await.expect("peer writes");
        });
        let config = Config {
            transparent: true,
            ..Config::default()
        };
        let m = modem(&d, config).await;
        m.net_open().await.expect("net open");
        let mut s = at7600_client::TransparentStream::connect(&m, "127.0.0.1", port)
            .await
            .expect("CONNECT");
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.expect("read to CLOSED");
        assert_eq!(got, b"bye");
    });
}
