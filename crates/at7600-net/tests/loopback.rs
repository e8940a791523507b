//! The real backend against loopback peers. Every wait is bounded.

mod common;

use common::*;

#[tokio::test]
async fn attach_and_detach() {
    let (mut net, mut ev) = modem();
    net.execute(NetCommand::Attach);
    assert_eq!(
        next(&mut ev).await,
        NetEvent::Attached {
            ip: Ipv4Addr::new(10, 148, 0, 17)
        }
    );
    net.execute(NetCommand::Detach);
    assert_eq!(next(&mut ev).await, NetEvent::Detached);
}

#[tokio::test]
async fn tcp_round_trip_ack_and_close() {
    let (mut net, mut ev) = modem();
    let mut peer = connected(&mut net, &mut ev, 1).await;
    let c = ConnId(1);

    net.execute(NetCommand::Send {
        conn: c,
        data: b"hello".to_vec(),
    });
    assert_eq!(
        next(&mut ev).await,
        NetEvent::SendDone {
            conn: c,
            outcome: SendOutcome::Accepted
        }
    );
    let mut buf = [0u8; 5];
    timeout(WAIT, peer.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf, b"hello");

    peer.write_all(b"world").await.unwrap();
    assert_eq!(read_data(&mut ev, c, 5).await, b"world");

    // The peer has read the bytes, so its ACK comes (delayed ACK at most ~40 ms).
    let deadline = Instant::now() + WAIT;
    loop {
        net.execute(NetCommand::QueryAck { conn: c });
        match next(&mut ev).await {
            NetEvent::AckStatus { conn, acked } if conn == c && acked == 5 => break,
            NetEvent::AckStatus { conn, acked } if conn == c && acked < 5 => {}
            other => panic!("unexpected {other:?}"),
        }
        assert!(Instant::now() < deadline, "ack never reached 5");
        sleep(Duration::from_millis(10)).await;
    }

    net.execute(NetCommand::Close { conn: c });
    assert_eq!(next(&mut ev).await, NetEvent::Closed { conn: c });
    let mut rest = Vec::new();
    timeout(WAIT, peer.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
    assert!(rest.is_empty());
}

#[tokio::test]
async fn tcp_close_flushes_queued_bytes() {
    let (mut net, mut ev) = modem();
    let mut peer = connected(&mut net, &mut ev, 1).await;
    let data = pattern(60_000);
    net.execute(NetCommand::Send {
        conn: ConnId(1),
        data: data.clone(),
    });
    net.execute(NetCommand::Close { conn: ConnId(1) });
    let mut got = Vec::new();
    timeout(WAIT, peer.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, data);
    assert_eq!(
        next(&mut ev).await,
        NetEvent::SendDone {
            conn: ConnId(1),
            outcome: SendOutcome::Accepted
        }
    );
    assert_eq!(next(&mut ev).await, NetEvent::Closed { conn: ConnId(1) });
}

#[tokio::test]
async fn tcp_refused() {
    let (mut net, mut ev) = modem();
    let port = free_port().await;
    net.execute(open_tcp(3, "127.0.0.1", port, None));
    assert_eq!(
        next(&mut ev).await,
        NetEvent::OpenFailed {
            conn: ConnId(3),
            error: OpenError::Refused
        }
    );
    // The failed link is gone: a late Close is answered, a send is refused.
    net.execute(NetCommand::Send {
        conn: ConnId(3),
        data: b"x".to_vec(),
    });
    assert_eq!(
        next(&mut ev).await,
        NetEvent::SendDone {
            conn: ConnId(3),
            outcome: SendOutcome::Disconnected
        }
    );
    net.execute(NetCommand::Close { conn: ConnId(3) });
    assert_eq!(next(&mut ev).await, NetEvent::Closed { conn: ConnId(3) });
}

#[tokio::test]
async fn tcp_name_that_does_not_resolve() {
    let (mut net, mut ev) = modem();
    net.execute(open_tcp(4, "no-such-host.invalid", 80, None));
    assert_eq!(
        next(&mut ev).await,
        NetEvent::OpenFailed {
            conn: ConnId(4),
            error: OpenError::Dns
        }
    );
}

#[tokio::test]
async fn tcp_by_name_localhost() {
    let (mut net, mut ev) = modem();
    let (l, port) = listener().await;
    net.execute(open_tcp(5, "localhost", port, None));
    let _peer = timeout(WAIT, l.accept()).await.unwrap().unwrap();
    assert!(
        matches!(next(&mut ev).await, NetEvent::Opened { conn: ConnId(5), remote, .. }
        if remote == SocketAddrV4::new(LOCAL, port))
    );
}

#[tokio::test]
async fn tcp_local_port_conflict() {
    let (mut net, mut ev) = modem();
    let (_taken, taken_port) = listener().await;
    let (_l, port) = listener().await;
    net.execute(open_tcp(6, "127.0.0.1", port, Some(taken_port)));
    assert_eq!(
        next(&mut ev).await,
        NetEvent::OpenFailed {
            conn: ConnId(6),
            error: OpenError::Bind
        }
    );
}

#[tokio::test]
async fn tcp_local_port_is_used() {
    let (mut net, mut ev) = modem();
    let (l, port) = listener().await;
    let local = free_port().await;
    net.execute(open_tcp(7, "127.0.0.1", port, Some(local)));
    let (_peer, from) = timeout(WAIT, l.accept()).await.unwrap().unwrap();
    assert_eq!(from.port(), local);
    assert!(
        matches!(next(&mut ev).await, NetEvent::Opened { local_port, .. } if local_port == local)
    );
}

#[tokio::test]
async fn abandoned_open_answers_closed() {
    let (mut net, mut ev) = modem();
    // Close right behind Open, as the core does when its open timeout fires.
    let (_l, port) = listener().await;
    net.execute(open_tcp(8, "127.0.0.1", port, None));
    net.execute(NetCommand::Close { conn: ConnId(8) });
    let first = next(&mut ev).await;
    // Either the connect won the race (Opened, then Closed) or it was abandoned.
    if matches!(first, NetEvent::Opened { .. }) {
        assert_eq!(next(&mut ev).await, NetEvent::Closed { conn: ConnId(8) });
    } else {
        assert_eq!(first, NetEvent::Closed { conn: ConnId(8) });
    }
    silent(&mut ev, Duration::from_millis(100)).await;
}

#[tokio::test]
async fn peer_close_is_reported_once() {
    let (mut net, mut ev) = modem();
    let mut peer = connected(&mut net, &mut ev, 9).await;
    peer.write_all(b"last words").await.unwrap();
    drop(peer);
    assert_eq!(read_data(&mut ev, ConnId(9), 10).await, b"last words");
    assert_eq!(
        next(&mut ev).await,
        NetEvent::PeerClosed { conn: ConnId(9) }
    );
    net.execute(NetCommand::Send {
        conn: ConnId(9),
        data: b"x".to_vec(),
    });
    assert_eq!(
        next(&mut ev).await,
        NetEvent::SendDone {
            conn: ConnId(9),
            outcome: SendOutcome::Disconnected
        }
    );
    net.execute(NetCommand::Close { conn: ConnId(9) });
    assert_eq!(next(&mut ev).await, NetEvent::Closed { conn: ConnId(9) });
    silent(&mut ev, Duration::from_millis(100)).await;
}

#[tokio::test]
async fn full_when_the_peer_never_reads_and_nothing_is_lost() {
    let (mut net, mut ev) = modem();
    let mut peer = connected(&mut net, &mut ev, 10).await;
    let c = ConnId(10);
    let accepted = send_until_full(&mut net, &mut ev, c, 16 * 1024).await;
    assert!(accepted >= 64 * 1024);
    let mut got = vec![0u8; accepted];
    timeout(Duration::from_secs(20), peer.read_exact(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert!(got == pattern(accepted), "bytes lost or reordered");
}

#[tokio::test]
async fn pause_stops_reading_and_resume_brings_the_rest() {
    let (mut net, mut ev) = modem();
    let mut peer = connected(&mut net, &mut ev, 11).await;
    let c = ConnId(11);
    net.execute(NetCommand::PauseRead { conn: c });
    // Commands are handled in order: once the ack answer is here, the pause is in force.
    net.execute(NetCommand::QueryAck { conn: c });
    assert!(matches!(next(&mut ev).await, NetEvent::AckStatus { .. }));

    let data = pattern(200_000);
    let writer = {
        let data = data.clone();
        tokio::spawn(async move {
            peer.write_all(&data).await.unwrap();
            peer
        })
    };
    silent(&mut ev, Duration::from_millis(300)).await;

    net.execute(NetCommand::ResumeRead { conn: c });
    assert!(
        read_data(&mut ev, c, data.len()).await == data,
        "bytes differ"
    );
    let _peer = timeout(WAIT, writer).await.unwrap().unwrap();
}

#[tokio::test]
async fn udp_keeps_boundaries_both_ways() {
    let (mut net, mut ev) = modem();
    let peer = UdpSocket::bind((LOCAL, 0)).await.unwrap();
    let peer_addr = SocketAddrV4::new(LOCAL, peer.local_addr().unwrap().port());
    net.execute(NetCommand::Open {
        conn: ConnId(12),
        protocol: Protocol::Udp,
        remote: Some(("127.0.0.1".into(), peer_addr.port())),
        local_port: None,
        options: options(),
        tls: None,
    });
    let local_port = match next(&mut ev).await {
        NetEvent::Opened {
            conn,
            remote,
            local_port,
        } => {
            assert_eq!((conn, remote), (ConnId(12), peer_addr));
            local_port
        }
        other => panic!("expected Opened, got {other:?}"),
    };
    let modem_addr = SocketAddrV4::new(LOCAL, local_port);
    for d in [&b"one"[..], &b"two two"[..], &pattern(60_000)[..]] {
        peer.send_to(d, modem_addr).await.unwrap();
    }
    for d in [&b"one"[..], &b"two two"[..], &pattern(60_000)[..]] {
        match next(&mut ev).await {
            NetEvent::Datagram { conn, from, data } => {
                assert_eq!((conn, from), (ConnId(12), peer_addr));
                assert!(data == d, "datagram changed");
            }
            other => panic!("expected Datagram, got {other:?}"),
        }
    }
    net.execute(NetCommand::Send {
        conn: ConnId(12),
        data: b"a".to_vec(),
    });
    net.execute(NetCommand::SendTo {
        conn: ConnId(12),
        to: peer_addr,
        data: b"bc".to_vec(),
    });
    let mut buf = [0u8; 100];
    for want in [&b"a"[..], &b"bc"[..]] {
        let (n, _) = timeout(WAIT, peer.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], want);
        assert_eq!(
            next(&mut ev).await,
            NetEvent::SendDone {
                conn: ConnId(12),
                outcome: SendOutcome::Accepted
            }
        );
    }
    net.execute(NetCommand::Close { conn: ConnId(12) });
    assert_eq!(next(&mut ev).await, NetEvent::Closed { conn: ConnId(12) });
}

#[tokio::test]
async fn udp_without_remote_and_bind_conflict() {
    let (mut net, mut ev) = modem();
    let taken = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).await.unwrap();
    let taken_port = taken.local_addr().unwrap().port();
    net.execute(NetCommand::Open {
        conn: ConnId(13),
        protocol: Protocol::Udp,
        remote: None,
        local_port: Some(taken_port),
        options: options(),
        tls: None,
    });
    assert_eq!(
        next(&mut ev).await,
        NetEvent::OpenFailed {
            conn: ConnId(13),
            error: OpenError::Bind
        }
    );
    net.execute(NetCommand::Open {
        conn: ConnId(14),
        protocol: Protocol::Udp,
        remote: None,
        local_port: None,
        options: options(),
        tls: None,
    });
    assert!(
        matches!(next(&mut ev).await, NetEvent::Opened { conn: ConnId(14), remote, .. }
        if remote == SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
    );
    // No fixed remote: Send has nowhere to go.
    net.execute(NetCommand::Send {
        conn: ConnId(14),
        data: b"x".to_vec(),
    });
    assert_eq!(
        next(&mut ev).await,
        NetEvent::SendDone {
            conn: ConnId(14),
            outcome: SendOutcome::Disconnected
        }
    );
}

#[tokio::test]
async fn server_accepts_and_stops() {
    let (mut net, mut ev) = modem();
    let port = free_port().await;
    net.execute(NetCommand::Listen {
        server: 0,
        port,
        backlog: 3,
        keepalive: None,
    });
    assert_eq!(next(&mut ev).await, NetEvent::Listening { server: 0 });
    // Same port again: refused.
    net.execute(NetCommand::Listen {
        server: 1,
        port,
        backlog: 3,
        keepalive: None,
    });
    assert_eq!(next(&mut ev).await, NetEvent::ListenFailed { server: 1 });

    let mut client = timeout(WAIT, TcpStream::connect((LOCAL, port)))
        .await
        .unwrap()
        .unwrap();
    let conn = match next(&mut ev).await {
        NetEvent::Accepted {
            server: 0,
            conn,
            peer,
        } => {
            assert_eq!(conn, ConnId::accepted(0));
            assert_eq!(
                peer,
                SocketAddrV4::new(LOCAL, client.local_addr().unwrap().port())
            );
            conn
        }
        other => panic!("expected Accepted, got {other:?}"),
    };
    client.write_all(b"ping").await.unwrap();
    assert_eq!(read_data(&mut ev, conn, 4).await, b"ping");
    net.execute(NetCommand::Send {
        conn,
        data: b"pong".to_vec(),
    });
    assert_eq!(
        next(&mut ev).await,
        NetEvent::SendDone {
            conn,
            outcome: SendOutcome::Accepted
        }
    );
    let mut buf = [0u8; 4];
    timeout(WAIT, client.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf, b"pong");

    net.execute(NetCommand::Unlisten { server: 0 });
    // The listener goes away once its task sees the stop; bounded retry.
    let deadline = Instant::now() + WAIT;
    while TcpStream::connect((LOCAL, port)).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "server still accepting after Unlisten"
        );
        sleep(Duration::from_millis(20)).await;
    }
    // The accepted connection outlives its server.
    client.write_all(b"still").await.unwrap();
    let mut got = Vec::new();
    loop {
        match next(&mut ev).await {
            NetEvent::Data { conn: c, data } if c == conn => {
                got.extend_from_slice(&data);
                if got.len() >= 5 {
                    break;
                }
            }
            // Connections made while the listener was closing.
            NetEvent::Accepted { .. } => {}
            NetEvent::AckStatus { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got, b"still");
}

#[tokio::test]
async fn resolve() {
    let (mut net, mut ev) = modem();
    net.execute(NetCommand::Resolve {
        query: 1,
        name: "localhost".into(),
        servers: None,
    });
    assert_eq!(
        next(&mut ev).await,
        NetEvent::Resolved {
            query: 1,
            addr: Some(LOCAL)
        }
    );
    net.execute(NetCommand::Resolve {
        query: 2,
        name: "127.1.2.3".into(),
        servers: None,
    });
    assert_eq!(
        next(&mut ev).await,
        NetEvent::Resolved {
            query: 2,
            addr: Some(Ipv4Addr::new(127, 1, 2, 3))
        }
    );
    net.execute(NetCommand::Resolve {
        query: 3,
        name: "nothing.invalid".into(),
        servers: None,
    });
    assert_eq!(
        next(&mut ev).await,
        NetEvent::Resolved {
            query: 3,
            addr: None
        }
    );
}

#[tokio::test]
async fn dropping_the_handle_closes_everything() {
    let (mut net, mut ev) = modem();
    let mut peer = connected(&mut net, &mut ev, 15).await;
    let port = free_port().await;
    net.execute(NetCommand::Listen {
        server: 0,
        port,
        backlog: 1,
        keepalive: None,
    });
    assert_eq!(next(&mut ev).await, NetEvent::Listening { server: 0 });
    drop(net);
    let mut rest = Vec::new();
    let n = timeout(WAIT, peer.read_to_end(&mut rest)).await.unwrap();
    assert!(!matches!(n, Ok(len) if len > 0), "data after drop");
    let deadline = Instant::now() + WAIT;
    while TcpStream::connect((LOCAL, port)).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "server still listening after drop"
        );
        sleep(Duration::from_millis(20)).await;
    }
    // Each connection flushed and closed as on `Close`; with every task gone the event
    // stream ends.
    assert_eq!(
        timeout(WAIT, ev.recv()).await.unwrap(),
        Some(NetEvent::Closed { conn: ConnId(15) })
    );
    assert!(timeout(WAIT, ev.recv()).await.unwrap().is_none());
}

/// The kernel's timer on the loopback socket from `local` to `remote` port, as
/// `/proc/net/tcp` shows it: `(timer kind, seconds until it fires)`. Kind 2 is the
/// keepalive timer.
fn tcp_timer(local: u16, remote: u16) -> Option<(u8, u64)> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let want = (
        format!("0100007F:{local:04X}"),
        format!("0100007F:{remote:04X}"),
    );
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.get(1) != Some(&want.0.as_str()) || f.get(2) != Some(&want.1.as_str()) {
            return None;
        }
        let (kind, when) = f.get(5)?.split_once(':')?;
        let jiffies = u64::from_str_radix(when, 16).ok()?;
        Some((kind.parse().ok()?, jiffies / 100))
    })
}

/// `AT+CTCPKA` (more-commands.md §5.7) holds for the connections a server accepts as
/// for the ones the modem opens: the accepted socket idles on a keepalive timer of the
/// configured idle time, and without the setting on none.
#[tokio::test]
async fn server_accepted_links_carry_the_keepalive_in_force_at_serverstart() {
    let (mut net, mut ev) = modem();
    let mut ports = Vec::new();
    let three_minutes = at7600_core::Keepalive {
        enabled: true,
        idle_min: 3,
        count: 5,
        interval_min: 1,
    };
    for (server, keepalive) in [(0, Some(three_minutes)), (1, None)] {
        let port = free_port().await;
        net.execute(NetCommand::Listen {
            server,
            port,
            backlog: 3,
            keepalive,
        });
        assert_eq!(next(&mut ev).await, NetEvent::Listening { server });
        ports.push(port);
    }
    let (mut timers, mut clients) = (Vec::new(), Vec::new());
    for port in ports {
        let client = timeout(WAIT, TcpStream::connect((LOCAL, port)))
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(next(&mut ev).await, NetEvent::Accepted { .. }));
        let client_port = client.local_addr().unwrap().port();
        timers.push(tcp_timer(port, client_port));
        clients.push(client);
    }
    let (kind, secs) = timers[0].expect("the accepted socket is in /proc/net/tcp");
    assert_eq!(kind, 2, "keepalive timer on the accepted socket");
    assert!((170..=180).contains(&secs), "idle 3 min, {secs} s left");
    assert_eq!(
        timers[1].map(|t| t.0),
        Some(0),
        "no timer without AT+CTCPKA"
    );
}
