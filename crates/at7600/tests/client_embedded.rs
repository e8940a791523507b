//! Firmware written against embedded-nal-async / embedded-io-async runs on the client
//! driver (feature `embedded-nal-async`): generic code, the daemon on loopback.
mod common;

use at7600_client::embedded::embedded_io_async::{Error as _, ErrorKind, Read, Write};
use at7600_client::embedded::embedded_nal_async::{AddrType, Dns, TcpConnect};
use at7600_client::{Config, Modem};
use common::client::{echo_server, modem_at, run};
use common::Daemon;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// What a firmware's "talk to the server" routine looks like: it knows only the traits.
async fn echo_via<S>(stack: &S, host: &str, port: u16, msg: &[u8]) -> Vec<u8>
where
    S: TcpConnect + Dns,
    <S as Dns>::Error: std::fmt::Debug,
{
    let ip = stack
        .get_host_by_name(host, AddrType::IPv4)
        .await
        .expect("name resolves");
    let mut conn = stack
        .connect(SocketAddr::new(ip, port))
        .await
        .expect("connects");
    conn.write_all(msg).await.expect("writes");
    conn.flush().await.expect("flushes");
    let mut got = vec![0u8; msg.len()];
    conn.read_exact(&mut got).await.expect("reads");
    got
}

async fn modem(d: &Daemon) -> Modem {
    let m = modem_at(&d.addr, Config::default()).await;
    m.net_open().await.expect("net open");
    m
}

#[test]
fn generic_firmware_code_talks_through_the_traits() {
    let d = Daemon::start(&[]);
    run(async {
        let port = echo_server().await;
        let m = modem(&d).await;
        let msg: Vec<u8> = (0..=255u8).cycle().take(4000).collect();
        assert_eq!(echo_via(&m, "localhost", port, &msg).await, msg);
    });
}

#[test]
fn failures_keep_their_kind_through_the_traits() {
    let d = Daemon::start(&[]);
    run(async {
        let m = modem(&d).await;
        let free = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let refused = TcpConnect::connect(&m, SocketAddr::new([127, 0, 0, 1].into(), free))
            .await
            .expect_err("nobody listens");
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused, "{refused:?}");
        let v6 = TcpConnect::connect(&m, SocketAddr::new(Ipv6Addr::LOCALHOST.into(), 80))
            .await
            .expect_err("IPv4 only");
        assert_eq!(v6.kind(), ErrorKind::Unsupported);
        let reverse = m
            .get_host_by_address(IpAddr::from([127, 0, 0, 1]), &mut [0u8; 64])
            .await
            .expect_err("no reverse lookup");
        assert_eq!(reverse.kind(), ErrorKind::Unsupported);
        let unknown = m
            .get_host_by_name("no-such-host.invalid", AddrType::Either)
            .await
            .expect_err("does not resolve");
        assert!(
            matches!(unknown, at7600_client::Error::Dns { code: 10, .. }),
            "{unknown:?}"
        );
    });
}

#[test]
fn a_remote_close_reads_as_end_of_stream_through_the_traits() {
    let d = Daemon::start(&[]);
    run(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let peer = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            tokio::io::AsyncWriteExt::write_all(&mut s, b"bye")
                .await
                .expect("write");
        });
        let m = modem(&d).await;
        let mut conn = TcpConnect::connect(&m, SocketAddr::new([127, 0, 0, 1].into(), port))
            .await
            .expect("connects");
        peer.await.expect("peer");
        let mut got = Vec::new();
        let mut buf = [0u8; 16];
        for _ in 0..100 {
            match Read::read(&mut conn, &mut buf).await.expect("read") {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(got, b"bye");
    });
}
