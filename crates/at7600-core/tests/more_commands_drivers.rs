//! `more-commands.md` §10: what the surveyed drivers send and must see, as transcripts.
mod common;
use at7600_core::config::Personality;
use at7600_core::ModemConfig;
use common::Bench;
use std::time::Duration;

#[test]
fn tinygsm_a7672x_gprs_connect_and_disconnect() {
    let mut config = ModemConfig::default();
    config.identity.personality = Personality::A76xx;
    let mut b = Bench::new(config);
    b.host("ATE0\r");
    b.expect_answers(&[
        ("AT+CGDCONT=1,\"IP\",\"cmnet\"", r"\r\nOK\r\n"),
        ("AT+CGACT=1,1", r"\r\nOK\r\n"),
        ("AT+CGATT=1", r"\r\nOK\r\n"),
        ("AT+CIPRXGET=1", r"\r\nOK\r\n"),
        ("AT+CGPADDR=1", r"\r\n+CGPADDR: 1,10.148.0.17\r\n\r\nOK\r\n"),
        ("AT+CDNSCFG=\"8.8.8.8\",\"8.8.4.4\"", r"\r\nOK\r\n"),
        // The first step of every connect, before NETOPEN.
        ("AT+CTCPKA=1,2,5,1", r"\r\nOK\r\n"),
        ("AT+NETOPEN", r"\r\nOK\r\n\r\n+NETOPEN: 0\r\n"),
        ("AT+NETCLOSE", r"\r\nOK\r\n\r\n+NETCLOSE: 0\r\n"),
        ("AT+CGATT=0", r"\r\nOK\r\n"),
    ]);
}

#[test]
fn tinygsm_sim7600_init_restart_and_identity() {
    let mut b = Bench::default();
    // restart(): AT+CRESET answers OK within 10 s, then the module reboots...
    assert_eq!(b.host("AT+CRESET\r"), r"AT+CRESET\r\r\nOK\r\n");
    let boot = b.advance(Duration::from_secs(16));
    assert!(boot.ends_with(r"\r\nPB DONE\r\n"), "{boot}");
    // ... and comes back with echo on, as init() expects to switch it off.
    assert_eq!(b.host("ATE0\r"), r"ATE0\r\r\nOK\r\n");
    b.expect_answers(&[
        ("AT+CTZR=0", r"\r\nOK\r\n"),
        ("AT+CTZU=1", r"\r\nOK\r\n"),
        ("AT+CPIN?", r"\r\n+CPIN: READY\r\n\r\nOK\r\n"),
        ("AT+CSPN?", r#"\r\n+CSPN: "CMCC",0\r\n\r\nOK\r\n"#),
        ("AT+CIMI", r"\r\n460001234567890\r\n\r\nOK\r\n"),
        ("AT+CGREG?", r"\r\n+CGREG: 0,1\r\n\r\nOK\r\n"),
        ("AT+CNMP=38", r"\r\nOK\r\n"),
        ("AT+CNMP?", r"\r\n+CNMP: 38\r\n\r\nOK\r\n"),
        ("AT+CBC", r"\r\n+CBC: 3.900V\r\n\r\nOK\r\n"),
        ("AT+CPMUTEMP", r"\r\n+CPMUTEMP: 29\r\n\r\nOK\r\n"),
        (
            "AT+CCLK?",
            r#"\r\n+CCLK: "24/05/17,10:15:18+32"\r\n\r\nOK\r\n"#,
        ),
        // The NTP helper: CNTPCID answered at once, then the sync.
        ("AT+CNTPCID=1", r"\r\nERROR\r\n"),
        ("AT+CNTP=\"pool.ntp.org\",0", r"\r\nOK\r\n"),
        ("AT+CNTP", r"\r\nOK\r\n\r\n+CNTP: 0\r\n"),
        ("AT+CPOF", r"\r\nOK\r\n"),
    ]);
}

#[test]
fn rt_thread_sim76xx_init_after_netopen() {
    let mut b = Bench::quiet();
    b.netopen();
    b.expect_answers(&[
        ("AT+CSOCKSETPN=1", r"\r\nOK\r\n"),
        ("AT+CGREG?", r"\r\n+CGREG: 0,1\r\n\r\nOK\r\n"),
        (
            "AT+CCLK?",
            r#"\r\n+CCLK: "24/05/17,10:15:02+32"\r\n\r\nOK\r\n"#,
        ),
    ]);
    b.auto = false;
    assert_eq!(
        b.host("AT+CPING=\"192.0.2.7\",1,1,100,,,64\r"),
        r"\r\nOK\r\n"
    );
}

#[test]
fn esp_modem_profile_power_and_out_of_scope_modes() {
    let mut b = Bench::quiet();
    b.expect_answers(&[
        ("AT+CFUN?", r"\r\n+CFUN: 1\r\n\r\nOK\r\n"),
        ("AT+CNSMOD?", r"\r\n+CNSMOD: 0,8\r\n\r\nOK\r\n"),
        ("AT&W", r"\r\nOK\r\n"),
        // CMUX and PPP fail fast instead of hanging.
        ("AT+CMUX=0", r"\r\nERROR\r\n"),
        ("ATD*99#", r"\r\nERROR\r\n"),
        ("ATD*99***1#", r"\r\nERROR\r\n"),
        ("AT+CGDATA=\"PPP\",1", r"\r\nERROR\r\n"),
    ]);
    b.host("AT+CMEE=2\r");
    assert_eq!(b.host("AT+CMUX=0\r"), r"\r\n+CME ERROR: unknown\r\n");
    assert_eq!(b.host("AT+CRESET\r"), r"\r\nOK\r\n");
    let boot = b.advance(Duration::from_secs(60));
    assert!(boot.contains("PB DONE"), "{boot}");
}

#[test]
fn lilygo_factory_reset_line_and_auth() {
    let mut b = Bench::quiet();
    b.expect_answers(&[
        ("AT&FZE0&W", r"\r\nOK\r\n"),
        ("AT+IPR=0", r"\r\nOK\r\n"),
        ("AT+CGAUTH=1,1,\"pass\",\"user\"", r"\r\nOK\r\n"),
        ("AT+IFC=0,0", r"\r\nOK\r\n"),
        ("AT+ICF=2,2", r"\r\nOK\r\n"),
        ("AT+CSCLK=0", r"\r\nOK\r\n"),
        ("AT&W", r"\r\nOK\r\n"),
    ]);
}
