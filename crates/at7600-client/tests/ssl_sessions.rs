//! The driver's SSL socket set (`AT+CCH*`) against a scripted module speaking the exact
//! bytes of ssl.md: the example sessions of §15, the receive modes of §10, send
//! reports and back-pressure of §9, and each `<err>` of §13 as a typed error.
mod common;

use at7600_client::Config;
use at7600_client::{AuthMode, CchCode, Error, SslContext, SslVersion, TlsOptions, TlsStream};
use common::{config, data_frames, random_bytes, recv_block, scripted, step, Step};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `AT+CSSLCFG` lines of [`at7600_client::Modem::ssl_configure`] for `ctx`, each
/// answered `OK`.
fn csslcfg(ctx: u8, values: &[(&str, &str)]) -> Vec<Step> {
    values
        .iter()
        .map(|(name, value)| {
            step(
                format!("AT+CSSLCFG=\"{name}\",{ctx},{value}\r"),
                "\r\nOK\r\n",
            )
        })
        .collect()
}

/// The opening of session `s` in manual receive mode with context `ctx`, up to the
/// `AT+CCHOPEN` line, which `open` answers; `start` is what `AT+CCHSTART` answers
/// (`None`: the driver knows the service runs and does not send it).
fn open_steps(s: u8, ctx: u8, start: Option<&str>, open: &str, answer: &str) -> Vec<Step> {
    let mut v = vec![step("AT+CCHSET=1,1\r", "\r\nOK\r\n")];
    if let Some(start) = start {
        v.push(step("AT+CCHSTART\r", start));
    }
    v.push(step(format!("AT+CCHSSLCFG={s},{ctx}\r"), "\r\nOK\r\n"));
    v.push(step(format!("{open}\r"), answer));
    v
}

const STARTED: &str = "\r\nOK\r\n\r\n+CCHSTART: 0\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn section_15_certificate_download_list_and_errors() {
    let ca = random_bytes(1, 1188);
    let steps = vec![
        step("AT+CCERTDOWN=\"ca.pem\",1188\r\n", "\r\n>"),
        step(&ca, "\r\nOK\r\n"),
        step(
            "AT+CCERTLIST\r",
            "\r\n+CCERTLIST: \"ca.pem\"\r\n+CCERTLIST: \"&#x4E2D;&#x534E;.pem\"\r\n\r\nOK\r\n",
        ),
        // Refused without a prompt: the payload must not follow.
        step("AT+CCERTDOWN=\"ca.txt\",10\r\n", "\r\nERROR\r\n"),
        step("AT+CCERTDELE=\"old.pem\"\r", "\r\nERROR\r\n"),
    ];
    scripted(config(), steps, |modem| async move {
        modem.cert_download("ca.pem", &ca).await.expect("stored");
        assert_eq!(
            modem.cert_list().await.expect("listed"),
            ["ca.pem", "中华.pem"]
        );
        let e = modem.cert_download("ca.txt", &[b'x'; 10]).await;
        assert!(matches!(e, Err(Error::Rejected { .. })), "{e:?}");
        let e = modem.cert_delete("old.pem").await;
        assert!(matches!(e, Err(Error::Rejected { .. })), "{e:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn section_15_verified_tls_manual_receive_with_data_left_after_the_peer_closed() {
    let page = random_bytes(2, 1300);
    let mut steps = csslcfg(
        0,
        &[
            ("sslversion", "4"),
            ("authmode", "1"),
            ("ignorelocaltime", "1"),
            ("negotiatetime", "300"),
            ("cacert", "\"ca.pem\""),
            ("clientcert", "\"\""),
            ("clientkey", "\"\""),
            ("enableSNI", "1"),
            ("ciphersuites", "0xFFFF"),
        ],
    );
    steps.extend(open_steps(
        0,
        0,
        Some(STARTED),
        "AT+CCHOPEN=0,\"example.com\",443,2",
        "\r\nOK\r\n\r\n+CCHOPEN: 0,0\r\n",
    ));
    steps.extend([
        step("AT+CCHSEND=0,18\r\n", "\r\n>"),
        step(
            "GET / HTTP/1.0\r\n\r\n",
            "\r\nOK\r\n\r\n+CCHSEND: 0,0\r\n\r\n+CCHEVENT: 0,RECV EVENT\r\n",
        ),
        // 1100 cached at the event; the server's last 200 bytes and its close come
        // after the read: the cache is readable after the close.
        step("AT+CCHRECV=0,2048\r", {
            let mut r = recv_block(0, &page[..1100]);
            r.extend(b"\r\n+CCHEVENT: 0,RECV EVENT\r\n\r\n+CCH_PEER_CLOSED: 0\r\n");
            r
        }),
        step("AT+CCHRECV=0,2048\r", recv_block(0, &page[1100..])),
        step("AT+CCHCLOSE=0\r", "\r\nOK\r\n\r\n+CCHCLOSE: 0,0\r\n"),
        step("AT+CCHSTOP\r", "\r\nOK\r\n\r\n+CCHSTOP: 0\r\n"),
        step("AT+CCHSTOP\r", "\r\nERROR\r\n"),
    ]);
    scripted(config(), steps, |modem| async move {
        let ctx = SslContext {
            auth: AuthMode::Server,
            ca_cert: "ca.pem".into(),
            sni: true,
            ..SslContext::default()
        };
        modem.ssl_configure(0, &ctx).await.expect("configured");
        let mut s = TlsStream::connect(&modem, "example.com", 443, &TlsOptions::default())
            .await
            .expect("opens");
        assert_eq!(s.session(), 0);
        s.write_all(b"GET / HTTP/1.0\r\n\r\n").await.expect("sent");
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.expect("reads to EOF");
        assert_eq!(got, page, "every cached byte, in order, then EOF");
        let e = s.write_all(b"late").await.expect_err("the server closed");
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset);
        s.close().await.expect("closed");
        modem.tls_stop().await.expect("stopped");
        let e = modem.tls_stop().await;
        assert!(matches!(e, Err(Error::Rejected { .. })), "{e:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn section_10_2_a_peer_close_with_nothing_cached_reads_code_4_as_eof() {
    let mut steps = open_steps(
        0,
        0,
        Some(STARTED),
        "AT+CCHOPEN=0,\"example.com\",443,2",
        "\r\nOK\r\n\r\n+CCHOPEN: 0,0\r\n\r\n+CCH_PEER_CLOSED: 0\r\n",
    );
    steps.extend([
        step("AT+CCHRECV=0,2048\r", "\r\n+CCHRECV: 0,4\r\n\r\nERROR\r\n"),
        step("AT+CCHCLOSE=0\r", "\r\nOK\r\n\r\n+CCHCLOSE: 0,0\r\n"),
    ]);
    scripted(config(), steps, |modem| async move {
        let mut s = TlsStream::connect(&modem, "example.com", 443, &TlsOptions::default())
            .await
            .expect("opens");
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.expect("EOF");
        assert!(got.is_empty());
        s.close().await.expect("closed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn section_15_automatic_receive_over_plain_tcp() {
    let page = random_bytes(3, 1357);
    let push = {
        let mut r = b"\r\nOK\r\n\r\n+CCHSEND: 0,0\r\n".to_vec();
        r.extend(data_frames(0, &page));
        r.extend(b"\r\n+CCH_PEER_CLOSED: 0\r\n");
        r
    };
    let steps = vec![
        step("AT+CCHSET=1,0\r", "\r\nOK\r\n"),
        step("AT+CCHSTART\r", STARTED),
        step(
            "AT+CCHOPEN=0,\"example.com\",80,1\r",
            "\r\nOK\r\n\r\n+CCHOPEN: 0,0\r\n",
        ),
        step("AT+CCHSEND=0,18\r\n", "\r\n>"),
        step("GET / HTTP/1.0\r\n\r\n", push),
        step("AT+CCHCLOSE=0\r", "\r\nOK\r\n\r\n+CCHCLOSE: 0,0\r\n"),
    ];
    scripted(config(), steps, |modem| async move {
        let opts = TlsOptions {
            tls: false,
            manual_receive: false,
            ..TlsOptions::default()
        };
        let mut s = TlsStream::connect(&modem, "example.com", 80, &opts)
            .await
            .expect("opens");
        s.write_all(b"GET / HTTP/1.0\r\n\r\n").await.expect("sent");
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.expect("reads to EOF");
        assert_eq!(got, page);
        s.close().await.expect("closed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn section_15_mutual_tls_and_failures() {
    let key = random_bytes(4, 241);
    let open1 = "AT+CCHOPEN=0,\"mqtt.example.com\",8883,2";
    let mut steps = csslcfg(
        1,
        &[
            ("sslversion", "4"),
            ("authmode", "2"),
            ("ignorelocaltime", "1"),
            ("negotiatetime", "300"),
            ("cacert", "\"ca.pem\""),
            ("clientcert", "\"dev.pem\""),
            ("clientkey", "\"dev.key.pem\""),
            ("enableSNI", "0"),
            ("ciphersuites", "0xFFFF"),
        ],
    );
    // After a restart of the host only: the service already runs, so the module
    // refuses the start and the open goes ahead.
    steps.extend(open_steps(
        0,
        1,
        Some("\r\nERROR\r\n"),
        open1,
        "\r\nOK\r\n\r\n+CCHOPEN: 0,19\r\n",
    ));
    steps.extend([
        step("AT+CCERTDOWN=\"dev.key.pem\",241\r\n", "\r\n>"),
        step(&key, "\r\nOK\r\n"),
    ]);
    steps.extend(open_steps(
        0,
        1,
        None,
        open1,
        "\r\nOK\r\n\r\n+CCHOPEN: 0,0\r\n",
    ));
    steps.extend(open_steps(
        1,
        0,
        None,
        "AT+CCHOPEN=1,\"expired.example.com\",443,2",
        "\r\nOK\r\n\r\n+CCHOPEN: 1,15\r\n",
    ));
    steps.push(step("AT+CCHCLOSE=0\r", "\r\nOK\r\n\r\n+CCHCLOSE: 0,0\r\n"));
    scripted(config(), steps, |modem| async move {
        let ctx = SslContext {
            auth: AuthMode::Mutual,
            ca_cert: "ca.pem".into(),
            client_cert: "dev.pem".into(),
            client_key: "dev.key.pem".into(),
            ..SslContext::default()
        };
        modem.ssl_configure(1, &ctx).await.expect("configured");
        let mutual = TlsOptions {
            context: 1,
            ..TlsOptions::default()
        };
        let e = TlsStream::connect(&modem, "mqtt.example.com", 8883, &mutual)
            .await
            .expect_err("the key is missing");
        assert!(
            matches!(
                e,
                Error::TlsConnect {
                    session: 0,
                    code: CchCode::NoCertificates
                }
            ),
            "{e:?}"
        );
        modem
            .cert_download("dev.key.pem", &key)
            .await
            .expect("stored");
        let s = TlsStream::connect(&modem, "mqtt.example.com", 8883, &mutual)
            .await
            .expect("opens once the key is there");
        let e = TlsStream::connect(&modem, "expired.example.com", 443, &TlsOptions::default())
            .await
            .expect_err("handshake fails");
        assert!(
            matches!(
                e,
                Error::TlsConnect {
                    session: 1,
                    code: CchCode::Handshake
                }
            ),
            "{e:?}"
        );
        s.close().await.expect("closed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn section_8_3_each_open_failure_is_its_typed_code() {
    let codes = [
        (12, CchCode::CreateSocket),
        (13, CchCode::Dns),
        (14, CchCode::ConnectSocket),
        (15, CchCode::Handshake),
        (17, CchCode::NoNet),
        (19, CchCode::NoCertificates),
    ];
    let mut steps = Vec::new();
    for (i, (n, _)) in codes.iter().enumerate() {
        steps.extend(open_steps(
            0,
            0,
            (i == 0).then_some(STARTED),
            "AT+CCHOPEN=0,\"h.example\",443,2",
            &format!("\r\nOK\r\n\r\n+CCHOPEN: 0,{n}\r\n"),
        ));
    }
    // An open refused outright (session busy elsewhere): plain ERROR, no report.
    steps.extend(open_steps(
        0,
        0,
        None,
        "AT+CCHOPEN=0,\"h.example\",443,2",
        "\r\nERROR\r\n",
    ));
    scripted(config(), steps, |modem| async move {
        for (n, code) in codes {
            let e = TlsStream::connect(&modem, "h.example", 443, &TlsOptions::default())
                .await
                .expect_err("fails");
            match e {
                Error::TlsConnect {
                    session: 0,
                    code: c,
                } => {
                    assert_eq!(c, code);
                    assert_eq!(c.code(), n);
                }
                other => panic!("{n}: {other:?}"),
            }
        }
        let e = TlsStream::connect(&modem, "h.example", 443, &TlsOptions::default()).await;
        assert!(matches!(e, Err(Error::Rejected { .. })), "{e:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn section_10_2_a_slow_reader_is_back_pressure_not_loss() {
    // 10000 bytes cached; the application reads slowly; the driver keeps at most its
    // window (plus one read) ahead and loses nothing.
    let window = 4096;
    let data = random_bytes(5, 10_000);
    let consumed = Arc::new(AtomicUsize::new(0));
    let mut steps = open_steps(
        0,
        0,
        Some(STARTED),
        "AT+CCHOPEN=0,\"example.com\",443,2",
        "\r\nOK\r\n\r\n+CCHOPEN: 0,0\r\n\r\n+CCHEVENT: 0,RECV EVENT\r\n",
    );
    let mut served = 0;
    while served < data.len() {
        let n = (data.len() - served).min(2048);
        let seen = consumed.clone();
        let ahead_before = served;
        steps.push(
            step(
                "AT+CCHRECV=0,2048\r",
                recv_block(0, &data[served..served + n]),
            )
            .check(move || {
                let read = seen.load(Ordering::SeqCst);
                // The driver only asks while it holds less than its window (give or
                // take the application's read in progress: 700 bytes).
                if ahead_before - read >= window + 700 {
                    return Err(format!("read ahead {} bytes", ahead_before - read));
                }
                Ok(())
            }),
        );
        served += n;
    }
    steps.push(step("AT+CCHCLOSE=0\r", "\r\nOK\r\n\r\n+CCHCLOSE: 0,0\r\n"));
    let config = Config {
        rx_window: window,
        ..config()
    };
    scripted(config, steps, |modem| async move {
        let mut s = TlsStream::connect(&modem, "example.com", 443, &TlsOptions::default())
            .await
            .expect("opens");
        let mut got = Vec::new();
        let mut buf = [0u8; 700];
        for _ in 0..100 {
            if got.len() == data.len() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            let n = s.read(&mut buf).await.expect("reads");
            got.extend_from_slice(&buf[..n]);
            consumed.fetch_add(n, Ordering::SeqCst);
        }
        assert_eq!(got, data);
        s.close().await.expect("closed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn section_9_writes_are_chunked_and_wait_for_their_reports() {
    let data = random_bytes(6, 5000);
    let mut steps = open_steps(
        0,
        0,
        Some(STARTED),
        "AT+CCHOPEN=0,\"example.com\",443,2",
        "\r\nOK\r\n\r\n+CCHOPEN: 0,0\r\n",
    );
    steps.extend([
        step("AT+CCHSEND=0,2048\r\n", "\r\n>"),
        step(&data[..2048], "\r\nOK\r\n\r\n+CCHSEND: 0,0\r\n"),
        step("AT+CCHSEND=0,2048\r\n", "\r\n>"),
        step(&data[2048..4096], "\r\nOK\r\n\r\n+CCHSEND: 0,0\r\n"),
        step("AT+CCHSEND=0,904\r\n", "\r\n>"),
        // The queue stayed full for the send timeout: the bytes were dropped.
        step(&data[4096..], "\r\nOK\r\n\r\n+CCHSEND: 0,18\r\n"),
        step("AT+CCHCLOSE=0\r", "\r\nOK\r\n\r\n+CCHCLOSE: 0,0\r\n"),
    ]);
    scripted(config(), steps, |modem| async move {
        let mut s = TlsStream::connect(&modem, "example.com", 443, &TlsOptions::default())
            .await
            .expect("opens");
        let e = s
            .write_all(&data)
            .await
            .expect_err("the last chunk dropped");
        let inner = e.into_inner().expect("typed");
        let e = inner.downcast::<Error>().expect("at7600 error");
        assert!(
            matches!(
                *e,
                Error::SessionClosed {
                    session: 0,
                    code: Some(CchCode::SendTimeout)
                }
            ),
            "{e:?}"
        );
        s.close().await.expect("closed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn section_11_3_the_a76xx_service_stop_fails_the_session() {
    let steps = open_steps(
        0,
        0,
        Some(STARTED),
        "AT+CCHOPEN=0,\"example.com\",443,2",
        "\r\nOK\r\n\r\n+CCHOPEN: 0,0\r\n\r\n+CCH_PEER_CLOSED: 0\r\n\r\n+CCH: CCH STOP\r\n",
    );
    let mut steps = steps;
    // The freed session: the close is refused, which is no error here.
    steps.push(step("AT+CCHCLOSE=0\r", "\r\nERROR\r\n"));
    scripted(config(), steps, |modem| async move {
        let mut s = TlsStream::connect(&modem, "example.com", 443, &TlsOptions::default())
            .await
            .expect("opens");
        let mut buf = [0u8; 16];
        let e = s.read(&mut buf).await.expect_err("the network went");
        let e = e.into_inner().expect("typed").downcast::<Error>();
        assert!(matches!(e.as_deref(), Ok(Error::NetworkLost)), "{e:?}");
        s.close().await.expect("a freed session closes quietly");
    })
    .await;
}

#[test]
fn section_3_1_a_context_at_factory_values() {
    let ctx = SslContext::default();
    assert_eq!(ctx.version, SslVersion::All);
    assert_eq!(ctx.auth, AuthMode::None);
    assert!(ctx.ignore_local_time);
    assert_eq!(ctx.negotiate_time, 300);
    assert!(!ctx.sni);
    assert_eq!(ctx.cipher_suite, None);
}

/// Firmware written against `embedded-io-async` reads and writes a session as it
/// would a socket.
#[cfg(feature = "embedded-nal-async")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn section_9_and_10_through_the_embedded_io_traits() {
    use at7600_client::embedded::embedded_io_async::{Read, Write};
    let mut steps = open_steps(
        0,
        0,
        Some(STARTED),
        "AT+CCHOPEN=0,\"example.com\",8883,2",
        "\r\nOK\r\n\r\n+CCHOPEN: 0,0\r\n",
    );
    steps.extend([
        step("AT+CCHSEND=0,4\r\n", "\r\n>"),
        step(
            "\x20\x02\x00\x00",
            "\r\nOK\r\n\r\n+CCHSEND: 0,0\r\n\r\n+CCHEVENT: 0,RECV EVENT\r\n",
        ),
        step("AT+CCHRECV=0,2048\r", recv_block(0, b"\x40\x02\x00\x01")),
        step("AT+CCHCLOSE=0\r", "\r\nOK\r\n\r\n+CCHCLOSE: 0,0\r\n"),
    ]);
    scripted(config(), steps, |modem| async move {
        let mut s = TlsStream::connect(&modem, "example.com", 8883, &TlsOptions::default())
            .await
            .expect("opens");
        Write::write_all(&mut s, b"\x20\x02\x00\x00")
            .await
            .expect("sent");
        let mut got = [0u8; 4];
        Read::read_exact(&mut s, &mut got).await.expect("read");
        assert_eq!(&got, b"\x40\x02\x00\x01");
        s.close().await.expect("closed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn section_6_no_network_at_start_is_code_17_and_the_stop_closes_open_sessions() {
    let mut steps = vec![
        step("AT+CCHSTART\r", "\r\nOK\r\n\r\n+CCHSTART: 17\r\n"),
        step("AT+CCHSTART\r", STARTED),
    ];
    steps.extend(open_steps(
        0,
        0,
        None,
        "AT+CCHOPEN=0,\"example.com\",443,2",
        "\r\nOK\r\n\r\n+CCHOPEN: 0,0\r\n",
    ));
    steps.extend([
        step(
            "AT+CCHSTOP\r",
            "\r\nOK\r\n\r\n+CCHCLOSE: 0,0\r\n\r\n+CCHSTOP: 0\r\n",
        ),
        // The module freed the session: the stream's close is refused, quietly.
        step("AT+CCHCLOSE=0\r", "\r\nERROR\r\n"),
    ]);
    scripted(config(), steps, |modem| async move {
        let e = modem.tls_start().await;
        assert!(
            matches!(
                e,
                Err(Error::Cch {
                    code: CchCode::NoNet,
                    ..
                })
            ),
            "{e:?}"
        );
        modem.tls_start().await.expect("started");
        let mut s = TlsStream::connect(&modem, "example.com", 443, &TlsOptions::default())
            .await
            .expect("opens without a second start");
        modem.tls_stop().await.expect("stopped");
        let mut buf = [0u8; 8];
        let e = s.read(&mut buf).await.expect_err("the session is gone");
        let e = e.into_inner().expect("typed").downcast::<Error>();
        assert!(
            matches!(
                e.as_deref(),
                Ok(Error::SessionClosed {
                    session: 0,
                    code: None
                })
            ),
            "{e:?}"
        );
        s.close().await.expect("closes quietly");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn section_10_2_data_whose_recv_event_was_lost_is_found_by_polling() {
    // The module cached 5 bytes but the host never saw `+CCHEVENT`: a waiting reader
    // makes the driver ask `AT+CCHRECV?`, then read.
    let mut steps = open_steps(
        0,
        0,
        Some(STARTED),
        "AT+CCHOPEN=0,\"example.com\",443,2",
        "\r\nOK\r\n\r\n+CCHOPEN: 0,0\r\n",
    );
    steps.extend([
        step("AT+CCHRECV?\r", "\r\n+CCHRECV: LEN,5,0\r\n\r\nOK\r\n"),
        step("AT+CCHRECV=0,2048\r", recv_block(0, b"hello")),
        step("AT+CCHCLOSE=0\r", "\r\nOK\r\n\r\n+CCHCLOSE: 0,0\r\n"),
    ]);
    let config = Config {
        poll_interval: Duration::from_millis(50),
        ..config()
    };
    scripted(config, steps, |modem| async move {
        let mut s = TlsStream::connect(&modem, "example.com", 443, &TlsOptions::default())
            .await
            .expect("opens");
        let mut got = [0u8; 5];
        s.read_exact(&mut got).await.expect("found and read");
        assert_eq!(&got, b"hello");
        s.close().await.expect("closed");
    })
    .await;
}
