//! `ssl.md` §10-11 for TLS sessions on the real network: back-pressure, and every byte
//! the server sent before it closed reaches the core before `PeerClosed`. Every wait and
//! loop is bounded.

mod common;

use at7600_core::TlsAuth;
use common::tls::*;
use common::*;
use tokio_rustls::server::TlsStream;

/// An open session to a fresh loopback server; returns the server's end.
async fn session(net: &mut NetHandle, ev: &mut NetEvents, conn: u64) -> TlsStream<TcpStream> {
    let pki = Pki::new();
    let (l, acceptor, port) = tls_server(server_config(&pki.server(), ALL, None)).await;
    let mut p = params(TlsAuth::Server, pki.ca_pem.as_bytes());
    p.allow_tls13 = true;
    net.execute(open_tls(conn, "localhost", port, p));
    let server = accept(&l, &acceptor).await.expect("server handshake");
    expect_opened(ev, conn).await;
    server
}

/// Collects `Data` until `PeerClosed`; returns the bytes.
async fn until_peer_closed(ev: &mut NetEvents, conn: ConnId) -> Vec<u8> {
    let mut got = Vec::new();
    for _ in 0..100_000 {
        match next(ev).await {
            NetEvent::Data { conn: c, data } if c == conn => got.extend_from_slice(&data),
            NetEvent::AckStatus { conn: c, .. } if c == conn => {}
            NetEvent::PeerClosed { conn: c } if c == conn => return got,
            other => panic!("expected Data or PeerClosed, got {other:?}"),
        }
    }
    panic!("no PeerClosed");
}

/// §10.2 / §11.2: a server writes 1 MB while the core pauses reading. Nothing reaches
/// the core meanwhile beyond the chunk already read, the modem holds at most one TLS
/// record (the rest waits in the kernel and TCP's window), and after `ResumeRead`
/// every byte arrives, in order, before the close_notify's `PeerClosed`.
#[tokio::test]
async fn s10_2_paused_session_holds_1_mb_in_the_network_and_delivers_it_all_on_resume() {
    const TOTAL: usize = 1024 * 1024;
    let (mut net, mut ev) = modem();
    let mut server = session(&mut net, &mut ev, 1).await;
    let c = ConnId(1);
    let ports = {
        let (tcp, _) = server.get_ref();
        (
            tcp.peer_addr().unwrap().port(),
            tcp.local_addr().unwrap().port(),
        )
    };
    net.execute(NetCommand::PauseRead { conn: c });

    let writer = tokio::spawn(async move {
        server.write_all(&pattern(TOTAL)).await?;
        server.shutdown().await?;
        Ok::<_, std::io::Error>(server)
    });
    // While paused: at most the chunk read before the pause took effect.
    let mut early = Vec::new();
    let quiet = Instant::now() + Duration::from_millis(1000);
    while let Ok(Some(event)) = tokio::time::timeout_at(quiet, ev.recv()).await {
        match event {
            NetEvent::Data { data, .. } => early.extend_from_slice(&data),
            NetEvent::AckStatus { .. } => {}
            other => panic!("unexpected while paused: {other:?}"),
        }
    }
    assert!(
        early.len() <= 16 * 1024,
        "{} bytes delivered while paused",
        early.len()
    );
    // The rest is in the kernel, not in the modem: its socket's receive queue (plus
    // the server's send queue, if the kernel buffers were too small for it all) holds
    // all but what was delivered and at most one record rustls holds.
    let (modem_port, server_port) = ports;
    let (_, modem_rx) = kernel_queues(modem_port, server_port).expect("modem socket");
    let (server_tx, _) = kernel_queues(server_port, modem_port).expect("server socket");
    let in_kernel = (modem_rx + server_tx) as usize;
    let held = TOTAL.saturating_sub(early.len() + in_kernel);
    assert!(
        writer.is_finished() || in_kernel >= 512 * 1024,
        "the writer is stuck yet only {in_kernel} bytes are in the kernel"
    );
    if writer.is_finished() {
        assert!(held <= 20 * 1024, "{held} bytes are held by the modem");
    }

    net.execute(NetCommand::ResumeRead { conn: c });
    let mut got = early;
    got.extend(until_peer_closed(&mut ev, c).await);
    assert_eq!(got.len(), TOTAL);
    assert!(got == pattern(TOTAL), "bytes differ");
    let _server = timeout(WAIT, writer).await.unwrap().unwrap().unwrap();
}

/// §11.2: data, then close_notify: all data first, then `PeerClosed`; the session's
/// sends are refused afterwards.
#[tokio::test]
async fn s11_2_data_then_close_notify_is_all_data_then_peer_closed() {
    let (mut net, mut ev) = modem();
    let mut server = session(&mut net, &mut ev, 1).await;
    let c = ConnId(1);
    server.write_all(&pattern(100_000)).await.unwrap();
    server.shutdown().await.unwrap();
    assert!(until_peer_closed(&mut ev, c).await == pattern(100_000));
    net.execute(NetCommand::Close { conn: c });
    assert_eq!(next(&mut ev).await, NetEvent::Closed { conn: c });
}

/// §11.2: a session paused when the server closes delivers everything after resume.
#[tokio::test]
async fn s11_2_close_notify_while_paused_waits_for_the_data() {
    let (mut net, mut ev) = modem();
    let mut server = session(&mut net, &mut ev, 1).await;
    let c = ConnId(1);
    net.execute(NetCommand::PauseRead { conn: c });
    server.write_all(b"last words").await.unwrap();
    server.shutdown().await.unwrap();
    drop(server);
    silent(&mut ev, Duration::from_millis(200)).await;
    net.execute(NetCommand::ResumeRead { conn: c });
    assert_eq!(until_peer_closed(&mut ev, c).await, b"last words");
}

/// §11.2: records that do not decrypt (or a fatal alert) end the session like a
/// close, after the data decrypted before them.
#[tokio::test]
async fn s11_2_garbage_after_data_is_a_peer_close_after_the_data() {
    let (mut net, mut ev) = modem();
    let mut server = session(&mut net, &mut ev, 1).await;
    let c = ConnId(1);
    server.write_all(b"good").await.unwrap();
    server.flush().await.unwrap();
    let (mut tcp, _) = server.into_inner();
    tcp.write_all(&[0x17, 0x03, 0x03, 0x00, 0x20])
        .await
        .unwrap();
    tcp.write_all(&[0xAA; 32]).await.unwrap();
    assert_eq!(until_peer_closed(&mut ev, c).await, b"good");
    // The modem answered with an alert and keeps the socket until Close.
    net.execute(NetCommand::Close { conn: c });
    assert_eq!(next(&mut ev).await, NetEvent::Closed { conn: c });
}

/// The send path: large sends through TLS arrive whole; a full queue answers `Full`
/// and `Writable` follows once the server reads.
#[tokio::test]
async fn sends_through_tls_arrive_whole_and_full_queues_recover() {
    let (mut net, mut ev) = modem();
    let mut server = session(&mut net, &mut ev, 1).await;
    let c = ConnId(1);
    // The server does not read: the queue (64 KiB) and the socket buffers fill up.
    let sent = send_until_full(&mut net, &mut ev, c, 8 * 1024).await;
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; sent];
        server.read_exact(&mut buf).await.map(|_| (buf, server))
    });
    assert_eq!(next(&mut ev).await, NetEvent::Writable { conn: c });
    let (got, _server) = timeout(WAIT, reader).await.unwrap().unwrap().unwrap();
    assert!(got == pattern(sent), "bytes differ");
}

/// A server that speaks first, right after its last handshake flight (an MQTT or SMTP
/// greeting): the bytes may come in the same read as the handshake's end, and still
/// reach the core, before the close.
#[tokio::test]
async fn s10_1_a_greeting_sent_with_the_handshake_end_arrives() {
    for versions in [TLS12, ALL] {
        let pki = Pki::new();
        let (l, acceptor, port) = tls_server(server_config(&pki.server(), versions, None)).await;
        let (mut net, mut ev) = modem();
        let mut p = params(TlsAuth::Server, pki.ca_pem.as_bytes());
        p.allow_tls13 = true;
        net.execute(open_tls(1, "localhost", port, p));
        let mut server = accept(&l, &acceptor).await.expect("server handshake");
        server.write_all(b"220 ready\r\n").await.unwrap();
        server.shutdown().await.unwrap();
        expect_opened(&mut ev, 1).await;
        assert_eq!(
            until_peer_closed(&mut ev, ConnId(1)).await,
            b"220 ready\r\n"
        );
    }
}
