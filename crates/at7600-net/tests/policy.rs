//! The destination policy in the backends themselves: the real network refuses a
//! denied TCP open and UDP datagram, and a server's own port while it listens; the
//! simulated network refuses the same opens and sends. Loopback only; every wait
//! bounded.

use at7600_core::io::SocketOptions;
use at7600_core::{ConnId, ModemConfig, NetCommand, NetEvent, OpenError, Protocol, SendOutcome};
use at7600_net::sim::SimConfig;
use at7600_net::{LinkProfile, NetConfig, NetEvents, Policy, RealNetwork, Sim};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(5);

fn open(conn: u64, protocol: Protocol, remote: Option<(&str, u16)>) -> NetCommand {
    NetCommand::Open {
        conn: ConnId(conn),
        protocol,
        remote: remote.map(|(h, p)| (h.to_string(), p)),
        local_port: None,
        options: SocketOptions {
            retries: 2,
            min_rto: Duration::from_millis(500),
            keepalive: None,
            dns: None,
        },
        tls: None,
    }
}

async fn next(events: &mut NetEvents) -> NetEvent {
    timeout(WAIT, events.recv())
        .await
        .expect("no event in time")
        .expect("event channel closed")
}

fn denying(rule: &str) -> Policy {
    Policy {
        deny: vec![rule.parse().expect("rule")],
        ..Policy::default()
    }
}

#[tokio::test]
async fn the_real_network_refuses_denied_destinations() {
    let peer = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = peer.local_addr().expect("addr").port();
    let net = RealNetwork::new(NetConfig {
        policy: denying(&format!("127.0.0.0/8:{port}")),
        ..NetConfig::default()
    });
    let (mut h, mut events) = net.modem();
    h.execute(open(1, Protocol::Tcp, Some(("127.0.0.1", port))));
    assert_eq!(
        next(&mut events).await,
        NetEvent::OpenFailed {
            conn: ConnId(1),
            error: OpenError::Refused
        }
    );
    // A UDP socket opens, but a datagram to the denied port is refused at once.
    h.execute(open(2, Protocol::Udp, None));
    assert!(matches!(next(&mut events).await, NetEvent::Opened { .. }));
    h.execute(NetCommand::SendTo {
        conn: ConnId(2),
        to: SocketAddrV4::new(Ipv4Addr::LOCALHOST, port),
        data: b"x".to_vec(),
    });
    assert_eq!(
        next(&mut events).await,
        NetEvent::SendDone {
            conn: ConnId(2),
            outcome: SendOutcome::Disconnected
        }
    );
}

#[tokio::test]
async fn a_listening_server_is_off_limits_until_it_stops() {
    let free = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = free.local_addr().expect("addr").port();
    drop(free);
    let net = RealNetwork::new(NetConfig::default());
    let (mut server, mut server_events) = net.modem();
    server.execute(NetCommand::Listen {
        server: 0,
        port,
        backlog: 1,
        keepalive: None,
    });
    assert_eq!(
        next(&mut server_events).await,
        NetEvent::Listening { server: 0 }
    );
    assert_eq!(net.config().policy.own.list().len(), 1);
    let (mut client, mut events) = net.modem();
    client.execute(open(1, Protocol::Tcp, Some(("127.0.0.1", port))));
    assert_eq!(
        next(&mut events).await,
        NetEvent::OpenFailed {
            conn: ConnId(1),
            error: OpenError::Refused
        }
    );
    server.execute(NetCommand::Unlisten { server: 0 });
    assert!(net.config().policy.own.list().is_empty());
}

#[test]
fn the_simulated_network_refuses_the_same() {
    let config = SimConfig {
        policy: denying("192.0.2.7/32:7"),
        ..SimConfig::default()
    };
    let mut sim = Sim::new(
        ModemConfig::default(),
        config,
        LinkProfile::named("none").expect("profile"),
        1,
    );
    sim.host("ATE0\r");
    sim.host("AT+NETOPEN\r");
    assert!(sim.run_until("+NETOPEN: 0", WAIT));
    sim.take_output();
    sim.host("AT+CIPOPEN=0,\"TCP\",\"echo.sim\",7\r");
    assert!(
        sim.run_until("+CIPOPEN: 0,1\r\n", WAIT),
        "{}",
        sim.take_text()
    );
    sim.host("AT+CIPOPEN=1,\"UDP\",,,5000\r");
    assert!(sim.run_until("+CIPOPEN: 1,0\r\n", WAIT));
    sim.host("AT+CIPSEND=1,2,\"192.0.2.7\",7\r");
    assert!(sim.run_until(">", WAIT));
    sim.host("hi");
    assert!(
        sim.run_until("+CIPSEND: 1,2,-1\r\n", WAIT),
        "{}",
        sim.take_text()
    );
}
