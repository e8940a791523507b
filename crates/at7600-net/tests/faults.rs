//! Every fault in every access mode on the simulated network: exact URCs, and no byte
//! received before the fault is lost.

use at7600_core::ModemConfig;
use at7600_net::sim::SimConfig;
use at7600_net::{Fault, LinkProfile, Sim};
use std::time::Duration;

const S: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, Debug)]
enum Mode {
    Push,
    Buffer,
    Transparent,
}

const MODES: [Mode; 3] = [Mode::Push, Mode::Buffer, Mode::Transparent];

/// A modem on a 3G link with link 0 open to the echo host, in `mode`, after "hello"
/// went out and came back; returns the sim and what the host has seen of the echo.
fn connected(mode: Mode) -> Sim {
    let mut config = ModemConfig::default();
    config.escape.guard = Duration::from_millis(200);
    let profile = LinkProfile::named("3g").unwrap();
    let mut sim = Sim::new(config, SimConfig::default(), profile, 7);
    sim.host("ATE0\r");
    match mode {
        Mode::Push => {}
        Mode::Buffer => sim.host("AT+CIPRXGET=1\r"),
        Mode::Transparent => sim.host("AT+CIPMODE=1\r"),
    }
    sim.host("AT+NETOPEN\r");
    assert!(sim.run_until("+NETOPEN: 0", 10 * S));
    sim.host("AT+CIPOPEN=0,\"TCP\",\"echo.sim\",7\r");
    let up = match mode {
        Mode::Transparent => "CONNECT 115200",
        _ => "+CIPOPEN: 0,0",
    };
    assert!(sim.run_until(up, 10 * S));
    match mode {
        Mode::Transparent => sim.host("hello"),
        _ => {
            sim.host("AT+CIPSEND=0,5\r");
            sim.host("hello");
        }
    }
    let seen = match mode {
        Mode::Push => "+IPD5\r\nhello",
        Mode::Buffer => "+CIPRXGET: 1,0",
        Mode::Transparent => "hello",
    };
    sim.run_for(2 * S);
    let out = sim.take_output();
    let text = String::from_utf8_lossy(&out);
    // Transparent mode: data arrives raw after CONNECT.
    assert!(text.contains(seen), "{mode:?}: {text:?}");
    sim
}

/// In buffer mode the echoed bytes must still be readable after the fault.
fn read_buffer(sim: &mut Sim) -> String {
    sim.host("AT+CIPRXGET=2,0\r");
    sim.run_for(S);
    sim.take_text()
}

#[test]
fn network_lost_in_every_mode() {
    for mode in MODES {
        let mut sim = connected(mode);
        sim.inject(&Fault::NetworkLost { for_ms: 10_000 }).unwrap();
        sim.run_for(S);
        let out = sim.take_text();
        match mode {
            Mode::Push => assert_eq!(
                out, "\\r\\n+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY\\r\\n",
                "{mode:?}"
            ),
            Mode::Buffer => {
                assert_eq!(out, "\\r\\n+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY\\r\\n");
                assert_eq!(
                    read_buffer(&mut sim),
                    "\\r\\n+CIPRXGET: 2,0,5,0\\r\\nhello\\r\\nOK\\r\\n",
                    "bytes received before the fault stay readable"
                );
            }
            Mode::Transparent => assert_eq!(
                out,
                "\\r\\nCLOSED\\r\\n\\r\\n+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY\\r\\n"
            ),
        }
        // While the network is down, attaching again fails; afterwards it works.
        sim.host("AT+NETCLOSE\r");
        sim.run_for(S);
        sim.take_output();
        sim.host("AT+NETOPEN\r");
        sim.run_for(S);
        assert_eq!(
            sim.take_text(),
            "\\r\\nOK\\r\\n\\r\\n+NETOPEN: 1\\r\\n",
            "{mode:?}"
        );
        sim.run_for(10 * S);
        sim.host("AT+NETOPEN\r");
        assert!(sim.run_until("+NETOPEN: 0", 5 * S), "{mode:?}");
    }
}

#[test]
fn peer_close_in_every_mode() {
    for mode in MODES {
        let mut sim = connected(mode);
        sim.inject(&Fault::PeerClose { link: Some(0) }).unwrap();
        sim.run_for(S);
        let out = sim.take_text();
        match mode {
            Mode::Push => assert_eq!(out, "\\r\\n+IPCLOSE: 0,1\\r\\n"),
            Mode::Buffer => {
                assert_eq!(out, "\\r\\n+IPCLOSE: 0,1\\r\\n");
                assert_eq!(
                    read_buffer(&mut sim),
                    "\\r\\n+CIPRXGET: 2,0,5,0\\r\\nhello\\r\\nOK\\r\\n"
                );
            }
            Mode::Transparent => assert_eq!(out, "\\r\\nCLOSED\\r\\n"),
        }
    }
}

#[test]
fn send_timeout_when_the_peer_stalls() {
    for mode in [Mode::Push, Mode::Buffer] {
        let mut sim = connected(mode);
        sim.host("AT+CIPSENDMODE=1\r");
        sim.host("AT+CIPTIMEOUT=,,5000\r");
        sim.take_output();
        sim.inject(&Fault::Stall { link: Some(0) }).unwrap();
        sim.host("AT+CIPSEND=0,4\r");
        sim.host("ping");
        sim.run_for(2 * S);
        assert_eq!(
            sim.take_text(),
            "\\r\\n>\\r\\nOK\\r\\n",
            "{mode:?}: no report yet"
        );
        sim.run_for(5 * S);
        assert_eq!(
            sim.take_text(),
            "\\r\\n+CIPSEND: 0,4,-1\\r\\n\\r\\n+IPCLOSE: 0,2\\r\\n",
            "{mode:?}"
        );
    }
}

#[test]
fn stalled_peer_in_transparent_mode_keeps_the_link() {
    let mut sim = connected(Mode::Transparent);
    sim.inject(&Fault::Stall { link: None }).unwrap();
    sim.host("more");
    sim.run_for(5 * S);
    assert_eq!(sim.take_text(), "", "nothing echoes back");
    assert!(sim.modem.status().data_mode);
}

#[test]
fn refused_and_timed_out_opens() {
    for mode in [Mode::Push, Mode::Buffer] {
        let mut sim = connected(mode);
        sim.inject(&Fault::RefuseOpen).unwrap();
        sim.host("AT+CIPOPEN=1,\"TCP\",\"echo.sim\",7\r");
        sim.run_for(S);
        assert_eq!(sim.take_text(), "\\r\\nOK\\r\\n\\r\\n+CIPOPEN: 1,1\\r\\n");
        sim.inject(&Fault::TimeoutOpen).unwrap();
        sim.host("AT+CIPTIMEOUT=,3000\r");
        sim.host("AT+CIPOPEN=1,\"TCP\",\"echo.sim\",7\r");
        sim.run_for(2 * S);
        assert_eq!(sim.take_text(), "\\r\\nOK\\r\\n\\r\\nOK\\r\\n");
        sim.run_for(2 * S);
        assert_eq!(sim.take_text(), "\\r\\n+CIPOPEN: 1,10\\r\\n");
        // The next open works again.
        sim.host("AT+CIPOPEN=1,\"TCP\",\"echo.sim\",7\r");
        assert!(sim.run_until("+CIPOPEN: 1,0", 5 * S));
    }
    let mut sim = connected(Mode::Transparent);
    sim.host("+++");
    sim.run_for(S);
    sim.take_output();
    sim.host("AT+CIPCLOSE=0\r");
    sim.run_for(S);
    sim.take_output();
    sim.inject(&Fault::RefuseOpen).unwrap();
    sim.host("AT+CIPOPEN=0,\"TCP\",\"echo.sim\",7\r");
    sim.run_for(S);
    assert_eq!(sim.take_text(), "\\r\\nCONNECT FAIL\\r\\n");
}

#[test]
fn dns_failure_on_lookup_and_on_open() {
    let mut sim = connected(Mode::Push);
    sim.inject(&Fault::DnsFailure).unwrap();
    sim.host("AT+CDNSGIP=\"echo.sim\"\r");
    sim.run_for(S);
    assert_eq!(
        sim.take_text(),
        "\\r\\n+CDNSGIP: 0,10\\r\\n\\r\\nERROR\\r\\n"
    );
    sim.inject(&Fault::DnsFailure).unwrap();
    sim.host("AT+CIPOPEN=1,\"TCP\",\"echo.sim\",7\r");
    sim.run_for(S);
    assert_eq!(sim.take_text(), "\\r\\nOK\\r\\n\\r\\n+CIPOPEN: 1,11\\r\\n");
    // One-shot: the next lookup answers.
    sim.host("AT+CDNSGIP=\"echo.sim\"\r");
    sim.run_for(S);
    assert_eq!(
        sim.take_text(),
        "\\r\\n+CDNSGIP: 1,\"echo.sim\",\"192.0.2.7\"\\r\\n\\r\\nOK\\r\\n"
    );
}

#[test]
fn radio_changes_report_registration() {
    let mut sim = connected(Mode::Push);
    sim.host("AT+CREG=1\r");
    sim.take_output();
    sim.inject(&Fault::Radio {
        rssi: Some(3),
        reg_status: Some(2),
        tz: None,
    })
    .unwrap();
    // Not registered: the bearer under the open network is gone (more-commands.md §5.1).
    assert_eq!(
        sim.take_text(),
        "\\r\\n+CREG: 2\\r\\n\\r\\n+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY\\r\\n"
    );
    sim.host("AT+CSQ\r");
    assert_eq!(sim.take_text(), "\\r\\n+CSQ: 3,99\\r\\n\\r\\nOK\\r\\n");
}

#[test]
fn dtr_off_in_transparent_mode() {
    // AT&D1: DTR OFF goes to command mode, the link stays.
    let mut sim = connected(Mode::Transparent);
    sim.run_for(S);
    sim.host("+++");
    sim.run_for(S);
    sim.host("AT&D1\r");
    sim.host("ATO\r");
    sim.run_for(S);
    assert_eq!(
        sim.take_text(),
        "\\r\\nOK\\r\\n\\r\\nOK\\r\\n\\r\\nCONNECT 115200\\r\\n"
    );
    sim.inject(&Fault::Dtr { on: false }).unwrap();
    assert_eq!(sim.take_text(), "\\r\\nOK\\r\\n");
    assert!(!sim.modem.status().data_mode);
    assert_eq!(sim.modem.status().links.len(), 1);

    // AT&D2: DTR OFF closes the link with +IPCLOSE: 0,2.
    let mut sim = connected(Mode::Transparent);
    sim.run_for(S);
    sim.host("+++");
    sim.run_for(S);
    sim.host("AT&D2\r");
    sim.host("ATO\r");
    sim.run_for(S);
    sim.take_output();
    sim.inject(&Fault::Dtr { on: false }).unwrap();
    sim.run_for(S);
    assert_eq!(sim.take_text(), "\\r\\n+IPCLOSE: 0,2\\r\\n");
    assert!(sim.modem.status().links.is_empty());
}

#[test]
fn scheduled_faults_fire_at_their_time() {
    let mut sim = connected(Mode::Push);
    let at = sim.now() + 30 * S;
    sim.schedule(at, Fault::NetworkLost { for_ms: 10_000 });
    assert!(!sim.run_until("+CIPEVENT", 29 * S));
    assert!(sim.run_until("+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY", 2 * S));
    assert!(sim.now() >= at);
}
