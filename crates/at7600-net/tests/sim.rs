//! Whole sessions on the simulated network: exact bytes, virtual time, no sockets.

use at7600_core::ModemConfig;
use at7600_net::sim::SimConfig;
use at7600_net::{LinkProfile, Sim};
use std::time::Duration;

mod common;

use common::sim;

const S: Duration = Duration::from_secs(1);

/// Sends `cmd`, lets `secs` of virtual time pass, returns what the modem printed.
fn talk(sim: &mut Sim, cmd: &str, secs: u32) -> String {
    sim.host(cmd);
    sim.run_for(secs * S);
    sim.take_text()
}

#[test]
fn tcp_echo_session_with_exact_bytes() {
    let mut sim = sim("none", 1);
    assert_eq!(
        talk(&mut sim, "AT+CIPOPEN=0,\"TCP\",\"echo.sim\",7\r", 1),
        "\\r\\nOK\\r\\n\\r\\n+CIPOPEN: 0,0\\r\\n"
    );
    sim.host("AT+CIPSEND=0,5\r");
    assert_eq!(
        talk(&mut sim, "hello", 1),
        "\\r\\n>\\r\\nOK\\r\\n\\r\\n+CIPSEND: 0,5,5\\r\\n\\r\\nRECV FROM:192.0.2.7:7\\r\\n+IPD5\\r\\nhello"
    );
    assert_eq!(
        talk(&mut sim, "AT+CIPCLOSE=0\r", 1),
        "\\r\\nOK\\r\\n\\r\\n+CIPCLOSE: 0,0\\r\\n"
    );
    assert_eq!(
        talk(&mut sim, "AT+NETCLOSE\r", 1),
        "\\r\\nOK\\r\\n\\r\\n+NETCLOSE: 0\\r\\n"
    );
}

#[test]
fn dns_from_the_host_table_and_failures_as_the_manual_says() {
    let mut sim = sim("lte-cat4", 1);
    assert_eq!(
        talk(&mut sim, "AT+CDNSGIP=\"www.sim\"\r", 1),
        "\\r\\n+CDNSGIP: 1,\"www.sim\",\"192.0.2.80\"\\r\\n\\r\\nOK\\r\\n"
    );
    assert_eq!(
        talk(&mut sim, "AT+CDNSGIP=\"nowhere.sim\"\r", 1),
        "\\r\\n+CDNSGIP: 0,10\\r\\n\\r\\nERROR\\r\\n"
    );
    assert_eq!(
        talk(&mut sim, "AT+CIPOPEN=1,\"TCP\",\"nowhere.sim\",7\r", 2),
        "\\r\\nOK\\r\\n\\r\\n+CIPOPEN: 1,11\\r\\n"
    );
    // A known host on a closed port, and an address nobody has: refused.
    assert_eq!(
        talk(&mut sim, "AT+CIPOPEN=1,\"TCP\",\"echo.sim\",8\r", 2),
        "\\r\\nOK\\r\\n\\r\\n+CIPOPEN: 1,1\\r\\n"
    );
    assert_eq!(
        talk(&mut sim, "AT+CIPOPEN=1,\"TCP\",\"198.51.100.1\",80\r", 2),
        "\\r\\nOK\\r\\n\\r\\n+CIPOPEN: 1,1\\r\\n"
    );
}

#[test]
fn fixed_responder_answers_each_line() {
    let mut sim = sim("lte-cat1", 3);
    talk(&mut sim, "AT+CIPOPEN=0,\"TCP\",\"www.sim\",80\r", 2);
    sim.host("AT+CIPSEND=0,16\r");
    let out = talk(&mut sim, "GET / HTTP/1.0\r\n", 2);
    assert!(
        out.ends_with("+IPD26\\r\\nHTTP/1.0 200 OK\\r\\n\\r\\nhello\\r\\n"),
        "{out}"
    );
}

#[test]
fn udp_echo_keeps_datagrams() {
    let mut sim = sim("3g", 5);
    assert_eq!(
        talk(&mut sim, "AT+CIPOPEN=2,\"UDP\",,,5000\r", 1),
        "\\r\\n+CIPOPEN: 2,0\\r\\n\\r\\nOK\\r\\n"
    );
    sim.host("AT+CIPSEND=2,3,\"192.0.2.7\",7\r");
    let out = talk(&mut sim, "abc", 2);
    assert!(
        out.ends_with("RECV FROM:192.0.2.7:7\\r\\n+IPD3\\r\\nabc"),
        "{out}"
    );
}

/// A session on a lossy, slow link, as (virtual ms, output) pairs.
fn lossy_session(seed: u64) -> Vec<(u128, String)> {
    let profile = LinkProfile {
        rtt_ms: 300,
        jitter_ms: 100,
        down_kbps: 64,
        up_kbps: 16,
        setup_ms: 500,
        loss: 0.2,
    };
    let mut sim = Sim::new(ModemConfig::default(), SimConfig::default(), profile, seed);
    let mut log = Vec::new();
    sim.host("AT+NETOPEN\r");
    sim.run_for(5 * S);
    sim.host("AT+CIPOPEN=0,\"TCP\",\"echo.sim\",7\r");
    sim.run_for(20 * S);
    for i in 0..20 {
        sim.host("AT+CIPSEND=0,100\r");
        sim.host([b'a' + i; 100]);
        for _ in 0..200 {
            if !sim.step(sim.now() + 60 * S) {
                break;
            }
            if !sim.output().is_empty() {
                log.push((sim.now().as_millis(), sim.take_text()));
            }
        }
    }
    log
}

#[test]
fn loss_shows_as_delay_never_as_missing_bytes_and_seeds_repeat() {
    let a = lossy_session(42);
    assert_eq!(a, lossy_session(42), "same seed, same session");
    assert_ne!(a, lossy_session(43), "another seed, another session");
    let text: String = a.iter().map(|(_, s)| s.as_str()).collect();
    for i in 0..20u8 {
        let block = String::from_utf8(vec![b'a' + i; 100]).unwrap();
        assert!(text.contains(&block), "block {i} lost: {text}");
    }
    // 100 bytes at 16 kbit/s up + 64 down + 300 ms RTT: never instant.
    assert!(a.last().unwrap().0 > 5_000);
}

#[test]
fn bandwidth_paces_delivery() {
    // 14 kB echoed over GPRS (13 kbit/s up): at least 14000*8/13000 s ≈ 8.6 s.
    let mut sim = sim("gprs", 9);
    talk(&mut sim, "AT+CIPOPEN=0,\"TCP\",\"echo.sim\",7\r", 10);
    let start = sim.now();
    for _ in 0..10 {
        sim.host("AT+CIPSEND=0,1400\r");
        sim.host([b'x'; 1400]);
    }
    let mut got = 0;
    for _ in 0..10_000 {
        if !sim.step(start + 120 * S) {
            break;
        }
        got += sim.take_text().matches('x').count();
        if got == 14_000 {
            break;
        }
    }
    assert_eq!(got, 14_000);
    let took = sim.now() - start;
    assert!(took > Duration::from_millis(8_600), "{took:?}");
    assert!(took < 30 * S, "{took:?}");
}

/// A world whose `client.sim` host (192.0.2.50) dials the modem's port 8080 one second
/// after a server listens there, greets, and answers every line.
fn sim_with_dialer(seed: u64) -> Sim {
    let config: SimConfig = toml::from_str(
        r#"
        [[client]]
        addr = "192.0.2.50"
        port = 8080
        after_ms = 1000
        kind = "fixed"
        greeting = "HELLO MODULE\r\n"
        reply = "ACK\r\n"
        "#,
    )
    .unwrap();
    let mut sim = Sim::new(
        ModemConfig::default(),
        config,
        LinkProfile::named("none").unwrap(),
        seed,
    );
    sim.host("ATE0\r");
    sim.host("AT+NETOPEN\r");
    assert!(sim.run_until("+NETOPEN: 0", 10 * S));
    sim.take_output();
    sim
}

#[test]
fn a_simulated_client_dials_in_to_the_modem_s_server() {
    let mut sim = sim_with_dialer(3);
    assert_eq!(
        talk(&mut sim, "AT+SERVERSTART=8080,1\r", 0),
        "\\r\\nOK\\r\\n"
    );
    assert_eq!(talk(&mut sim, "", 2), "\\r\\n+CLIENT: 0,1,192.0.2.50:50001\\r\\n\\r\\nRECV FROM:192.0.2.50:50001\\r\\n+IPD14\\r\\nHELLO MODULE\\r\\n");
    let out = talk(&mut sim, "AT+CIPOPEN?\r", 0);
    assert!(
        out.contains("+CIPOPEN: 0,\"TCP\",\"192.0.2.50\",50001,1\\r\\n"),
        "{out}"
    );
    sim.host("AT+CIPSEND=0,4\r");
    assert_eq!(
        talk(&mut sim, "hi\r\n", 1),
        "\\r\\n>\\r\\nOK\\r\\n\\r\\n+CIPSEND: 0,4,4\\r\\n\\r\\nRECV FROM:192.0.2.50:50001\\r\\n+IPD5\\r\\nACK\\r\\n"
    );
    // Its socket must be closed before the server can stop (manual §2.15).
    assert_eq!(
        talk(&mut sim, "AT+SERVERSTOP=1\r", 0),
        "\\r\\n+SERVERSTOP: 1,9\\r\\n\\r\\nERROR\\r\\n"
    );
    talk(&mut sim, "AT+CIPCLOSE=0\r", 1);
    assert_eq!(
        talk(&mut sim, "AT+SERVERSTOP=1\r", 0),
        "\\r\\n+SERVERSTOP: 1,0\\r\\n\\r\\nOK\\r\\n"
    );
}

#[test]
fn a_dialer_for_another_port_or_a_stopped_server_never_arrives() {
    let mut sim = sim_with_dialer(3);
    talk(&mut sim, "AT+SERVERSTART=9090,0\r", 0);
    assert_eq!(talk(&mut sim, "", 5), "", "nobody dials 9090");
    talk(&mut sim, "AT+SERVERSTART=8080,1\r", 0);
    // Stopped before the dialer's second is up: it finds nothing listening.
    talk(&mut sim, "AT+SERVERSTOP=1\r", 0);
    assert_eq!(talk(&mut sim, "", 5), "");
}
