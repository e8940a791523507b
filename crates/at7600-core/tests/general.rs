//! The general commands drivers send around the TCP/IP set (clarifications §1, §8;
//! behaviour.md "General commands" and "Line discipline").
mod common;
use common::Bench;

fn ask(cmd: &str) -> String {
    Bench::quiet().host(format!("{cmd}\r"))
}

#[test]
fn at_is_ok_with_echo() {
    assert_eq!(Bench::default().host("AT\r"), r"AT\r\r\nOK\r\n");
}

#[test]
fn ate0_stops_echo_and_ate1_restores_it() {
    let mut b = Bench::default();
    assert_eq!(b.host("ATE0\r"), r"ATE0\r\r\nOK\r\n");
    assert_eq!(b.host("AT\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("ATE1\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT\r"), r"AT\r\r\nOK\r\n");
}

#[test]
fn atv0_uses_numeric_final_codes() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("ATV0\r"), r"0\r");
    assert_eq!(b.host("AT\r"), r"0\r");
    assert_eq!(b.host("AT+NOPE\r"), r"4\r");
    assert_eq!(b.host("AT+CSQ\r"), r"+CSQ: 25,99\r\n0\r");
    assert_eq!(b.host("ATV1\r"), r"\r\nOK\r\n");
}

#[test]
fn atv0_with_echo() {
    let mut b = Bench::default();
    b.host("ATV0\r");
    assert_eq!(b.host("AT\r"), r"AT\r0\r");
}

#[test]
fn atv0_ip_error_is_text_then_4() {
    let mut b = Bench::quiet();
    b.host("ATV0\r");
    assert_eq!(
        b.host("AT+IPADDR\r"),
        r"+IP ERROR: Network not opened\r\n4\r"
    );
}

#[test]
fn atq1_suppresses_result_codes() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("ATQ1\r"), "");
    assert_eq!(b.host("AT\r"), "");
    assert_eq!(b.host("AT+CSQ\r"), r"\r\n+CSQ: 25,99\r\n");
    assert_eq!(b.host("ATQ0\r"), r"\r\nOK\r\n");
}

#[test]
fn ati_prints_identity() {
    assert_eq!(
        ask("ATI"),
        r"\r\nManufacturer: SUNSEA AIOT\r\nModel: AT7600\r\nRevision: AT7600M21_V1.0\r\nIMEI: 867584030012347\r\n+GCAP: +CGSM\r\n\r\nOK\r\n"
    );
}

#[test]
fn cgmi_cgmm_cgmr_cgsn_ciccid() {
    assert_eq!(ask("AT+CGMI"), r"\r\nSUNSEA AIOT\r\n\r\nOK\r\n");
    assert_eq!(ask("AT+CGMM"), r"\r\nAT7600\r\n\r\nOK\r\n");
    assert_eq!(ask("AT+CGMR"), r"\r\n+CGMR: AT7600M21_V1.0\r\n\r\nOK\r\n");
    assert_eq!(ask("AT+CGSN"), r"\r\n867584030012347\r\n\r\nOK\r\n");
    assert_eq!(
        ask("AT+CICCID"),
        r"\r\n+ICCID: 89860012345678901234\r\n\r\nOK\r\n"
    );
}

#[test]
fn identity_is_configurable() {
    let mut cfg = at7600_core::ModemConfig::default();
    cfg.identity.imei = "123456789012345".into();
    cfg.radio.rssi = 17;
    let mut b = Bench::new(cfg);
    b.host("ATE0\r");
    assert_eq!(b.host("AT+CGSN\r"), r"\r\n123456789012345\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CSQ\r"), r"\r\n+CSQ: 17,99\r\n\r\nOK\r\n");
}

#[test]
fn cpin_is_ready() {
    assert_eq!(ask("AT+CPIN?"), r"\r\n+CPIN: READY\r\n\r\nOK\r\n");
}

#[test]
fn csq_reports_signal() {
    assert_eq!(ask("AT+CSQ"), r"\r\n+CSQ: 25,99\r\n\r\nOK\r\n");
}

#[test]
fn creg_cgreg_cereg_read_registered_home() {
    assert_eq!(ask("AT+CREG?"), r"\r\n+CREG: 0,1\r\n\r\nOK\r\n");
    assert_eq!(ask("AT+CGREG?"), r"\r\n+CGREG: 0,1\r\n\r\nOK\r\n");
    assert_eq!(ask("AT+CEREG?"), r"\r\n+CEREG: 0,1\r\n\r\nOK\r\n");
}

#[test]
fn creg_2_adds_lac_and_cell_id_in_hex() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CREG=2\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+CREG?\r"),
        r#"\r\n+CREG: 2,1,"1816","01A50B0B"\r\n\r\nOK\r\n"#
    );
    // more-commands.md §6.4: the SIM7600 personality ends AT+CEREG? with the AcT.
    b.host("AT+CEREG=2\r");
    assert_eq!(
        b.host("AT+CEREG?\r"),
        r#"\r\n+CEREG: 2,1,"1816","01A50B0B",7\r\n\r\nOK\r\n"#
    );
    assert_eq!(b.host("AT+CGREG=3\r"), r"\r\nERROR\r\n");
}

#[test]
fn cpsi_reports_lte_online() {
    assert_eq!(
        ask("AT+CPSI?"),
        r"\r\n+CPSI: LTE,Online,460-00,0x1816,27593483,139,EUTRAN-BAND39,38400,5,5,-88,-868,-578,18\r\n\r\nOK\r\n"
    );
}

#[test]
fn cgatt_read_and_write() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CGATT?\r"), r"\r\n+CGATT: 1\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CGATT=1\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CGATT=2\r"), r"\r\nERROR\r\n");
}

#[test]
fn cops_read_names_the_operator() {
    assert_eq!(
        ask("AT+COPS?"),
        r#"\r\n+COPS: 0,0,"CHINA MOBILE",7\r\n\r\nOK\r\n"#
    );
}

#[test]
fn cgdcont_accepts_the_extra_fields() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CGDCONT=1,\"IP\",\"CMNET\"\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+CGDCONT=1,\"IP\",\"CMNET\",\"0.0.0.0\",0,0\r"),
        r"\r\nOK\r\n"
    );
    assert_eq!(
        b.host("AT+CGDCONT?\r"),
        r#"\r\n+CGDCONT: 1,"IP","CMNET","0.0.0.0",0,0\r\n\r\nOK\r\n"#
    );
    assert_eq!(b.host("AT+CGDCONT=1,\"XX\",\"CMNET\"\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CGDCONT=0,\"IP\",\"CMNET\"\r"), r"\r\nERROR\r\n");
}

#[test]
fn cgsockcont_csocksetpn_cgauth() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CGSOCKCONT=1,\"IP\",\"CMNET\"\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CSOCKSETPN=1\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+CSOCKSETPN?\r"),
        r"\r\n+CSOCKSETPN: 1\r\n\r\nOK\r\n"
    );
    assert_eq!(b.host("AT+CSOCKSETPN=25\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CGAUTH=1,1,\"pass\",\"user\"\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CGAUTH=1,4\r"), r"\r\nERROR\r\n");
}

#[test]
fn cmee_0_unknown_command_is_error() {
    let mut b = Bench::quiet();
    b.host("AT+CMEE=0\r");
    assert_eq!(b.host("AT+FOO\r"), r"\r\nERROR\r\n");
}

#[test]
fn cmee_1_unknown_command_is_cme_error_100() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CMEE=1\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+FOO\r"), r"\r\n+CME ERROR: 100\r\n");
    assert_eq!(b.host("AT+CGATT=7\r"), r"\r\n+CME ERROR: 50\r\n");
}

#[test]
fn cmee_2_unknown_command_is_cme_error_unknown() {
    let mut b = Bench::quiet();
    b.host("AT+CMEE=2\r");
    assert_eq!(b.host("AT+CMEE?\r"), r"\r\n+CMEE: 2\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+FOO\r"), r"\r\n+CME ERROR: unknown\r\n");
    assert_eq!(
        b.host("AT+CGATT=7\r"),
        r"\r\n+CME ERROR: Incorrect parameters\r\n"
    );
}

#[test]
fn cmee_keeps_tcpip_error_lines_with_plain_error() {
    let mut b = Bench::quiet();
    b.host("AT+CMEE=2\r");
    assert_eq!(
        b.host("AT+IPADDR\r"),
        r"\r\n+IP ERROR: Network not opened\r\n\r\nERROR\r\n"
    );
}

#[test]
fn ctzr_and_ctzu() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CTZR=1\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CTZR?\r"), r"\r\n+CTZR: 1\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CTZU=1\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CTZU?\r"), r"\r\n+CTZU: 1\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CTZU=2\r"), r"\r\nERROR\r\n");
}

#[test]
fn cfun_0_takes_the_radio_down() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CFUN=0\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CSQ\r"), r"\r\n+CSQ: 99,99\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CREG?\r"), r"\r\n+CREG: 0,0\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CFUN=1\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CFUN?\r"), r"\r\n+CFUN: 1\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CSQ\r"), r"\r\n+CSQ: 25,99\r\n\r\nOK\r\n");
}

#[test]
fn and_d_and_f_z_x_and_e_are_ok() {
    for cmd in [
        "AT&D0", "AT&D1", "AT&D2", "AT&F", "ATZ", "ATX4", "ATX0", "AT&E0", "AT&E1",
    ] {
        assert_eq!(ask(cmd), r"\r\nOK\r\n", "{cmd}");
    }
    assert_eq!(ask("AT&D3"), r"\r\nERROR\r\n");
}

#[test]
fn atz_restores_echo_and_verbose() {
    let mut b = Bench::quiet();
    b.host("ATV0\r");
    // Echo was off while ATZ was typed; its result is already verbose.
    assert_eq!(b.host("ATZ\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT\r"), r"AT\r\r\nOK\r\n");
}

#[test]
fn ato_without_a_transparent_link_is_error() {
    assert_eq!(ask("ATO"), r"\r\nERROR\r\n");
}

#[test]
fn unknown_command_is_error() {
    assert_eq!(ask("AT+XYZZY"), r"\r\nERROR\r\n");
    assert_eq!(ask("AT+XYZZY?"), r"\r\nERROR\r\n");
}

#[test]
fn s0_is_read_write() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("ATS0?\r"), r"\r\n000\r\n\r\nOK\r\n");
    assert_eq!(b.host("ATS0=3\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("ATS0?\r"), r"\r\n003\r\n\r\nOK\r\n");
    assert_eq!(b.host("ATS0=256\r"), r"\r\nERROR\r\n");
}

#[test]
fn s3_s4_s5_read_fixed_values_and_accept_only_those() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("ATS3?\r"), r"\r\n013\r\n\r\nOK\r\n");
    assert_eq!(b.host("ATS4?\r"), r"\r\n010\r\n\r\nOK\r\n");
    assert_eq!(b.host("ATS5?\r"), r"\r\n008\r\n\r\nOK\r\n");
    assert_eq!(b.host("ATS3=13\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("ATS3=10\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("ATS4=13\r"), r"\r\nERROR\r\n");
}
