//! `more-commands.md` §1: AT+CRESET, AT+CFUN and AT+CPOF with the boot sequence, under
//! virtual time.
mod common;
use at7600_core::config::{Boot, Personality};
use at7600_core::{ModemConfig, NetCommand};
use common::Bench;
use std::time::Duration;

const BOOT_LINES: &str = r"\r\nRDY\r\n";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// After a restart's OK: dead 2 s, then the lines at 2.0, 2.1, 3.0 and 3.5 s.
fn expect_default_boot(b: &mut Bench, first: &str) {
    assert_eq!(b.advance(ms(1999)), "");
    assert_eq!(b.host("AT\r"), "", "dead: input discarded, no echo");
    assert_eq!(b.advance(ms(1)), first);
    assert_eq!(b.advance(ms(100)), r"\r\n+CPIN: READY\r\n");
    assert_eq!(b.advance(ms(900)), r"\r\nSMS DONE\r\n");
    assert_eq!(b.advance(ms(499)), "");
    assert_eq!(b.advance(ms(1)), r"\r\nPB DONE\r\n");
    assert_eq!(b.advance(Duration::from_secs(60)), "", "nothing more");
}

#[test]
fn s1_1_creset_answers_ok_then_prints_the_boot_lines() {
    let mut b = Bench::default();
    assert_eq!(b.host("AT+CRESET\r"), r"AT+CRESET\r\r\nOK\r\n");
    expect_default_boot(&mut b, BOOT_LINES);
    // State reset as on a reboot: echo back on (the driver's restart() relies on it).
    assert_eq!(b.host("AT\r"), r"AT\r\r\nOK\r\n");
}

#[test]
fn s1_1_the_rest_of_the_line_queued_urcs_and_typed_ahead_input_are_discarded() {
    let mut b = Bench::quiet();
    b.netopen();
    b.modem.handle_host(b.now, b"AT+CRESET;+CSQ\rAT+CGMI\r");
    let out = common::show(b.modem.host_output());
    assert_eq!(out, r"\r\nOK\r\n");
    b.modem.consume_host_output(usize::MAX);
    expect_default_boot(&mut b, BOOT_LINES);
}

#[test]
fn s1_2_between_the_first_line_and_cpin_ready_the_sim_is_busy() {
    let mut b = Bench::quiet();
    b.host("AT+CFUN=1,1\r");
    assert_eq!(b.advance(ms(2000)), BOOT_LINES);
    b.host("ATE0;+CMEE=2\r");
    for cmd in ["AT+CPIN?", "AT+CIMI", "AT+CICCID", "AT+CSPN?", "AT+CNUM"] {
        assert_eq!(
            b.host(format!("{cmd}\r")),
            r"\r\n+CME ERROR: SIM busy\r\n",
            "{cmd}"
        );
    }
    assert_eq!(b.host("AT+CSQ\r"), r"\r\n+CSQ: 99,99\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CGREG?\r"), r"\r\n+CGREG: 0,2\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+COPS?\r"), r"\r\n+COPS: 0\r\n\r\nOK\r\n");
    b.host("AT+CMEE=0\r");
    assert_eq!(b.host("AT+NETOPEN\r"), r"\r\nOK\r\n\r\n+NETOPEN: 1\r\n");
    assert_eq!(b.advance(ms(100)), r"\r\n+CPIN: READY\r\n");
    assert_eq!(b.host("AT+CPIN?\r"), r"\r\n+CPIN: READY\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CGREG?\r"), r"\r\n+CGREG: 0,1\r\n\r\nOK\r\n");
    b.netopen();
}

#[test]
fn s1_2_boot_lines_are_urcs_held_while_a_command_runs_and_framed_per_atv() {
    let mut config = ModemConfig::default();
    config.boot.power_on_lines = true;
    let mut b = Bench::new(config);
    assert_eq!(b.advance(ms(2000)), BOOT_LINES);
    b.host("ATV0\r");
    assert_eq!(b.advance(ms(100)), r"+CPIN: READY\r\n");
}

#[test]
fn s1_2_power_on_lines_when_configured_and_the_a76xx_first_line() {
    let mut config = ModemConfig::default();
    config.identity.personality = Personality::A76xx;
    config.boot.power_on_lines = true;
    let mut b = Bench::new(config);
    assert_eq!(b.host("AT\r"), "", "dead at power-on");
    assert_eq!(b.advance(ms(2000)), r"\r\n*ATREADY: 1\r\n");
    assert_eq!(b.host("AT\r"), r"AT\r\r\nOK\r\n");
}

#[test]
fn s1_2_the_module_profile_takes_eleven_seconds_to_say_rdy() {
    let mut b = Bench::new(ModemConfig {
        boot: Boot::module(),
        ..Default::default()
    });
    assert_eq!(b.advance(ms(10_999)), "");
    assert_eq!(b.advance(ms(1)), BOOT_LINES);
    assert_eq!(b.advance(ms(100)), r"\r\n+CPIN: READY\r\n");
    assert_eq!(b.advance(ms(1900)), r"\r\nSMS DONE\r\n");
    assert_eq!(b.advance(ms(999)), "");
    assert_eq!(b.advance(ms(1)), r"\r\nPB DONE\r\n");
}

#[test]
fn s1_2_by_default_a_new_modem_is_ready_at_once_and_silent() {
    let mut b = Bench::default();
    assert_eq!(b.host("AT\r"), r"AT\r\r\nOK\r\n");
    assert_eq!(b.advance(Duration::from_secs(10)), "");
}

#[test]
fn s1_3_a_restart_resets_volatile_settings_and_keeps_the_rest() {
    let mut b = Bench::quiet();
    b.host("AT&W\r"); // saves ATE0
    b.host("AT+CMEE=2;+CTZU=0;+CNMP=38;+IPR=9600;+CGAUTH=1,1,\"p\",\"u\"\r");
    b.host("AT+CGREG=1;+CIPHEAD=0;+CTCPKA=1,2,5,1;+CDNSCFG=\"8.8.8.8\",\"8.8.4.4\"\r");
    b.host("AT+CNTP=\"pool.ntp.org\";+CSOCKSETPN=2;+CCLK=\"30/01/01,00:00:00+00\"\r");
    b.host("AT+CRESET\r");
    b.advance(ms(3500));
    let expect = [
        ("AT+CMEE?", r"\r\n+CMEE: 0\r\n\r\nOK\r\n"),
        ("AT+CGREG?", r"\r\n+CGREG: 0,1\r\n\r\nOK\r\n"),
        ("AT+CIPHEAD?", r"\r\n+CIPHEAD: 1\r\n\r\nOK\r\n"),
        ("AT+CTCPKA?", r"\r\n+CTCPKA: 0,2,5,1\r\n\r\nOK\r\n"),
        ("AT+CNTP?", r#"\r\n+CNTP: "",0\r\n\r\nOK\r\n"#),
        ("AT+CSOCKSETPN?", r"\r\n+CSOCKSETPN: 1\r\n\r\nOK\r\n"),
        (
            "AT+CDNSCFG?",
            r"\r\nPrimary IPv4 DNS: 183.230.126.224,Secondary IPv4 DNS: 183.230.126.225\r\nPrimary IPv6 DNS: ::,Secondary IPv6 DNS: ::\r\n\r\nOK\r\n",
        ),
        // Kept: the saved profile (echo off), CTZU, CNMP, IPR, CGAUTH, the clock.
        ("AT+CTZU?", r"\r\n+CTZU: 0\r\n\r\nOK\r\n"),
        ("AT+CNMP?", r"\r\n+CNMP: 38\r\n\r\nOK\r\n"),
        ("AT+IPR?", r"\r\n+IPR: 9600\r\n\r\nOK\r\n"),
        ("AT+CGAUTH?", r#"\r\n+CGAUTH: 1,1,"u","p"\r\n\r\nOK\r\n"#),
        (
            "AT+CCLK?",
            r#"\r\n+CCLK: "30/01/01,00:00:03+00"\r\n\r\nOK\r\n"#,
        ),
        ("AT+NETOPEN?", r"\r\n+NETOPEN: 0\r\n\r\nOK\r\n"),
    ];
    b.expect_answers(&expect);
}

#[test]
fn s1_3_links_and_servers_go_without_urcs_and_their_peers_see_the_close() {
    let mut b = Bench::quiet();
    b.netopen();
    let conn = b.open_tcp(1);
    b.host("AT+SERVERSTART=8080,0\r");
    b.log.clear();
    assert_eq!(b.host("AT+CRESET\r"), r"\r\nOK\r\n");
    assert!(b.log.contains(&NetCommand::Close { conn }), "{:?}", b.log);
    assert!(b.log.contains(&NetCommand::Unlisten { server: 0 }));
    assert!(b.log.contains(&NetCommand::Detach));
    let out = b.advance(ms(3500));
    assert_eq!(
        out,
        r"\r\nRDY\r\n\r\n+CPIN: READY\r\n\r\nSMS DONE\r\n\r\nPB DONE\r\n"
    );
    b.host("ATE0\r");
    assert_eq!(
        b.host("AT+CIPCLOSE?\r"),
        r"\r\n+CIPCLOSE: 0,0,0,0,0,0,0,0,0,0\r\n\r\nOK\r\n"
    );
    b.netopen();
}

#[test]
fn s1_4_cfun_radio_off_and_on() {
    let mut b = Bench::quiet();
    b.netopen();
    assert_eq!(
        b.host("AT+CFUN=0\r"),
        r"\r\nOK\r\n\r\n+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY\r\n"
    );
    let expect = [
        ("AT+CFUN?", r"\r\n+CFUN: 0\r\n\r\nOK\r\n"),
        ("AT+CSQ", r"\r\n+CSQ: 99,99\r\n\r\nOK\r\n"),
        ("AT+CGREG?", r"\r\n+CGREG: 0,0\r\n\r\nOK\r\n"),
        ("AT+COPS?", r"\r\n+COPS: 0\r\n\r\nOK\r\n"),
        ("AT+CGATT?", r"\r\n+CGATT: 0\r\n\r\nOK\r\n"),
        ("AT+CGACT?", r"\r\n+CGACT: 1,0\r\n\r\nOK\r\n"),
        ("AT+CNSMOD?", r"\r\n+CNSMOD: 0,0\r\n\r\nOK\r\n"),
        ("AT+CPSI?", r"\r\n+CPSI: NO SERVICE,Online\r\n\r\nOK\r\n"),
        ("AT+NETOPEN?", r"\r\n+NETOPEN: 0\r\n\r\nOK\r\n"),
        ("AT+CGPADDR=1", r"\r\n+CGPADDR: 1,0.0.0.0\r\n\r\nOK\r\n"),
        ("AT+CPIN?", r"\r\n+CPIN: READY\r\n\r\nOK\r\n"),
        ("AT+CGATT=1", r"\r\nERROR\r\n"),
        ("AT+CFUN=0", r"\r\nOK\r\n"),
    ];
    b.expect_answers(&expect);
    assert_eq!(b.host("AT+NETOPEN\r"), r"\r\nOK\r\n\r\n+NETOPEN: 1\r\n");
    b.host("AT+NETCLOSE\r");
    // Back on: no boot lines, registered again.
    assert_eq!(b.host("AT+CFUN=1\r"), r"\r\nOK\r\n");
    assert_eq!(b.advance(Duration::from_secs(5)), "");
    assert_eq!(b.host("AT+CGACT?\r"), r"\r\n+CGACT: 1,1\r\n\r\nOK\r\n");
    b.netopen();
    assert_eq!(b.host("AT+CFUN=5\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CFUN?\r"), r"\r\n+CFUN: 1\r\n\r\nOK\r\n");
}

#[test]
fn s1_4_cfun_parameters() {
    let mut b = Bench::quiet();
    for bad in [
        "AT+CFUN",
        "AT+CFUN=2",
        "AT+CFUN=3",
        "AT+CFUN=9",
        "AT+CFUN=1,2",
        "AT+CFUN=8",
    ] {
        assert_eq!(b.host(format!("{bad}\r")), r"\r\nERROR\r\n", "{bad}");
    }
    assert_eq!(
        b.host("AT+CFUN=0,1\r"),
        r"\r\nOK\r\n",
        "rst only with fun 1"
    );
    assert_eq!(b.advance(Duration::from_secs(5)), "", "no restart");
    assert_eq!(b.host("AT+CFUN=6\r"), r"\r\nOK\r\n");
    expect_default_boot(&mut b, BOOT_LINES);
}

#[test]
fn s1_4_a76xx_cfun_8_takes_the_sim_away() {
    let mut config = ModemConfig::default();
    config.identity.personality = Personality::A76xx;
    let mut b = Bench::new(config);
    b.host("ATE0;+CMEE=2\r");
    assert_eq!(b.host("AT+CFUN=8\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CIMI\r"), r"\r\n+CME ERROR: SIM not inserted\r\n");
    assert_eq!(b.host("AT+CGREG?\r"), r"\r\n+CGREG: 0,0\r\n\r\nOK\r\n");
    b.host("AT+CFUN=1\r");
    assert_eq!(b.host("AT+CIMI\r"), r"\r\n460001234567890\r\n\r\nOK\r\n");
}

#[test]
fn s1_5_cpof_goes_silent_until_powered_on() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CPOF\r"), r"\r\nOK\r\n");
    assert!(!b.modem.powered());
    assert_eq!(b.host("AT\r"), "");
    assert_eq!(b.advance(Duration::from_secs(60)), "");
    b.modem.power_on(b.now);
    assert!(b.modem.powered());
    assert_eq!(b.advance(ms(2000)), BOOT_LINES);
}
