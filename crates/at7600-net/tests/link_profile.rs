//! Issue 10's link-profile defects, on the simulated network with the gprs profile:
//! the `+CIPSEND:` report in mode 0 comes as soon as the module took the data, a
//! server's 4 KB write arrives a segment at a time, and after a fault the modem is in
//! one state whichever command asks.

use at7600_core::ModemConfig;
use at7600_net::sim::{Behaviour, HostSpec, SimConfig, TcpService};
use at7600_net::{Fault, LinkProfile, Sim};
use std::net::Ipv4Addr;
use std::time::Duration;

const S: Duration = Duration::from_secs(1);

/// A modem on gprs with the network open; `bulk.sim:80` greets with 4096 bytes.
fn gprs() -> Sim {
    let mut net = SimConfig::default();
    net.hosts.push(HostSpec {
        name: "bulk.sim".into(),
        addr: Ipv4Addr::new(192, 0, 2, 40),
        tcp: vec![TcpService {
            port: 80,
            behaviour: Behaviour::Fixed {
                greeting: "x".repeat(4096),
                reply: None,
            },
            tls: None,
        }],
        udp_echo: vec![],
    });
    let profile = LinkProfile::named("gprs").expect("gprs");
    let mut sim = Sim::new(ModemConfig::default(), net, profile, 3);
    sim.host("ATE0\r");
    sim.host("AT+NETOPEN\r");
    assert!(sim.run_until("+NETOPEN: 0", 10 * S));
    sim.take_output();
    sim
}

#[test]
fn cipsendmode_0_reports_right_after_the_data_is_taken() {
    let mut sim = gprs();
    sim.host("AT+CIPOPEN=0,\"TCP\",\"discard.sim\",9\r");
    assert!(sim.run_until("+CIPOPEN: 0,0", 10 * S));
    sim.take_output();
    sim.host("AT+CIPSEND=0,1000\r");
    sim.host(vec![b'a'; 1000]);
    // No virtual time passes: the report is there with the OK (air time is 0.6 s).
    sim.run_for(Duration::ZERO);
    assert_eq!(
        sim.take_text(),
        "\\r\\n>\\r\\nOK\\r\\n\\r\\n+CIPSEND: 0,1000,1000\\r\\n"
    );
}

#[test]
fn a_servers_4_kb_write_arrives_segment_by_segment() {
    let mut sim = gprs();
    sim.host("AT+CIPOPEN=0,\"TCP\",\"bulk.sim\",80\r");
    assert!(sim.run_until("+CIPOPEN: 0,0", 10 * S));
    sim.take_output();
    let mut arrivals = Vec::new();
    for _ in 0..20 {
        let before = sim.now();
        if !sim.step(before + 10 * S) {
            break;
        }
        let text = sim.take_text();
        if let Some(i) = text.find("+IPD") {
            let len: String = text[i + 4..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            arrivals.push((sim.now(), len));
        }
    }
    let lens: Vec<&str> = arrivals.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(lens, ["1400", "1400", "1296"], "{arrivals:?}");
    assert!(arrivals[0].0 < arrivals[1].0 && arrivals[1].0 < arrivals[2].0);
}

#[test]
fn after_a_network_lost_fault_every_command_tells_the_same_state() {
    let mut sim = gprs();
    sim.inject(&Fault::NetworkLost { for_ms: 1000 })
        .expect("fault");
    sim.run_for(S / 10);
    assert!(sim
        .take_text()
        .contains("+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY"));
    sim.host("AT+NETOPEN?\r");
    sim.host("AT+IPADDR\r");
    assert_eq!(
        sim.take_text(),
        "\\r\\n+NETOPEN: 0\\r\\n\\r\\nOK\\r\\n\\r\\n+IP ERROR: Network not opened\\r\\n\\r\\nERROR\\r\\n"
    );
}

#[test]
fn after_a_radio_fault_to_not_registered_netopen_fails() {
    let mut sim = gprs();
    sim.host("AT+NETCLOSE\r");
    assert!(sim.run_until("+NETCLOSE: 0", 10 * S));
    sim.inject(&Fault::Radio {
        rssi: None,
        reg_status: Some(3),
        tz: None,
    })
    .expect("fault");
    sim.take_output();
    sim.host("AT+NETOPEN\r");
    sim.run_for(10 * S);
    assert_eq!(sim.take_text(), "\\r\\nOK\\r\\n\\r\\n+NETOPEN: 1\\r\\n");
    sim.host("AT+CGACT?;+CGATT?\r");
    assert_eq!(
        sim.take_text(),
        "\\r\\n+CGACT: 1,0\\r\\n\\r\\n+CGATT: 0\\r\\n\\r\\nOK\\r\\n"
    );
}

#[test]
fn power_comes_back_after_cpof_through_a_fault_and_a_zone_change_gives_ctzv() {
    let mut sim = gprs();
    sim.host("AT+CPOF\r");
    sim.run_for(S);
    assert_eq!(sim.take_text(), "\\r\\nOK\\r\\n");
    sim.host("AT\r");
    sim.run_for(10 * S);
    assert_eq!(sim.take_text(), "", "off: nothing is ever printed");
    sim.inject(&Fault::PowerOn).expect("power on");
    sim.run_for(4 * S);
    assert_eq!(
        sim.take_text(),
        "\\r\\nRDY\\r\\n\\r\\n+CPIN: READY\\r\\n\\r\\nSMS DONE\\r\\n\\r\\nPB DONE\\r\\n"
    );
    sim.host("ATE0;+CTZR=1\r");
    sim.take_output();
    sim.inject(&Fault::Radio {
        rssi: None,
        reg_status: None,
        tz: Some(-20),
    })
    .expect("zone");
    assert!(sim.take_text().starts_with("\\r\\n+CTZV: -20,"));
    assert!(sim
        .inject(&Fault::Radio {
            rssi: None,
            reg_status: None,
            tz: Some(97),
        })
        .is_err());
}
