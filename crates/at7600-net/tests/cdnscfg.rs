//! `AT+CDNSCFG` on the real network (more-commands.md §5.6, docs/network.md): names
//! are asked of the servers the host chose, primary first, then secondary.
mod common;
use common::*;
use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::{rdata::A, RData, Record};

/// A name server on a loopback address that knows one name; answers every query and
/// counts them. Needs port 53, so root (or CAP_NET_BIND_SERVICE) — as in CI.
async fn name_server(
    ip: Ipv4Addr,
    known: &'static str,
    addr: Ipv4Addr,
) -> Option<std::sync::Arc<std::sync::atomic::AtomicUsize>> {
    let socket = match UdpSocket::bind((ip, 53)).await {
        Ok(s) => s,
        Err(e)
            if e.kind() == std::io::ErrorKind::PermissionDenied
                && std::env::var_os("CI").is_none() =>
        {
            eprintln!("SKIPPED: port 53 needs root here ({e})");
            return None;
        }
        Err(e) => panic!("bind {ip}:53: {e}"),
    };
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = asked.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        for _ in 0..100 {
            let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                return;
            };
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let Ok(query) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut answer = Message::new();
            answer
                .set_id(query.id())
                .set_message_type(MessageType::Response)
                .set_recursion_available(true);
            for q in query.queries() {
                answer.add_query(q.clone());
                if q.name().to_ascii().trim_end_matches('.') == known {
                    answer.add_answer(Record::from_rdata(q.name().clone(), 60, RData::A(A(addr))));
                } else {
                    answer.set_response_code(ResponseCode::NXDomain);
                }
            }
            let Ok(bytes) = answer.to_vec() else { continue };
            let _ = socket.send_to(&bytes, from).await;
        }
    });
    Some(asked)
}

fn resolve(query: u64, name: &str, servers: [Ipv4Addr; 2]) -> NetCommand {
    NetCommand::Resolve {
        query,
        name: name.into(),
        servers: Some(servers),
    }
}

/// `AT+CDNSGIP` after `AT+CDNSCFG`: the primary answers.
#[tokio::test]
async fn cdnsgip_asks_the_primary_server() {
    let primary = Ipv4Addr::new(127, 53, 0, 1);
    let Some(asked) = name_server(primary, "printer.example", Ipv4Addr::new(198, 51, 100, 7)).await
    else {
        return;
    };
    let (mut net, mut ev) = modem();
    net.execute(resolve(
        1,
        "printer.example",
        [primary, Ipv4Addr::new(127, 53, 0, 2)],
    ));
    assert_eq!(
        next(&mut ev).await,
        NetEvent::Resolved {
            query: 1,
            addr: Some(Ipv4Addr::new(198, 51, 100, 7))
        }
    );
    // A name the server does not know: not found, and the secondary is not asked.
    net.execute(resolve(2, "scanner.example", [primary, primary]));
    assert_eq!(
        next(&mut ev).await,
        NetEvent::Resolved {
            query: 2,
            addr: None
        }
    );
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 2);
}

/// A primary that is not there (the port refuses): the secondary answers.
#[tokio::test]
async fn a_dead_primary_falls_back_to_the_secondary() {
    let secondary = Ipv4Addr::new(127, 53, 0, 4);
    let Some(_) = name_server(secondary, "printer.example", Ipv4Addr::new(198, 51, 100, 8)).await
    else {
        return;
    };
    let (mut net, mut ev) = modem();
    net.execute(resolve(
        1,
        "printer.example",
        [Ipv4Addr::new(127, 53, 0, 3), secondary],
    ));
    assert_eq!(
        next(&mut ev).await,
        NetEvent::Resolved {
            query: 1,
            addr: Some(Ipv4Addr::new(198, 51, 100, 8))
        }
    );
}

/// `AT+CIPOPEN` to a name after `AT+CDNSCFG`: the link's name is asked of the chosen
/// server, and the link opens to the address it gives.
#[tokio::test]
async fn cipopen_to_a_name_uses_the_chosen_server() {
    let server = Ipv4Addr::new(127, 53, 0, 5);
    let Some(asked) = name_server(server, "broker.example", LOCAL).await else {
        return;
    };
    let (l, port) = listener().await;
    let (mut net, mut ev) = modem();
    let mut open = open_tcp(7, "broker.example", port, None);
    if let NetCommand::Open { options, .. } = &mut open {
        options.dns = Some([server, server]);
    }
    net.execute(open);
    let accepted = timeout(WAIT, l.accept()).await;
    assert!(
        accepted.is_ok(),
        "the link reached the address the server gave"
    );
    assert!(matches!(
        next(&mut ev).await,
        NetEvent::Opened {
            conn: ConnId(7),
            ..
        }
    ));
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1);
}
