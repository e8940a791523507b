//! `ssl.md` §14 on the simulated network: TLS hosts from the config, their chains from
//! the simulated CA, real handshakes in memory charged on the link in virtual time,
//! deterministic, with faults.

mod common;

use at7600_core::{TlsAuth, TlsParams};
use at7600_net::sim::{ca_pem, SimConfig};
use common::tls::{open_tls, params, year, Pki};
use common::*;

const S: Duration = Duration::from_secs(1);

/// The default world plus TLS hosts of every kind, as a config file gives them.
fn world() -> SimConfig {
    let hosts = [
        (
            "expired.sim",
            101,
            r#"port = 443, kind = "echo", tls = { cert = "expired" }"#,
        ),
        (
            "future.sim",
            102,
            r#"port = 443, kind = "echo", tls = { cert = "not-yet-valid" }"#,
        ),
        (
            "wrong.sim",
            103,
            r#"port = 443, kind = "echo", tls = { cert = "wrong-name" }"#,
        ),
        (
            "self.sim",
            104,
            r#"port = 443, kind = "echo", tls = { cert = "self-signed" }"#,
        ),
        (
            "cdn.sim",
            105,
            r#"port = 443, kind = "echo", tls = { require_sni = true }"#,
        ),
        (
            "modern.sim",
            106,
            r#"port = 443, kind = "echo", tls = { versions = "tls13" }"#,
        ),
        (
            "mqtt.sim",
            107,
            r#"port = 8883, kind = "fixed", greeting = "hi\n", tls = { client_auth = "require" }"#,
        ),
    ];
    let toml: String = hosts
        .iter()
        .map(|(name, last, service)| {
            format!(
                "[[host]]\nname = \"{name}\"\naddr = \"192.0.2.{last}\"\ntcp = [{{ {service} }}]\n"
            )
        })
        .collect();
    let mut world = SimConfig::default();
    let extra: SimConfig = toml::from_str(&toml).expect("config");
    world.hosts.extend(extra.hosts);
    world
}

/// The SSL context for `host` verified against the simulated CA at the module clock
/// 2024.
fn verified(host: &str) -> TlsParams {
    let mut p = params(TlsAuth::Server, ca_pem().as_bytes());
    p.server_name = host.into();
    p.verify_time = Some(year(2024));
    p
}

/// The outcome of one open: `Opened` or the open error, after `Connected` (checked).
fn open(sim: &mut NetSim, conn: u64, host: &str, port: u16, p: TlsParams) -> Result<(), OpenError> {
    sim.cmd(open_tls(conn, host, port, p));
    let events = sim.events(30 * S);
    let c = ConnId(conn);
    match events.as_slice() {
        [NetEvent::Connected { conn: a }, NetEvent::Opened { conn: b, .. }, ..]
            if *a == c && *b == c =>
        {
            Ok(())
        }
        [NetEvent::Connected { conn: a }, NetEvent::OpenFailed { conn: b, error }]
            if *a == c && *b == c =>
        {
            Err(*error)
        }
        [NetEvent::OpenFailed { conn: b, error }] if *b == c => Err(*error),
        other => panic!("unexpected events {other:?}"),
    }
}

#[test]
fn s14_1_verified_session_on_the_simulated_network_echoes_plaintext() {
    let mut sim = NetSim::new(SimConfig::default(), "lte-cat4", 1);
    sim.cmd(open_tls(1, "echo.sim", 443, verified("echo.sim")));
    let events = sim.run_for(10 * S);
    let c = ConnId(1);
    let (connected, opened) = match events.as_slice() {
        [(t1, NetEvent::Connected { conn: a }), (
            t2,
            NetEvent::Opened {
                conn: b, remote, ..
            },
        )] => {
            assert_eq!((*a, *b), (c, c));
            assert_eq!(*remote, SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 7), 443));
            (*t1, *t2)
        }
        other => panic!("unexpected {other:?}"),
    };
    // TLS 1.2: two round trips of at least 40 ms on this link.
    assert!(
        opened - connected >= Duration::from_millis(80),
        "{:?}",
        opened - connected
    );

    sim.cmd(NetCommand::Send {
        conn: c,
        data: b"hello".to_vec(),
    });
    let events = sim.events(5 * S);
    assert_eq!(
        events[0],
        NetEvent::SendDone {
            conn: c,
            outcome: SendOutcome::Accepted
        }
    );
    let echoed: Vec<u8> = events
        .iter()
        .filter_map(|e| match e {
            NetEvent::Data { data, .. } => Some(data.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(echoed, b"hello");
    sim.cmd(NetCommand::Close { conn: c });
    assert!(sim.events(5 * S).contains(&NetEvent::Closed { conn: c }));
}

#[test]
fn s14_1_same_seed_same_events_at_the_same_instants() {
    // The same inputs: one client identity for both runs.
    let device = Pki::new().client();
    let run = |seed| {
        let mut sim = NetSim::new(world(), "gprs", seed);
        let mut all = Vec::new();
        let mut p = verified("mqtt.sim");
        p.auth = TlsAuth::Mutual;
        p.client_cert = device.cert_pem.clone().into_bytes();
        p.client_key = device.key_pem.clone().into_bytes();
        sim.cmd(open_tls(1, "mqtt.sim", 8883, p));
        sim.cmd(open_tls(2, "echo.sim", 443, verified("echo.sim")));
        all.extend(sim.run_for(20 * S));
        sim.cmd(NetCommand::Send {
            conn: ConnId(2),
            data: pattern(5000),
        });
        all.extend(sim.run_for(20 * S));
        all
    };
    let first = run(7);
    assert!(first.iter().any(|(_, e)| matches!(
        e,
        NetEvent::Opened {
            conn: ConnId(1),
            ..
        }
    )));
    assert!(first.iter().any(|(_, e)| matches!(
        e,
        NetEvent::Data {
            conn: ConnId(1),
            ..
        }
    )));
    assert_eq!(first, run(7));
}

#[test]
fn s14_2_tls13_costs_one_round_trip_less() {
    let handshake = |tls13: bool| {
        let mut sim = NetSim::new(SimConfig::default(), "gprs", 3);
        let mut p = verified("echo.sim");
        p.allow_tls13 = tls13;
        sim.cmd(open_tls(1, "echo.sim", 443, p));
        let events = sim.run_for(30 * S);
        let at = |want: fn(&NetEvent) -> bool| {
            events
                .iter()
                .find(|(_, e)| want(e))
                .map(|(t, _)| *t)
                .expect("event")
        };
        at(|e| matches!(e, NetEvent::Opened { .. }))
            - at(|e| matches!(e, NetEvent::Connected { .. }))
    };
    let (tls12, tls13) = (handshake(false), handshake(true));
    // A gprs round trip is 1.2 s.
    assert!(
        tls12 >= tls13 + Duration::from_millis(1000),
        "1.2: {tls12:?}, 1.3: {tls13:?}"
    );
}

#[test]
fn s14_4_every_handshake_failure_is_handshake_and_authmode_0_checks_nothing() {
    let mut sim = NetSim::new(world(), "lte-cat1", 1);
    let mut conn = 0;
    let mut try_open = |host: &str, port: u16, p: TlsParams| {
        conn += 1;
        open(&mut sim, conn, host, port, p)
    };
    let hs = Err(OpenError::Handshake);
    assert_eq!(try_open("expired.sim", 443, verified("expired.sim")), hs);
    assert_eq!(try_open("future.sim", 443, verified("future.sim")), hs);
    assert_eq!(try_open("wrong.sim", 443, verified("wrong.sim")), hs);
    assert_eq!(try_open("self.sim", 443, verified("self.sim")), hs);
    // A plain TCP service does not speak TLS.
    assert_eq!(try_open("echo.sim", 7, verified("echo.sim")), hs);

    // ignorelocaltime 1: dates do not matter.
    let mut p = verified("expired.sim");
    p.verify_time = None;
    assert_eq!(try_open("expired.sim", 443, p), Ok(()));
    // authmode 0: nothing is checked.
    for host in ["expired.sim", "wrong.sim", "self.sim"] {
        let mut p = params(TlsAuth::None, b"");
        p.server_name = host.into();
        assert_eq!(try_open(host, 443, p), Ok(()), "{host}");
    }
    // The address is checked against iPAddress.
    let mut p = verified("192.0.2.7");
    p.sni = false;
    assert_eq!(try_open("192.0.2.7", 443, p), Ok(()));
}

#[test]
fn s14_4_the_simulated_handshake_logs_the_library_reason() {
    let (_guard, logs) = capture_logs();
    let mut sim = NetSim::new(world(), "none", 1);
    assert_eq!(
        open(&mut sim, 1, "wrong.sim", 443, verified("wrong.sim")),
        Err(OpenError::Handshake)
    );
    let text = logged(&logs);
    assert!(text.contains("TLS handshake failed"), "{text}");
    assert!(text.contains("not valid for name"), "{text}");
}

#[test]
fn s14_2_sni_versions_and_client_certificates_on_simulated_hosts() {
    let mut sim = NetSim::new(world(), "lte-cat4", 2);
    let hs = Err(OpenError::Handshake);
    let mut p = verified("cdn.sim");
    p.sni = false;
    assert_eq!(open(&mut sim, 1, "cdn.sim", 443, p.clone()), hs);
    p.sni = true;
    assert_eq!(open(&mut sim, 2, "cdn.sim", 443, p), Ok(()));

    let mut p = verified("modern.sim");
    assert_eq!(open(&mut sim, 3, "modern.sim", 443, p.clone()), hs);
    p.allow_tls13 = true;
    assert_eq!(open(&mut sim, 4, "modern.sim", 443, p.clone()), Ok(()));
    p.version = 3;
    assert_eq!(open(&mut sim, 5, "modern.sim", 443, p), hs);

    assert_eq!(
        open(&mut sim, 6, "mqtt.sim", 8883, verified("mqtt.sim")),
        hs
    );
    let device = Pki::new().client();
    let mut p = verified("mqtt.sim");
    p.auth = TlsAuth::Mutual;
    p.client_cert = device.cert_pem.into_bytes();
    p.client_key = device.key_pem.into_bytes();
    assert_eq!(open(&mut sim, 7, "mqtt.sim", 8883, p.clone()), Ok(()));

    // Unusable files: 19 at once, before any traffic.
    p.client_key = b"junk".to_vec();
    sim.cmd(open_tls(8, "mqtt.sim", 8883, p));
    assert_eq!(
        sim.events(Duration::ZERO),
        [NetEvent::OpenFailed {
            conn: ConnId(8),
            error: OpenError::Certificates
        }]
    );
}

#[test]
fn faults_handshake_failure_on_demand_peer_close_and_network_lost() {
    let mut sim = NetSim::new(SimConfig::default(), "lte-cat4", 5);
    sim.faults.tls_handshake_failure();
    assert_eq!(
        open(&mut sim, 1, "echo.sim", 443, verified("echo.sim")),
        Err(OpenError::Handshake)
    );
    // Only the next one.
    assert_eq!(
        open(&mut sim, 2, "echo.sim", 443, verified("echo.sim")),
        Ok(())
    );

    sim.faults.peer_close(&[ConnId(2)]);
    assert_eq!(sim.events(S), [NetEvent::PeerClosed { conn: ConnId(2) }]);

    assert_eq!(
        open(&mut sim, 3, "echo.sim", 443, verified("echo.sim")),
        Ok(())
    );
    sim.faults.network_lost(sim.now, 10 * S);
    sim.cmd(NetCommand::Send {
        conn: ConnId(3),
        data: b"lost".to_vec(),
    });
    let events = sim.events(5 * S);
    assert!(events.contains(&NetEvent::NetworkLost));
    assert!(
        !events.iter().any(|e| matches!(e, NetEvent::Data { .. })),
        "{events:?}"
    );
}

#[test]
fn s8_3_close_while_the_handshake_runs_ends_it() {
    let mut sim = NetSim::new(SimConfig::default(), "gprs", 1);
    sim.cmd(open_tls(1, "echo.sim", 443, verified("echo.sim")));
    let mut events = Vec::new();
    for _ in 0..100 {
        events.extend(sim.events(Duration::from_millis(100)));
        if !events.is_empty() {
            break;
        }
    }
    assert_eq!(events, [NetEvent::Connected { conn: ConnId(1) }]);
    sim.cmd(NetCommand::Close { conn: ConnId(1) });
    assert_eq!(sim.events(30 * S), [NetEvent::Closed { conn: ConnId(1) }]);
}

#[test]
fn s10_2_paused_tls_session_on_the_simulated_network_loses_nothing() {
    const TOTAL: usize = 300_000;
    let mut world = SimConfig::default();
    let big: SimConfig = toml::from_str(&format!(
        r#"[[host]]
        name = "big.sim"
        addr = "192.0.2.110"
        tcp = [{{ port = 443, kind = "fixed", greeting = "{}", tls = {{}} }}]"#,
        "x".repeat(TOTAL)
    ))
    .expect("config");
    world.hosts.extend(big.hosts);
    let mut sim = NetSim::new(world, "lte-cat4", 9);
    sim.cmd(open_tls(1, "big.sim", 443, verified("big.sim")));
    let c = ConnId(1);
    let count = |events: Vec<NetEvent>| -> usize {
        events
            .iter()
            .map(|e| match e {
                NetEvent::Data { data, .. } => data.len(),
                _ => 0,
            })
            .sum()
    };
    // Open, then pause: at most a window's worth was on its way; the rest waits in the
    // server, however long the modem pauses.
    let events = sim.events(Duration::from_millis(500));
    assert!(
        events.iter().any(|e| matches!(e, NetEvent::Opened { .. })),
        "{events:?}"
    );
    let before = count(events);
    sim.cmd(NetCommand::PauseRead { conn: c });
    assert_eq!(count(sim.events(60 * S)), 0);
    sim.cmd(NetCommand::ResumeRead { conn: c });
    let first = count(sim.events(Duration::ZERO));
    assert!(
        first <= at7600_net::sim::WINDOW,
        "{first} bytes held for the modem"
    );
    let rest = count(sim.events(60 * S));
    assert_eq!(before + first + rest, TOTAL);
}
