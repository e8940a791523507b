//! AT+CPING's probes: on the simulated network (a known host answers after the link's
//! round trip, an unknown address never) and on the host's loopback (ICMP where the
//! host allows unprivileged ping sockets, else a TCP probe that a refusal answers).

use at7600_core::{ModemConfig, NetCommand, NetEvent};
use at7600_net::sim::SimConfig;
use at7600_net::{LinkProfile, NetConfig, RealNetwork, Sim};
use std::net::Ipv4Addr;
use std::time::Duration;

const S: Duration = Duration::from_secs(1);

fn sim(profile: &str) -> Sim {
    let mut profile = LinkProfile::named(profile).expect("profile");
    profile.loss = 0.0;
    let mut sim = Sim::new(ModemConfig::default(), SimConfig::default(), profile, 5);
    sim.host("ATE0\r");
    sim.take_output();
    sim
}

#[test]
fn a_simulated_host_answers_after_the_links_round_trip() {
    let mut sim = sim("gprs");
    sim.host("AT+CPING=\"echo.sim\",1,2,64,1000\r");
    assert!(sim.run_until("+CPING: 3,", 30 * S));
    let text = sim.take_text();
    let lines: Vec<&str> = text.split("\\r\\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[0], "OK");
    for reply in &lines[1..3] {
        let fields: Vec<&str> = reply.trim_start_matches("+CPING: ").split(',').collect();
        assert_eq!(fields[..3], ["1", "192.0.2.7", "64"], "{reply}");
        let rtt: u64 = fields[3].parse().expect("rtt");
        assert!(
            (600..=800).contains(&rtt),
            "gprs: 600 ms plus jitter and air: {rtt}"
        );
        assert_eq!(fields[4], "64");
    }
    assert!(lines[3].starts_with("+CPING: 3,2,2,0,"), "{}", lines[3]);
}

#[test]
fn an_unknown_address_times_out() {
    let mut sim = sim("none");
    sim.host("AT+CPING=\"192.0.2.200\",1,1\r");
    sim.run_for(9 * S);
    assert_eq!(sim.take_text(), "\\r\\nOK\\r\\n");
    sim.run_for(S);
    assert_eq!(
        sim.take_text(),
        "\\r\\n+CPING: 2\\r\\n\\r\\n+CPING: 3,1,0,1,0,0,0\\r\\n"
    );
}

#[tokio::test]
async fn the_loopback_answers_a_probe() {
    let (mut net, mut events) = RealNetwork::new(NetConfig::default()).modem();
    net.execute(NetCommand::Ping {
        id: 7,
        addr: Ipv4Addr::LOCALHOST,
        size: 64,
        ttl: 64,
        wait: 5 * S,
    });
    let reply = tokio::time::timeout(10 * S, events.recv()).await;
    assert!(
        matches!(reply, Ok(Some(NetEvent::PingReply { id: 7, .. }))),
        "{reply:?}"
    );
}
