//! `more-commands.md` §2-4, §6, §8: SIM and subscriber, clock and time zone, supply and
//! temperature, radio and registration, profiles. Exact bytes, both personalities.
mod common;
use at7600_core::ModemConfig;
use common::Bench;
use std::time::Duration;

#[test]
fn s0_4_a_freshly_booted_module_answers_with_factory_values() {
    let expect = [
        ("AT+CFUN?", r"\r\n+CFUN: 1\r\n\r\nOK\r\n"),
        ("AT+CPIN?", r"\r\n+CPIN: READY\r\n\r\nOK\r\n"),
        ("AT+CIMI", r"\r\n460001234567890\r\n\r\nOK\r\n"),
        ("AT+CSPN?", r#"\r\n+CSPN: "CMCC",0\r\n\r\nOK\r\n"#),
        ("AT+CNUM", r"\r\nOK\r\n"),
        (
            "AT+CCLK?",
            r#"\r\n+CCLK: "24/05/17,10:15:02+32"\r\n\r\nOK\r\n"#,
        ),
        ("AT+CTZU?", r"\r\n+CTZU: 1\r\n\r\nOK\r\n"),
        ("AT+CTZR?", r"\r\n+CTZR: 0\r\n\r\nOK\r\n"),
        ("AT+CBC", r"\r\n+CBC: 3.900V\r\n\r\nOK\r\n"),
        ("AT+CPMUTEMP", r"\r\n+CPMUTEMP: 29\r\n\r\nOK\r\n"),
        ("AT+CGATT?", r"\r\n+CGATT: 1\r\n\r\nOK\r\n"),
        ("AT+CGACT?", r"\r\n+CGACT: 1,1\r\n\r\nOK\r\n"),
        ("AT+CGPADDR=1", r"\r\n+CGPADDR: 1,10.148.0.17\r\n\r\nOK\r\n"),
        ("AT+CGAUTH?", r"\r\n+CGAUTH: 1,0\r\n\r\nOK\r\n"),
        ("AT+CSOCKSETPN?", r"\r\n+CSOCKSETPN: 1\r\n\r\nOK\r\n"),
        ("AT+CTCPKA?", r"\r\n+CTCPKA: 0,2,5,1\r\n\r\nOK\r\n"),
        (
            "AT+CDNSCFG?",
            r"\r\nPrimary IPv4 DNS: 183.230.126.224,Secondary IPv4 DNS: 183.230.126.225\r\nPrimary IPv6 DNS: ::,Secondary IPv6 DNS: ::\r\n\r\nOK\r\n",
        ),
        ("AT+CNMP?", r"\r\n+CNMP: 2\r\n\r\nOK\r\n"),
        ("AT+CNSMOD?", r"\r\n+CNSMOD: 0,8\r\n\r\nOK\r\n"),
        (
            "AT+COPS?",
            r#"\r\n+COPS: 0,0,"CHINA MOBILE",7\r\n\r\nOK\r\n"#,
        ),
        ("AT+CGREG?", r"\r\n+CGREG: 0,1\r\n\r\nOK\r\n"),
        ("AT+CEREG?", r"\r\n+CEREG: 0,1\r\n\r\nOK\r\n"),
        ("AT+AUTOCSQ?", r"\r\n+AUTOCSQ: 0,0\r\n\r\nOK\r\n"),
        ("AT+CNTP?", r#"\r\n+CNTP: "",0\r\n\r\nOK\r\n"#),
    ];
    Bench::quiet().expect_answers(&expect);
}

#[test]
fn s0_2_the_a76xx_personality_differs_where_its_manual_does() {
    let expect = [
        ("AT+CTZU?", r"\r\n+CTZU: 0\r\n\r\nOK\r\n"),
        ("AT+CSOCKSETPN?", r"\r\n+CSOCKSETPN: 1,1\r\n\r\nOK\r\n"),
        ("AT+CSOCKSETPN=?", r"\r\n+CSOCKSETPN: 1,(1,6)\r\n\r\nOK\r\n"),
        ("AT+CNTP?", r#"\r\n+CNTP: "",32\r\n\r\nOK\r\n"#),
        ("AT+CNTP=?", r#"\r\n+CNTP: "HOST",(-96~96)\r\n\r\nOK\r\n"#),
        ("AT+CFUN=?", r"\r\n+CFUN: (0-1,4-8),(0-1)\r\n\r\nOK\r\n"),
        (
            "AT+CGAUTH=?",
            r"\r\n+CGAUTH: (1-15),(0-3),50,50\r\n\r\nOK\r\n",
        ),
        ("AT+CNMP=?", r"\r\n+CNMP: (2,13,14,38)\r\n\r\nOK\r\n"),
        (
            "AT+COPS=?",
            r#"\r\n+COPS: (2,"CHINA MOBILE","CHINA MOBILE","46000",7),,(0,1,2,3,4),(0,1,2)\r\n\r\nOK\r\n"#,
        ),
        ("AT+CSOCKSETPN=2", r"\r\nERROR\r\n"),
        ("AT+CGACT=1,16", r"\r\nERROR\r\n"),
        (
            "AT&V",
            r"\r\n&C: 1; &D: 0; &F: 0; &W: 0; E: 0; Q: 0; V: 1; X: 4; Z: 0; S0: 0; S2: 43; S3: 13; S4: 10; S5: 8; S6: 2; S7: 1; S8: 2; S9: 6; S10: 7; S11: 63; S30: 10; +FCLASS: 0; +IPR: 115200; +IPREX: 115200; +CSCS: IRA; +CREG: 0; +CGREG: 0; +CEREG: 0; +CMEE: 0; +CFUN: 1\r\n\r\nOK\r\n",
        ),
    ];
    for (cmd, answer) in expect {
        assert_eq!(Bench::a76xx().host(format!("{cmd}\r")), answer, "{cmd}");
    }
    let mut b = Bench::a76xx();
    b.host("AT+CEREG=2\r");
    assert_eq!(
        b.host("AT+CEREG?\r"),
        r#"\r\n+CEREG: 2,1,"1816","01A50B0B"\r\n\r\nOK\r\n"#
    );
}

#[test]
fn s0_2_sim7600_test_forms() {
    let expect = [
        ("AT+CFUN=?", r"\r\n+CFUN: (0-1,4-7),(0-1)\r\n\r\nOK\r\n"),
        ("AT+CGAUTH=?", r"\r\n+CGAUTH: (1-24),(0-3),,\r\n\r\nOK\r\n"),
        ("AT+CSOCKSETPN=?", r"\r\n+CSOCKSETPN: (1-24)\r\n\r\nOK\r\n"),
        ("AT+CNTP=?", r"\r\n+CNTP: 255,(-96~96)\r\n\r\nOK\r\n"),
        (
            "AT+CNMP=?",
            r"\r\n+CNMP: (2,9,10,13,14,19,22,38,39,48,51,54,59,60,63,67)\r\n\r\nOK\r\n",
        ),
        (
            "AT+COPS=?",
            r#"\r\n+COPS: (2,"CHINA MOBILE","CHINA MOBILE","46000",7),,(0,1,2,3,4,5),(0,1,2)\r\n\r\nOK\r\n"#,
        ),
        ("AT+CGATT=?", r"\r\n+CGATT: (0-1)\r\n\r\nOK\r\n"),
        ("AT+CGACT=?", r"\r\n+CGACT: (0,1)\r\n\r\nOK\r\n"),
        ("AT+CGPADDR=?", r"\r\n+CGPADDR: (1)\r\n\r\nOK\r\n"),
        ("AT+CTCPKA=?", r"\r\nOK\r\n"),
        (
            "AT+CDNSCFG=?",
            r#"\r\n+CDNSCFG: ("Primary DNS"),("Secondary DNS"),type\r\n\r\nOK\r\n"#,
        ),
        ("AT+CTZU=?", r"\r\n+CTZU: (0-1)\r\n\r\nOK\r\n"),
        ("AT+CTZR=?", r"\r\n+CTZR: (0-1)\r\n\r\nOK\r\n"),
        ("AT+CNSMOD=?", r"\r\n+CNSMOD: (0,1)\r\n\r\nOK\r\n"),
        ("AT+AUTOCSQ=?", r"\r\n+AUTOCSQ: (0-1),(0-1)\r\n\r\nOK\r\n"),
        ("AT+ICF=?", r"\r\n+ICF: (1-6),(0-3)\r\n\r\nOK\r\n"),
        ("AT+ICF?", r"\r\n+ICF: 3,3\r\n\r\nOK\r\n"),
        ("AT+CSCLK=?", r"\r\n+CSCLK: (0-2)\r\n\r\nOK\r\n"),
        ("AT+CSCLK?", r"\r\n+CSCLK: 0\r\n\r\nOK\r\n"),
        ("AT+CIMI=?", r"\r\nOK\r\n"),
        ("AT+CSPN=?", r"\r\nOK\r\n"),
        ("AT+CNUM=?", r"\r\nOK\r\n"),
        ("AT+CCLK=?", r"\r\nOK\r\n"),
        ("AT+CBC=?", r"\r\nOK\r\n"),
        ("AT+CPMUTEMP=?", r"\r\nOK\r\n"),
        ("AT+CRESET=?", r"\r\nOK\r\n"),
        ("AT+CPOF=?", r"\r\nOK\r\n"),
    ];
    Bench::quiet().expect_answers(&expect);
}

#[test]
fn s0_1_refusals_follow_cmee() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CIMI?\r"),
        r"\r\nERROR\r\n",
        "read form of an action"
    );
    b.host("AT+CMEE=1\r");
    assert_eq!(b.host("AT+CIMI?\r"), r"\r\n+CME ERROR: 50\r\n");
    assert_eq!(b.host("AT+CNTPCID=1\r"), r"\r\n+CME ERROR: 100\r\n");
    assert_eq!(b.host("AT+CMUX=0\r"), r"\r\n+CME ERROR: 100\r\n");
    b.host("AT+CMEE=2\r");
    assert_eq!(
        b.host("AT+CGACT=0,1\r"),
        r"\r\n+CME ERROR: operation not allowed\r\n"
    );
    assert_eq!(b.host("AT+CNTPCID?\r"), r"\r\n+CME ERROR: unknown\r\n");
    // Plain ERROR whatever AT+CMEE says: the manual documents only ERROR there.
    assert_eq!(b.host("AT+CTCPKA=1,0,5\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CDNSCFG=\"8.8.8\"\r"), r"\r\nERROR\r\n");
}

#[test]
fn s2_sim_and_subscriber_values_come_from_the_identity() {
    let mut config = ModemConfig::default();
    config.identity.imsi = "001010123456789".into();
    config.identity.spn = "Test Net".into();
    config.identity.spn_display = 1;
    config.identity.msisdn = "+8613800000000".into();
    let mut b = Bench::new(config.clone());
    b.host("ATE0\r");
    assert_eq!(b.host("AT+CIMI\r"), r"\r\n001010123456789\r\n\r\nOK\r\n");
    assert_eq!(
        b.host("AT+CSPN?\r"),
        r#"\r\n+CSPN: "Test Net",1\r\n\r\nOK\r\n"#
    );
    assert_eq!(
        b.host("AT+CNUM\r"),
        r#"\r\n+CNUM: "","+8613800000000",145\r\n\r\nOK\r\n"#
    );
    config.identity.msisdn = "13800000000".into();
    config.identity.spn = String::new();
    let mut b = Bench::new(config);
    b.host("ATE0;+CMEE=1\r");
    assert_eq!(
        b.host("AT+CNUM\r"),
        r#"\r\n+CNUM: "","13800000000",129\r\n\r\nOK\r\n"#
    );
    assert_eq!(b.host("AT+CSPN?\r"), r"\r\n+CME ERROR: 100\r\n", "no SPN");
}

#[test]
fn s2_a_fleets_modems_have_distinct_imsis() {
    let base = ModemConfig::default().identity;
    assert_eq!(base.nth(0).imsi, "460001234567890");
    assert_eq!(base.nth(3).imsi, "460001234567893");
    assert_ne!(base.nth(1).imsi, base.nth(2).imsi);
    assert_eq!(base.nth(5).msisdn, "", "none configured, none invented");
    let with_number = at7600_core::config::Identity {
        msisdn: "+8613800000000".into(),
        ..base
    };
    assert_eq!(with_number.nth(2).msisdn, "+8613800000002");
}

#[test]
fn s3_1_cclk_runs_on_with_virtual_time_and_can_be_set() {
    let mut b = Bench::quiet();
    b.advance(Duration::from_secs(3600 + 61));
    assert_eq!(
        b.host("AT+CCLK?\r"),
        r#"\r\n+CCLK: "24/05/17,11:16:03+32"\r\n\r\nOK\r\n"#
    );
    assert_eq!(b.host("AT+CCLK=\"23/12/31,23:59:58-20\"\r"), r"\r\nOK\r\n");
    b.advance(Duration::from_secs(3));
    assert_eq!(
        b.host("AT+CCLK?\r"),
        r#"\r\n+CCLK: "24/01/01,00:00:01-20"\r\n\r\nOK\r\n"#
    );
    // Without a zone the zone is kept.
    assert_eq!(b.host("AT+CCLK=\"24/02/29,08:00:00\"\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+CCLK?\r"),
        r#"\r\n+CCLK: "24/02/29,08:00:00-20"\r\n\r\nOK\r\n"#
    );
    assert_eq!(b.host("AT+CCLK=\"24/02/29,08:00:00+00\"\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+CCLK?\r"),
        r#"\r\n+CCLK: "24/02/29,08:00:00+00"\r\n\r\nOK\r\n"#
    );
    for bad in [
        "AT+CCLK=\"23/02/29,08:00:00\"",
        "AT+CCLK=\"24/05/17,10:15:02+97\"",
        "AT+CCLK=24/05/17",
        "AT+CCLK",
    ] {
        assert_eq!(b.host(format!("{bad}\r")), r"\r\nERROR\r\n", "{bad}");
    }
}

#[test]
fn s3_1_the_clock_starts_at_the_hosts_utc() {
    let mut config = ModemConfig {
        utc_ms: 1_000_000_000_000, // 2001-09-09 01:46:40 UTC
        ..Default::default()
    };
    config.radio.tz = 8;
    let mut b = Bench::new(config);
    b.host("ATE0\r");
    assert_eq!(
        b.host("AT+CCLK?\r"),
        r#"\r\n+CCLK: "01/09/09,03:46:40+08"\r\n\r\nOK\r\n"#
    );
}

#[test]
fn s3_2_s3_3_zone_changes_give_ctzv_and_set_the_clock_with_ctzu() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CTZR=1\r"), r"\r\nOK\r\n");
    b.host("AT+CCLK=\"20/01/01,00:00:00+00\"\r");
    assert_eq!(
        b.radio(|r| r.tz = -20),
        r"\r\n+CTZV: -20,24/05/17,02:15:02,0\r\n"
    );
    assert_eq!(
        b.host("AT+CCLK?\r"),
        r#"\r\n+CCLK: "24/05/16,21:15:02-20"\r\n\r\nOK\r\n"#,
        "AT+CTZU=1: network time and zone"
    );
    // AT+CTZU=0 leaves the clock alone; AT+CTZR (execute) sets 0: no URC.
    assert_eq!(b.host("AT+CTZU=0;+CTZR\r"), r"\r\nOK\r\n");
    b.host("AT+CCLK=\"20/01/01,00:00:00+00\"\r");
    assert_eq!(b.radio(|r| r.tz = 32), "");
    assert_eq!(
        b.host("AT+CCLK?\r"),
        r#"\r\n+CCLK: "20/01/01,00:00:00+00"\r\n\r\nOK\r\n"#
    );
    assert_eq!(b.host("AT+CTZU\r"), r"\r\nERROR\r\n");

    let mut b = Bench::a76xx();
    b.host("AT+CTZR=1\r");
    assert_eq!(
        b.radio(|r| r.tz = 36),
        r"\r\n+CTZV: +36,24/05/17,02:15:02,0\r\n"
    );
}

#[test]
fn s3_4_cntp_takes_the_hosts_clock_when_the_bearer_is_up() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CNTP\r"), r"\r\nERROR\r\n", "no server set");
    assert_eq!(b.host("AT+CNTP=\"pool.ntp.org\",0\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+CNTP?\r"),
        r#"\r\n+CNTP: "pool.ntp.org",0\r\n\r\nOK\r\n"#
    );
    b.host("AT+CCLK=\"20/01/01,00:00:00+08\"\r");
    assert_eq!(b.host("AT+CNTP\r"), r"\r\nOK\r\n\r\n+CNTP: 0\r\n");
    assert_eq!(
        b.host("AT+CCLK?\r"),
        r#"\r\n+CCLK: "24/05/17,02:15:02+00"\r\n\r\nOK\r\n"#
    );
    assert_eq!(b.host("AT+CNTP=pool.ntp.org,-8\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CNTP=\"x\",97\r"), r"\r\nERROR\r\n");
    b.host("AT+CGATT=0\r");
    assert_eq!(
        b.host("AT+CNTP\r"),
        r"\r\nOK\r\n\r\n+CNTP: 4\r\n",
        "no bearer"
    );
}

#[test]
fn s4_supply_and_temperature_come_from_the_config() {
    let mut config = ModemConfig::default();
    config.power.vbat_mv = 4012;
    config.power.temp_c = -5;
    let mut b = Bench::new(config);
    b.host("ATE0\r");
    assert_eq!(b.host("AT+CBC\r"), r"\r\n+CBC: 4.012V\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CPMUTEMP\r"), r"\r\n+CPMUTEMP: -5\r\n\r\nOK\r\n");
}

#[test]
fn s6_1_cnmp_stores_a_listed_mode() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CNMP=38\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CNMP?\r"), r"\r\n+CNMP: 38\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CNMP=3\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CNSMOD?\r"), r"\r\n+CNSMOD: 0,8\r\n\r\nOK\r\n");
}

#[test]
fn s6_2_s6_4_registration_changes_are_reported_as_enabled() {
    let mut b = Bench::quiet();
    b.host("AT+CNSMOD=1;+CEREG=2;+CGREG=1\r");
    assert_eq!(
        b.host("AT+CFUN=0\r"),
        r"\r\nOK\r\n\r\n+CGREG: 0\r\n\r\n+CEREG: 0\r\n\r\n+CNSMOD: 0\r\n"
    );
    assert_eq!(b.host("AT+CNSMOD?\r"), r"\r\n+CNSMOD: 1,0\r\n\r\nOK\r\n");
    assert_eq!(
        b.host("AT+CFUN=1\r"),
        r#"\r\nOK\r\n\r\n+CGREG: 1\r\n\r\n+CEREG: 1,"1816","01A50B0B",7\r\n\r\n+CNSMOD: 8\r\n"#
    );
}

#[test]
fn s6_3_cops_formats_and_modes() {
    let mut config = ModemConfig::default();
    config.radio.operator_short = "CMCC".into();
    let mut b = Bench::new(config);
    b.host("ATE0\r");
    assert_eq!(b.host("AT+COPS=3,1\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+COPS?\r"),
        r#"\r\n+COPS: 0,1,"CMCC",7\r\n\r\nOK\r\n"#
    );
    assert_eq!(b.host("AT+COPS=1,2,\"46000\"\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+COPS?\r"),
        r#"\r\n+COPS: 1,2,"46000",7\r\n\r\nOK\r\n"#
    );
    assert_eq!(b.host("AT+COPS=6\r"), r"\r\nERROR\r\n");
    b.host("AT+CFUN=0\r");
    assert_eq!(b.host("AT+COPS?\r"), r"\r\n+COPS: 1\r\n\r\nOK\r\n");
}

#[test]
fn s6_5_autocsq_reports_every_5_s_or_on_change() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+AUTOCSQ=1\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+AUTOCSQ?\r"), r"\r\n+AUTOCSQ: 1,0\r\n\r\nOK\r\n");
    assert_eq!(b.advance(Duration::from_millis(4999)), "");
    assert_eq!(b.advance(Duration::from_millis(1)), r"\r\n+CSQ: 25,99\r\n");
    assert_eq!(b.advance(Duration::from_secs(5)), r"\r\n+CSQ: 25,99\r\n");
    b.host("AT+AUTOCSQ=1,1\r");
    assert_eq!(b.advance(Duration::from_secs(10)), "");
    assert_eq!(b.radio(|r| r.rssi = 12), r"\r\n+CSQ: 12,99\r\n");
}

#[test]
fn s8_profiles_save_restore_and_factory() {
    let mut b = Bench::default();
    assert_eq!(
        b.host("AT&V\r"),
        r"AT&V\r\r\n&C: 1; &D: 1; &F: 0; E: 1; L: 0; M: 0; Q: 0; V: 1; X: 4; Z: 0; S0: 0; S3: 13; S4: 10; S5: 8; S6: 2; S7: 50; S8: 2; S9: 6; S10: 14; S11: 95; +FCLASS: 0; +ICF: 3,3; +IFC: 0,0; +IPR: 115200; +DR: 0; +DS: 0,0,2048,6; +WS46: 12; +CBST: 0,0,1; +CMEE: 0; +CREG: 0; +CGREG: 0; +CEREG: 0; +CFUN: 1\r\n\r\nOK\r\n"
    );
    // LilyGO's init: factory, no echo, save, on one line.
    assert_eq!(b.host("AT&FZE0&W\r"), r"AT&FZE0&W\r\r\nOK\r\n");
    assert_eq!(b.host("ATE1\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("ATZ\r"), r"ATZ\r\r\nOK\r\n");
    assert_eq!(b.host("AT\r"), r"\r\nOK\r\n", "ATZ loaded the saved ATE0");
    assert_eq!(b.host("AT&F\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT\r"), r"AT\r\r\nOK\r\n", "AT&F: factory echo");
    assert_eq!(b.host("AT&W1\r"), r"AT&W1\r\r\nERROR\r\n");
    b.host("AT+CMEE=1\r");
    assert_eq!(
        b.host("AT&W1\r"),
        r"AT&W1\r\r\n+CME ERROR: 50\r\n",
        "bad-param"
    );
    b.host("AT+CMEE=0\r");
    assert_eq!(
        b.host("AT+ICF=2,2;+CSCLK=0;+IFC=0,0\r"),
        r"AT+ICF=2,2;+CSCLK=0;+IFC=0,0\r\r\nOK\r\n"
    );
}

#[test]
fn s0_1_forms_a_command_does_not_list_are_bad_param() {
    let mut b = Bench::quiet();
    b.host("AT+CMEE=1\r");
    for cmd in [
        "AT+CRESET?",
        "AT+CRESET=1",
        "AT+CPOF?",
        "AT+CFUN",
        "AT+CIMI=1",
        "AT+CSPN",
        "AT+CNUM?",
        "AT+CCLK",
        "AT+CBC?",
        "AT+CPMUTEMP?",
        "AT+CTZU",
        "AT+CGATT",
        "AT+CGACT",
        "AT+CGPADDR?",
        "AT+CSOCKSETPN",
        "AT+CTCPKA",
        "AT+CDNSCFG",
        "AT+CNMP",
        "AT+CNSMOD",
        "AT+COPS",
        "AT+AUTOCSQ",
        "AT+ICF",
        "AT+CPING",
        "AT+CPING?",
        "AT+CPINGSTOP?",
    ] {
        assert_eq!(
            b.host(format!("{cmd}\r")),
            r"\r\n+CME ERROR: 50\r\n",
            "{cmd}"
        );
    }
    // In neither manual, every form: unknown at once.
    for cmd in ["AT+CNTPCID", "AT+CNTPCID=1", "AT+CNTPCID?", "AT+CNTPCID=?"] {
        assert_eq!(
            b.host(format!("{cmd}\r")),
            r"\r\n+CME ERROR: 100\r\n",
            "{cmd}"
        );
    }
    b.expect_answers(&[
        ("AT+CPINGSTOP=?", r"\r\nOK\r\n"),
        ("AT+CTZR", r"\r\nOK\r\n"),
    ]);
    let mut b = Bench::a76xx();
    b.expect_answers(&[(
        "AT+CPING=?",
        r"\r\n+CPING: IP address,(1,2),(1-5),(4-188),(1000-10000),(10000-100000),(16-255)\r\n\r\nOK\r\n",
    )]);
}

#[test]
fn s3_1_the_runtime_tells_the_hosts_utc_as_an_input() {
    let mut b = Bench::quiet();
    b.advance(Duration::from_secs(10));
    // 2001-09-09 01:46:40 UTC at t = 10 s.
    b.modem
        .handle(b.now, at7600_core::Input::WallClock(1_000_000_000_000));
    b.advance(Duration::from_secs(2));
    assert_eq!(
        b.host("AT+CCLK?\r"),
        r#"\r\n+CCLK: "01/09/09,09:46:42+32"\r\n\r\nOK\r\n"#
    );
}
