//! The SSL socket set (`AT+CCH*`, ssl.md) end to end: the daemon on the host's real
//! network against loopback TLS servers whose certificate chain is generated here.
//! First the example sessions of ssl.md §15 as raw transcripts over the PTY, then the
//! client driver's `TlsStream` through the TCP front end: an HTTPS GET, an MQTT
//! exchange, mutual TLS, each handshake failure with its code, and a server that
//! closes with data still unread. Every wait is bounded.
mod common;

use at7600_client::{AuthMode, CchCode, Error, Modem, SslContext, TlsOptions, TlsStream};
use at7600_core::escape::parse_c_string;
use common::client::{modem_at, run};
use common::tls::{Behaviour, Chain, TestServer};
use common::{show, Daemon, Port, PtyDaemon};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Writes `input` and checks the modem answers exactly `expected`.
fn exchange(port: &Port, input: impl AsRef<[u8]>, expected: impl AsRef<[u8]>) {
    let (input, expected) = (input.as_ref(), expected.as_ref());
    port.write(input);
    let out = port.read_until(&show(expected));
    assert_eq!(out, show(expected), "answer to {:?}", show(input));
}

/// A command line and its exact answer.
fn at(port: &Port, line: &str, expected: impl AsRef<[u8]>) {
    exchange(port, format!("{line}\r"), expected);
}

const OK: &str = "\r\nOK\r\n";
const ERROR: &str = "\r\nERROR\r\n";

/// The PTY modem with echo off.
fn pty_modem(daemon: &PtyDaemon) -> Port {
    let port = Port::open(&daemon.link);
    port.cmd("ATE0\r", "OK\\r\\n");
    port
}

/// `AT+CCERTDOWN` of `contents` as `name` over the PTY.
fn download(port: &Port, name: &str, contents: &[u8]) {
    at(
        port,
        &format!("AT+CCERTDOWN=\"{name}\",{}", contents.len()),
        "\r\n>",
    );
    exchange(port, contents, OK);
}

/// An HTTP/1.0 response of exactly `total` bytes.
fn http_response(total: usize) -> Vec<u8> {
    let head_for = |n: usize| format!("HTTP/1.0 200 OK\r\nContent-Length: {n}\r\n\r\n");
    // The head's length depends on the body's digits: settle it in two passes.
    let guess = total - head_for(total).len();
    let body_len = total - head_for(guess).len();
    let mut out = head_for(body_len).into_bytes();
    out.extend((0..body_len).map(|i| b'a' + (i % 26) as u8));
    assert_eq!(out.len(), total);
    out
}

/// `+CCHRECV: DATA,<s>,<k>` frames in `raw` (what a modem printed): the bytes they
/// carry, and each frame's length.
fn data_frames(raw: &[u8], session: u8) -> (Vec<u8>, Vec<usize>) {
    let head = format!("\r\n+CCHRECV: DATA,{session},");
    let mut data = Vec::new();
    let mut sizes = Vec::new();
    let mut rest = raw;
    while let Some(at) = rest.windows(head.len()).position(|w| w == head.as_bytes()) {
        let after = &rest[at + head.len()..];
        let end = after
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a frame's length ends its line");
        let k: usize = std::str::from_utf8(&after[..end])
            .ok()
            .and_then(|v| v.parse().ok())
            .expect("a frame length");
        let body = &after[end + 2..];
        assert!(body.len() >= k, "frame of {k} bytes cut short");
        data.extend_from_slice(&body[..k]);
        sizes.push(k);
        rest = &body[k..];
    }
    (data, sizes)
}

#[test]
fn section_15_certificate_download_list_and_errors_on_the_pty() {
    let chain = Chain::generate();
    let daemon = PtyDaemon::start(&[]);
    let port = pty_modem(&daemon);
    download(&port, "ca.pem", chain.ca.cert_pem.as_bytes());
    at(
        &port,
        "AT+CCERTLIST",
        "\r\n+CCERTLIST: \"ca.pem\"\r\n\r\nOK\r\n",
    );
    at(&port, "AT+CCERTDOWN=\"ca.txt\",10", ERROR);
    at(&port, "AT+CCERTDELE=\"old.pem\"", ERROR);
}

#[test]
fn section_15_verified_tls_manual_receive_and_data_read_after_the_peer_closed_on_the_pty() {
    let chain = Chain::generate();
    let page = http_response(1300);
    let server = chain.serve(&chain.server, false, false, Behaviour::Http(page.clone()));
    let daemon = PtyDaemon::start(&[]);
    let port = pty_modem(&daemon);
    download(&port, "ca.pem", chain.ca.cert_pem.as_bytes());
    at(&port, "AT+CSSLCFG=\"sslversion\",0,4", OK);
    at(&port, "AT+CSSLCFG=\"authmode\",0,1", OK);
    at(&port, "AT+CSSLCFG=\"cacert\",0,\"ca.pem\"", OK);
    at(&port, "AT+CSSLCFG=\"enableSNI\",0,1", OK);
    at(&port, "AT+CCHSET=1,1", OK);
    at(&port, "AT+CCHSTART", "\r\nOK\r\n\r\n+CCHSTART: 0\r\n");
    at(&port, "AT+CCHSSLCFG=0,0", OK);
    let p = server.port;
    at(
        &port,
        &format!("AT+CCHOPEN=0,\"localhost\",{p},2"),
        "\r\nOK\r\n\r\n+CCHOPEN: 0,0\r\n",
    );
    at(&port, "AT+CCHSEND=0,18", "\r\n>");
    // The server answers and closes: one event for the cache, then the close, the
    // 1300 bytes still cached.
    exchange(
        &port,
        "GET / HTTP/1.0\r\n\r\n",
        "\r\nOK\r\n\r\n+CCHSEND: 0,0\r\n\r\n+CCHEVENT: 0,RECV EVENT\r\n\r\n+CCH_PEER_CLOSED: 0\r\n",
    );
    assert_eq!(server.received(), b"GET / HTTP/1.0\r\n\r\n");
    at(
        &port,
        "AT+CCHRECV?",
        "\r\n+CCHRECV: LEN,1300,0\r\n\r\nOK\r\n",
    );
    let mut first = b"\r\nOK\r\n\r\n+CCHRECV: DATA,0,1024\r\n".to_vec();
    first.extend_from_slice(&page[..1024]);
    first.extend_from_slice(b"\r\n+CCHRECV: DATA,0,76\r\n");
    first.extend_from_slice(&page[1024..1100]);
    first.extend_from_slice(b"\r\n+CCHRECV: 0,0\r\n");
    at(&port, "AT+CCHRECV=0,1100", first);
    at(
        &port,
        "AT+CCHOPEN?",
        format!("\r\n+CCHOPEN: 0,\"localhost\",{p},2,\r\n+CCHOPEN: 1,\"\",,,\r\n\r\nOK\r\n"),
    );
    let mut rest = b"\r\nOK\r\n\r\n+CCHRECV: DATA,0,200\r\n".to_vec();
    rest.extend_from_slice(&page[1100..]);
    rest.extend_from_slice(b"\r\n+CCHRECV: 0,0\r\n");
    at(&port, "AT+CCHRECV=0", rest);
    at(&port, "AT+CCHRECV=0", "\r\n+CCHRECV: 0,4\r\n\r\nERROR\r\n");
    at(&port, "AT+CCHCLOSE=0", "\r\nOK\r\n\r\n+CCHCLOSE: 0,0\r\n");
    at(&port, "AT+CCHCLOSE=0", ERROR);
    at(&port, "AT+CCHSTOP", "\r\nOK\r\n\r\n+CCHSTOP: 0\r\n");
    at(&port, "AT+CCHSTOP", ERROR);
}

#[test]
fn section_15_automatic_receive_over_plain_tcp_on_the_pty() {
    let page = http_response(1357);
    let server = TestServer::start(None, Behaviour::Http(page.clone()));
    let daemon = PtyDaemon::start(&[]);
    let port = pty_modem(&daemon);
    at(&port, "AT+CCHSET=1", OK);
    at(&port, "AT+CCHSTART", "\r\nOK\r\n\r\n+CCHSTART: 0\r\n");
    let p = server.port;
    at(
        &port,
        &format!("AT+CCHOPEN=1,\"localhost\",{p},1"),
        "\r\nOK\r\n\r\n+CCHOPEN: 1,0\r\n",
    );
    at(&port, "AT+CCHSEND=1,18", "\r\n>");
    port.write(b"GET / HTTP/1.0\r\n\r\n");
    let out = port.read_until("\\r\\n+CCH_PEER_CLOSED: 1\\r\\n");
    let raw = parse_c_string(&out).expect("a C string");
    assert!(
        raw.starts_with(b"\r\nOK\r\n\r\n+CCHSEND: 1,0\r\n\r\n+CCHRECV: DATA,1,"),
        "{out}"
    );
    let (data, sizes) = data_frames(&raw, 1);
    assert_eq!(data, page, "every byte pushed, in order: {out}");
    assert!(sizes.iter().all(|&k| (1..=1024).contains(&k)), "{sizes:?}");
    at(&port, "AT+CCHCLOSE=1", "\r\nOK\r\n\r\n+CCHCLOSE: 1,0\r\n");
}

#[test]
fn section_15_mutual_tls_and_each_handshake_failure_on_the_pty() {
    let chain = Chain::generate();
    let mutual = chain.serve(&chain.server, true, false, Behaviour::Echo);
    let expired = chain.serve(&chain.expired, false, false, Behaviour::Echo);
    let wrong_name = chain.serve(&chain.wrong_name, false, false, Behaviour::Echo);
    let unknown_ca = chain.serve(&chain.unknown_ca_server, false, false, Behaviour::Echo);
    let tls13_only = chain.serve(&chain.server, false, true, Behaviour::Echo);
    let refused = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let daemon = PtyDaemon::start(&[]);
    let port = pty_modem(&daemon);
    download(&port, "ca.pem", chain.ca.cert_pem.as_bytes());
    download(&port, "dev.pem", chain.client.cert_pem.as_bytes());
    at(&port, "AT+CCHSTART", "\r\nOK\r\n\r\n+CCHSTART: 0\r\n");

    // Mutual TLS on session 1, context 1 (no binding: the context numbered like the
    // session), first without the key.
    at(&port, "AT+CSSLCFG=\"authmode\",1,2", OK);
    at(&port, "AT+CSSLCFG=\"cacert\",1,\"ca.pem\"", OK);
    at(&port, "AT+CSSLCFG=\"clientcert\",1,\"dev.pem\"", OK);
    at(&port, "AT+CSSLCFG=\"clientkey\",1,\"dev.key.pem\"", OK);
    let open1 = format!("AT+CCHOPEN=1,\"localhost\",{}", mutual.port);
    at(&port, &open1, "\r\nOK\r\n\r\n+CCHOPEN: 1,19\r\n");
    download(&port, "dev.key.pem", chain.client.key_pem.as_bytes());
    at(&port, &open1, "\r\nOK\r\n\r\n+CCHOPEN: 1,0\r\n");
    // Automatic receive (the factory AT+CCHSET=0,0): the echo is pushed.
    at(&port, "AT+CCHSEND=1,5", "\r\n>");
    exchange(&port, "hello", "\r\nOK\r\n\r\n+CCHRECV: DATA,1,5\r\nhello");
    assert_eq!(mutual.received(), b"hello");

    // Authmode 0: nothing checked, an expired certificate is fine.
    at(
        &port,
        &format!("AT+CCHOPEN=0,\"localhost\",{}", expired.port),
        "\r\nOK\r\n\r\n+CCHOPEN: 0,0\r\n",
    );
    at(&port, "AT+CCHSTART", ERROR);
    at(&port, "AT+CCHCLOSE=0", "\r\nOK\r\n\r\n+CCHCLOSE: 0,0\r\n");

    // Context 0 verifies the server: every handshake failure is 15.
    at(&port, "AT+CSSLCFG=\"authmode\",0,1", OK);
    at(&port, "AT+CSSLCFG=\"cacert\",0,\"ca.pem\"", OK);
    for failing in [&wrong_name, &unknown_ca, &tls13_only, &mutual] {
        at(
            &port,
            &format!("AT+CCHOPEN=0,\"localhost\",{}", failing.port),
            "\r\nOK\r\n\r\n+CCHOPEN: 0,15\r\n",
        );
    }
    at(&port, "AT+CSSLCFG=\"ignorelocaltime\",0,0", OK);
    at(
        &port,
        &format!("AT+CCHOPEN=0,\"localhost\",{}", expired.port),
        "\r\nOK\r\n\r\n+CCHOPEN: 0,15\r\n",
    );
    // SSL 3.0 is refused once TCP is up.
    at(&port, "AT+CSSLCFG=\"sslversion\",0,0", OK);
    at(
        &port,
        &format!("AT+CCHOPEN=0,\"localhost\",{}", unknown_ca.port),
        "\r\nOK\r\n\r\n+CCHOPEN: 0,15\r\n",
    );
    // Name and TCP failures have their own codes.
    at(
        &port,
        "AT+CCHOPEN=0,\"no-such-host.invalid\",443",
        "\r\nOK\r\n\r\n+CCHOPEN: 0,13\r\n",
    );
    at(
        &port,
        &format!("AT+CCHOPEN=0,\"127.0.0.1\",{refused}"),
        "\r\nOK\r\n\r\n+CCHOPEN: 0,14\r\n",
    );
    at(&port, "AT+CCHCLOSE=1", "\r\nOK\r\n\r\n+CCHCLOSE: 1,0\r\n");
}

/// A modem on the daemon with the CA (and the client identity) in its store and
/// context 0 verifying the server by `localhost`.
async fn verifying_modem(d: &Daemon, chain: &Chain) -> Modem {
    let m = modem_at(&d.addr, at7600_client::Config::default()).await;
    m.cert_download("ca.pem", chain.ca.cert_pem.as_bytes())
        .await
        .expect("CA stored");
    m.cert_download("dev.pem", chain.client.cert_pem.as_bytes())
        .await
        .expect("client certificate stored");
    let ctx = SslContext {
        auth: AuthMode::Server,
        ca_cert: "ca.pem".into(),
        sni: true,
        ..SslContext::default()
    };
    m.ssl_configure(0, &ctx).await.expect("context 0");
    m
}

/// [`verifying_modem`], with the client key stored and context 1 for mutual TLS.
async fn mutual_modem(d: &Daemon, chain: &Chain) -> Modem {
    let m = verifying_modem(d, chain).await;
    m.cert_download("dev.key.pem", chain.client.key_pem.as_bytes())
        .await
        .expect("key stored");
    m.ssl_configure(1, &mutual_context())
        .await
        .expect("context 1");
    m
}

/// Context 1: mutual TLS with `dev.pem` and `dev.key.pem`.
fn mutual_context() -> SslContext {
    SslContext {
        auth: AuthMode::Mutual,
        ca_cert: "ca.pem".into(),
        client_cert: "dev.pem".into(),
        client_key: "dev.key.pem".into(),
        sni: true,
        ..SslContext::default()
    }
}

const CONTEXT_1: TlsOptions = TlsOptions {
    context: 1,
    tls: true,
    manual_receive: true,
    bind_port: None,
};

#[test]
fn an_https_get_through_the_driver_is_byte_exact() {
    let chain = Chain::generate();
    // Larger than the module's 5496-byte cache: the rest waits in TLS/TCP flow control.
    let page = http_response(50_000);
    let server = chain.serve(&chain.server, false, false, Behaviour::Http(page.clone()));
    let d = Daemon::start(&[]);
    run(async {
        let m = verifying_modem(&d, &chain).await;
        let mut s = TlsStream::connect(&m, "localhost", server.port, &TlsOptions::default())
            .await
            .expect("TLS open");
        s.write_all(b"GET /index.html HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await
            .expect("request sent");
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.expect("response to EOF");
        assert_eq!(got.len(), page.len());
        assert!(got == page, "the page byte for byte");
        s.close().await.expect("closed");
    });
    assert_eq!(
        server.received(),
        b"GET /index.html HTTP/1.0\r\nHost: localhost\r\n\r\n"
    );
}

/// MQTT 3.1.1 CONNECT, client id "at7600", clean session, keep-alive 60 s.
const CONNECT: &[u8] = b"\x10\x12\x00\x04MQTT\x04\x02\x00\x3c\x00\x06at7600";
/// PUBLISH QoS 1, topic "at7600/test", packet id 1, payload "hello over tls".
const PUBLISH: &[u8] = b"\x32\x1d\x00\x0bat7600/test\x00\x01hello over tls";
const DISCONNECT: &[u8] = b"\xe0\x00";
const CONNACK: &[u8] = b"\x20\x02\x00\x00";
const PUBACK: &[u8] = b"\x40\x02\x00\x01";

#[test]
fn an_mqtt_exchange_over_mutual_tls_through_the_driver_is_byte_exact() {
    let chain = Chain::generate();
    let broker = chain.serve(&chain.server, true, false, Behaviour::Mqtt);
    let d = Daemon::start(&[]);
    run(async {
        let m = mutual_modem(&d, &chain).await;
        let mut s = TlsStream::connect(&m, "localhost", broker.port, &CONTEXT_1)
            .await
            .expect("mutual TLS open");
        s.write_all(CONNECT).await.expect("CONNECT");
        let mut connack = [0u8; 4];
        s.read_exact(&mut connack).await.expect("CONNACK");
        assert_eq!(connack, CONNACK);
        s.write_all(PUBLISH).await.expect("PUBLISH");
        let mut puback = [0u8; 4];
        s.read_exact(&mut puback).await.expect("PUBACK");
        assert_eq!(puback, PUBACK);
        s.write_all(DISCONNECT).await.expect("DISCONNECT");
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).await.expect("the broker closes");
        assert!(rest.is_empty(), "{rest:?}");
        s.close().await.expect("closed");
    });
    broker.wait_served();
    assert_eq!(broker.received(), [CONNECT, PUBLISH, DISCONNECT].concat());
}

/// `data` through an echo server at `host:port`, writing and reading at once, in
/// manual then automatic receive mode; byte for byte.
async fn echo_in_both_receive_modes(
    m: &Modem,
    host: &str,
    port: u16,
    base: &TlsOptions,
    data: &[u8],
) {
    for manual_receive in [true, false] {
        let opts = TlsOptions {
            manual_receive,
            ..base.clone()
        };
        let s = TlsStream::connect(m, host, port, &opts)
            .await
            .expect("open");
        let (mut r, mut w) = tokio::io::split(s);
        let send = data.to_vec();
        let writer = tokio::spawn(async move {
            w.write_all(&send).await.expect("sent");
            w
        });
        let mut back = vec![0u8; data.len()];
        r.read_exact(&mut back).await.expect("echoed");
        assert!(back == data, "echo byte for byte (manual {manual_receive})");
        let w = writer.await.expect("writer");
        r.unsplit(w).close().await.expect("closed");
    }
}

#[test]
fn mutual_tls_echo_both_receive_modes_through_the_driver() {
    let chain = Chain::generate();
    let server = chain.serve(&chain.server, true, false, Behaviour::Echo);
    let d = Daemon::start(&[]);
    run(async {
        let m = mutual_modem(&d, &chain).await;
        let data = common::client::random_bytes(7, 64 * 1024);
        echo_in_both_receive_modes(&m, "localhost", server.port, &CONTEXT_1, &data).await;
    });
}

#[test]
fn plain_tcp_sessions_through_the_driver_in_both_receive_modes() {
    // Client type 1: the same commands without TLS (ssl.md §14.5).
    let d = Daemon::start(&[]);
    run(async {
        let port = common::client::echo_server().await;
        let m = modem_at(&d.addr, at7600_client::Config::default()).await;
        let data = common::client::random_bytes(9, 256 * 1024);
        let plain = TlsOptions {
            tls: false,
            ..TlsOptions::default()
        };
        echo_in_both_receive_modes(&m, "127.0.0.1", port, &plain, &data).await;
        m.tls_stop().await.expect("stopped");
    });
}

/// The code a failed open reports.
async fn open_error(m: &Modem, host: &str, port: u16, opts: &TlsOptions) -> CchCode {
    match TlsStream::connect(m, host, port, opts).await {
        Err(Error::TlsConnect { code, .. }) => code,
        other => panic!("{host}:{port}: {other:?}"),
    }
}

#[test]
fn each_handshake_failure_is_15_and_a_missing_key_19_through_the_driver() {
    let chain = Chain::generate();
    let start = |id, client_ca, tls13| chain.serve(id, client_ca, tls13, Behaviour::Echo);
    let wrong_name = start(&chain.wrong_name, false, false);
    let unknown_ca = start(&chain.unknown_ca_server, false, false);
    let expired = start(&chain.expired, false, false);
    let tls13_only = start(&chain.server, false, true);
    let mutual = start(&chain.server, true, false);
    let d = Daemon::start(&[]);
    run(async {
        let m = verifying_modem(&d, &chain).await;
        let verify = TlsOptions::default();
        for server in [&wrong_name, &unknown_ca, &tls13_only, &mutual] {
            let code = open_error(&m, "localhost", server.port, &verify).await;
            assert_eq!(code, CchCode::Handshake, "port {}", server.port);
        }
        // Dates count only with ignorelocaltime 0.
        let strict = SslContext {
            auth: AuthMode::Server,
            ca_cert: "ca.pem".into(),
            ignore_local_time: false,
            ..SslContext::default()
        };
        m.ssl_configure(2, &strict).await.expect("context 2");
        let ctx2 = TlsOptions {
            context: 2,
            ..TlsOptions::default()
        };
        let code = open_error(&m, "localhost", expired.port, &ctx2).await;
        assert_eq!(code, CchCode::Handshake);
        let s = TlsStream::connect(&m, "localhost", expired.port, &verify)
            .await
            .expect("dates ignored by default");
        s.close().await.expect("closed");
        // The key was never downloaded.
        m.ssl_configure(1, &mutual_context())
            .await
            .expect("context 1");
        let code = open_error(&m, "localhost", mutual.port, &CONTEXT_1).await;
        assert_eq!(code, CchCode::NoCertificates);
    });
}

/// Opens to `server` (which writes `data` and closes), waits until it has closed,
/// then reads: every byte, then EOF; a write then fails.
async fn read_after_the_server_closed(
    m: &Modem,
    server: Arc<TestServer>,
    opts: &TlsOptions,
    data: &[u8],
) {
    let mut s = TlsStream::connect(m, "localhost", server.port, opts)
        .await
        .expect("open");
    let waiter = server.clone();
    tokio::task::spawn_blocking(move || waiter.wait_served())
        .await
        .expect("server done");
    let mut got = Vec::new();
    s.read_to_end(&mut got).await.expect("to EOF");
    assert_eq!(got.len(), data.len());
    assert!(got == data, "every byte after the close");
    let e = s.write_all(b"late").await.expect_err("the server is gone");
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset);
    s.close().await.expect("closed");
}

#[test]
fn a_server_that_closes_with_data_unread_leaves_all_of_it_readable() {
    let chain = Chain::generate();
    // More than the module caches: the rest waits in the network until read.
    let data = common::client::random_bytes(8, 20_000);
    let server = Arc::new(chain.serve(
        &chain.server,
        false,
        false,
        Behaviour::SendAndClose(data.clone()),
    ));
    let d = Daemon::start(&[]);
    run(async {
        let m = verifying_modem(&d, &chain).await;
        read_after_the_server_closed(&m, server, &TlsOptions::default(), &data).await;
    });
}

#[test]
fn a_plain_tcp_server_that_closes_with_data_unread_leaves_all_of_it_readable() {
    let data = common::client::random_bytes(10, 20_000);
    let server = Arc::new(TestServer::start(
        None,
        Behaviour::SendAndClose(data.clone()),
    ));
    let d = Daemon::start(&[]);
    run(async {
        let m = modem_at(&d.addr, at7600_client::Config::default()).await;
        let plain = TlsOptions {
            tls: false,
            ..TlsOptions::default()
        };
        read_after_the_server_closed(&m, server, &plain, &data).await;
    });
}

#[test]
fn the_test_servers_speak_tls_to_a_plain_rustls_client() {
    // Checks the helpers themselves, without the daemon: a failure elsewhere in this
    // file is then the modem's.
    let chain = Chain::generate();
    let page = http_response(3000);
    let server = chain.serve(&chain.server, false, false, Behaviour::Http(page.clone()));
    run(async {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(chain.ca.cert_der.clone()).expect("root");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
            .await
            .expect("connect");
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
        let mut s = connector.connect(name, tcp).await.expect("handshake");
        s.write_all(b"GET / HTTP/1.0\r\n\r\n")
            .await
            .expect("request");
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.expect("response");
        assert!(got == page);
    });
}

/// A PTY modem with the service started and context 0 verifying against the chain's
/// CA; the `AT+CCHOPEN` line for `server` is for the caller to send.
fn tls_ready(daemon: &PtyDaemon, chain: &Chain, server: &TestServer) -> (Port, String) {
    let port = pty_modem(daemon);
    download(&port, "ca.pem", chain.ca.cert_pem.as_bytes());
    at(&port, "AT+CSSLCFG=\"authmode\",0,1", OK);
    at(&port, "AT+CSSLCFG=\"cacert\",0,\"ca.pem\"", OK);
    at(&port, "AT+CCHSTART", "\r\nOK\r\n\r\n+CCHSTART: 0\r\n");
    let open = format!("AT+CCHOPEN=0,\"localhost\",{},2\r", server.port);
    (port, open)
}

/// A host holding the port open with a TLS session idle costs the daemon (almost) no
/// CPU: the session's loop waits on the socket, it never polls.
#[test]
fn an_idle_tls_session_uses_no_cpu() {
    let chain = Chain::generate();
    let server = chain.serve(&chain.server, false, false, Behaviour::Echo);
    let daemon = PtyDaemon::start(&[]);
    let (port, open) = tls_ready(&daemon, &chain, &server);
    exchange(&port, open, "\r\nOK\r\n\r\n+CCHOPEN: 0,0\r\n");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let before = common::cpu_ticks(daemon.pid());
    std::thread::sleep(std::time::Duration::from_secs(1));
    let used = common::cpu_ticks(daemon.pid()) - before;
    assert!(used <= 3, "an idle TLS session used {used} ticks in 1 s");
    at(&port, "AT", OK);
}

/// A host that stops reading while a TLS server sends 8 MiB in automatic receive
/// mode: the daemon's memory stays bounded (back-pressure reaches the server through
/// TCP), and once the host reads, every byte arrives, in order, before the close.
/// The first TLS session of a process costs about 3 MiB whatever it carries (the TLS
/// library, the name lookup's thread; 1 byte or 4 MiB downloads measured 3.1-3.3 MiB),
/// so the bound is half the payload: a daemon that held it would be far past it.
#[test]
fn a_host_that_never_reads_holds_a_tls_download_without_growing() {
    let chain = Chain::generate();
    let payload: Vec<u8> = (0..8u32 << 20).map(|i| (i % 251) as u8).collect();
    let server = chain.serve(
        &chain.server,
        false,
        false,
        Behaviour::SendAndClose(payload.clone()),
    );
    let daemon = PtyDaemon::start(&[]);
    let (port, open) = tls_ready(&daemon, &chain, &server);
    let before = common::rss_kib(daemon.pid());
    // The host opens the session, then reads nothing for two seconds.
    port.write(open.as_bytes());
    std::thread::sleep(std::time::Duration::from_secs(2));
    let grown = common::rss_kib(daemon.pid()).saturating_sub(before);
    assert!(
        grown < 4096,
        "the daemon grew {grown} KiB holding a download nobody reads"
    );
    let mut raw = Vec::new();
    let closed = b"\r\n+CCH_PEER_CLOSED: 0\r\n";
    for _ in 0..600 {
        let shown = port.read_for(100);
        raw.extend(parse_c_string(&shown).expect("a C string"));
        if raw.ends_with(closed) {
            break;
        }
    }
    let opened = b"\r\nOK\r\n\r\n+CCHOPEN: 0,0\r\n";
    assert!(raw.starts_with(opened), "the open's answer first");
    assert!(
        raw.ends_with(closed),
        "no peer close after {} bytes",
        raw.len()
    );
    let (data, _) = data_frames(&raw, 0);
    assert_eq!(data.len(), payload.len());
    assert!(data == payload, "every byte, in order");
    eprintln!("8 MiB held while the host did not read: the daemon grew {grown} KiB");
}
