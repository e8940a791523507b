//! The real backend when peers go away mid-transfer, when the modem goes away, and
//! when strangers write to a UDP link: nothing received is lost, nothing confirmed is
//! dropped, nothing foreign gets in. Loopback peers only; every wait is bounded.

mod common;

use common::*;
use std::os::fd::AsRawFd;

/// What the peer streams before it goes away.
const STREAM: usize = 3 * 1024 * 1024;

/// Bytes the peer's kernel has not had acknowledged yet (`SIOCOUTQ`).
fn unacked(stream: &TcpStream) -> i32 {
    let mut n: libc::c_int = 0;
    // SAFETY: a live socket's fd; the ioctl writes one int.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCOUTQ, &mut n) };
    assert!(rc >= 0, "SIOCOUTQ failed");
    n
}

/// How the peer ends the connection once its stream is out.
#[derive(Clone, Copy, Debug)]
enum Ending {
    /// Closes normally (FIN), with our later sends then answered by a reset.
    Fin,
    /// Aborts (RST).
    Rst,
}

/// The peer streams [`STREAM`] bytes, waits until the modem's kernel has all of them,
/// then ends as told. It reads (and drops) what the modem sends meanwhile.
async fn stream_then_end(mut peer: TcpStream, ending: Ending) {
    let (mut rd, mut wr) = peer.split();
    let drain = async {
        let mut buf = vec![0u8; 64 * 1024];
        while matches!(rd.read(&mut buf).await, Ok(n) if n > 0) {}
    };
    let write = async {
        wr.write_all(&pattern(STREAM)).await.unwrap();
    };
    tokio::select! {
        () = drain => panic!("the modem closed first"),
        () = write => {}
    }
    for _ in 0..500 {
        if unacked(&peer) == 0 {
            break;
        }
        sleep(Duration::from_millis(10)).await;
    }
    if let Ending::Rst = ending {
        socket2::SockRef::from(&peer)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
    }
    drop(peer);
}

/// Issue 9 item 3: the host keeps sending while the peer streams and goes away. Every
/// byte the peer sent reaches the modem, in order, before `PeerClosed`.
async fn received_bytes_survive_a_failed_send(ending: Ending) {
    let (mut net, mut ev) = modem();
    let peer = connected(&mut net, &mut ev, 1).await;
    let c = ConnId(1);
    let peer_task = tokio::spawn(stream_then_end(peer, ending));
    let mut got = Vec::with_capacity(STREAM);
    let mut writable = true;
    let mut failed_sends = 0u32;
    let closed = 'events: {
        for _ in 0..200_000 {
            if writable {
                net.execute(NetCommand::Send {
                    conn: c,
                    data: vec![b'x'; 1000],
                });
            }
            // Sends go on until they fail; then only the events are drained.
            let wait = if failed_sends > 0 {
                WAIT
            } else {
                Duration::from_millis(20)
            };
            let Ok(event) = timeout(wait, ev.recv()).await else {
                continue;
            };
            match event.expect("event channel closed") {
                NetEvent::Data { conn, data } if conn == c => {
                    got.extend_from_slice(&data);
                    // A host slower than the network: the rest waits in the socket.
                    sleep(Duration::from_millis(2)).await;
                }
                NetEvent::SendDone { outcome, .. } => match outcome {
                    SendOutcome::Accepted => {}
                    SendOutcome::Full => writable = false,
                    SendOutcome::Disconnected => {
                        failed_sends += 1;
                        writable = false;
                    }
                },
                NetEvent::Writable { .. } => writable = failed_sends == 0,
                NetEvent::AckStatus { .. } => {}
                NetEvent::PeerClosed { conn } if conn == c => break 'events true,
                other => panic!("unexpected {other:?}"),
            }
        }
        false
    };
    assert!(closed, "no PeerClosed");
    timeout(WAIT, peer_task).await.unwrap().unwrap();
    assert_eq!(
        got.len(),
        STREAM,
        "{ending:?}: bytes lost before PeerClosed"
    );
    assert!(got == pattern(STREAM), "{ending:?}: bytes reordered");
}

#[tokio::test]
async fn peer_fin_while_the_host_sends_loses_no_received_byte() {
    received_bytes_survive_a_failed_send(Ending::Fin).await;
}

#[tokio::test]
async fn peer_rst_while_the_host_sends_loses_no_received_byte() {
    received_bytes_survive_a_failed_send(Ending::Rst).await;
}

/// An echo peer: sends back everything it reads until the modem closes.
async fn echo(mut peer: TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match peer.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if peer.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Issue 9 item 6: the report of a send comes before the peer's answer to it. A reply
/// needs a round trip; so does the event that carries it. Repeated, since the backend
/// runs its sockets on other threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_done_always_comes_before_the_echo() {
    let (mut net, mut ev) = modem();
    let peer = connected(&mut net, &mut ev, 1).await;
    let c = ConnId(1);
    tokio::spawn(echo(peer));
    for round in 0..500u32 {
        let data = round.to_be_bytes().to_vec();
        net.execute(NetCommand::Send {
            conn: c,
            data: data.clone(),
        });
        let mut reported = false;
        let mut got = Vec::new();
        while got.len() < data.len() {
            match next(&mut ev).await {
                NetEvent::SendDone { outcome, .. } => {
                    assert_eq!(outcome, SendOutcome::Accepted);
                    reported = true;
                }
                NetEvent::Data { data, .. } => {
                    assert!(reported, "round {round}: the echo came before SendDone");
                    got.extend_from_slice(&data);
                }
                NetEvent::AckStatus { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(got, data);
    }
}

/// Issue 9 item 6, `AT+CIPSENDMODE=1`: the report waits for the peer's ACK, and a
/// reply carries that ACK. So the backend tells the acknowledged count before the
/// reply's bytes, unasked.
#[tokio::test]
async fn the_ack_a_reply_carries_is_told_before_the_reply() {
    let (mut net, mut ev) = modem();
    let peer = connected(&mut net, &mut ev, 1).await;
    let c = ConnId(1);
    tokio::spawn(echo(peer));
    let mut sent = 0u64;
    for round in 0..50u32 {
        let data = round.to_be_bytes().to_vec();
        net.execute(NetCommand::Send {
            conn: c,
            data: data.clone(),
        });
        sent += data.len() as u64;
        let mut acked = 0;
        let mut got = Vec::new();
        while got.len() < data.len() {
            match next(&mut ev).await {
                NetEvent::SendDone { .. } => {}
                NetEvent::AckStatus { acked: a, .. } => acked = a,
                NetEvent::Data { data, .. } => {
                    assert_eq!(acked, sent, "round {round}: the reply came before its ACK");
                    got.extend_from_slice(&data);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

/// Opens UDP link `conn` (to `remote` if given); returns its local port.
async fn open_udp(
    net: &mut NetHandle,
    events: &mut NetEvents,
    conn: u64,
    remote: Option<SocketAddrV4>,
) -> u16 {
    net.execute(NetCommand::Open {
        conn: ConnId(conn),
        protocol: Protocol::Udp,
        remote: remote.map(|r| (r.ip().to_string(), r.port())),
        local_port: None,
        options: options(),
        tls: None,
    });
    match next(events).await {
        NetEvent::Opened {
            conn: c,
            local_port,
            ..
        } if c == ConnId(conn) => local_port,
        other => panic!("expected Opened, got {other:?}"),
    }
}

async fn udp_peer() -> (UdpSocket, SocketAddrV4) {
    let socket = UdpSocket::bind((LOCAL, 0)).await.unwrap();
    let addr = match socket.local_addr().unwrap() {
        std::net::SocketAddr::V4(a) => a,
        other => panic!("not IPv4: {other}"),
    };
    (socket, addr)
}

/// Issue 9 item 9: a UDP link with a fixed remote takes datagrams from that remote
/// only; a stranger writing to its port is not taken for the peer.
#[tokio::test]
async fn udp_link_with_a_fixed_remote_hears_only_that_remote() {
    let (mut net, mut ev) = modem();
    let (peer, peer_addr) = udp_peer().await;
    let (stranger, _) = udp_peer().await;
    let port = open_udp(&mut net, &mut ev, 1, Some(peer_addr)).await;
    let modem_addr = SocketAddrV4::new(LOCAL, port);
    stranger.send_to(b"spoof", modem_addr).await.unwrap();
    peer.send_to(b"real", modem_addr).await.unwrap();
    match next(&mut ev).await {
        NetEvent::Datagram { from, data, .. } => {
            assert_eq!((from, data.as_slice()), (peer_addr, &b"real"[..]));
        }
        other => panic!("expected the remote's datagram, got {other:?}"),
    }
    silent(&mut ev, Duration::from_millis(100)).await;
}

/// Issue 9 item 9: a UDP link without a remote is bound to the configured address
/// (`NetConfig::server_bind`, loopback 127.0.0.1 by default), not to every address.
#[tokio::test]
async fn udp_link_without_a_remote_is_bound_where_configured() {
    let (mut net, mut ev) = modem();
    let (sender, sender_addr) = udp_peer().await;
    let port = open_udp(&mut net, &mut ev, 2, None).await;
    // Another loopback address of the host: not the configured one.
    let other = SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 2), port);
    sender.send_to(b"elsewhere", other).await.unwrap();
    sender
        .send_to(b"here", SocketAddrV4::new(LOCAL, port))
        .await
        .unwrap();
    match next(&mut ev).await {
        NetEvent::Datagram { from, data, .. } => {
            assert_eq!((from, data.as_slice()), (sender_addr, &b"here"[..]));
        }
        other => panic!("expected the datagram to 127.0.0.1, got {other:?}"),
    }
    silent(&mut ev, Duration::from_millis(100)).await;
}
