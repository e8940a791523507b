//! `more-commands.md` §5: the packet domain's general commands and the one truth behind
//! them — PDP context 1 is active exactly while the radio is on, registered and
//! attached, and AT+NETOPEN needs it.
mod common;
use at7600_core::{Keepalive, ModemConfig, NetCommand, NetEvent};
use common::Bench;

#[test]
fn s5_2_cgatt_detach_and_attach() {
    let mut b = Bench::quiet();
    b.netopen();
    // TinyGSM A7672X's disconnect: NETCLOSE, then CGATT=0.
    b.host("AT+NETCLOSE\r");
    assert_eq!(b.host("AT+CGATT=0\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CGATT?\r"), r"\r\n+CGATT: 0\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CGACT?\r"), r"\r\n+CGACT: 1,0\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+NETOPEN\r"), r"\r\nOK\r\n\r\n+NETOPEN: 1\r\n");
    assert_eq!(b.host("AT+CGATT=1\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+CGATT=1\r"),
        r"\r\nOK\r\n",
        "the current value again"
    );
    b.netopen();
    assert_eq!(
        b.host("AT+CGATT=0\r"),
        r"\r\nOK\r\n\r\n+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY\r\n",
        "detaching loses the open network"
    );
}

#[test]
fn s5_3_cgact_as_the_a7672x_and_lilygo_drivers_send_it() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CGDCONT=1,\"IP\",\"cmnet\"\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CGACT=1,1\r"), r"\r\nOK\r\n", "already active");
    b.host("AT+CGATT=0\r");
    assert_eq!(b.host("AT+CGACT=1,1\r"), r"\r\nOK\r\n", "attaches");
    assert_eq!(b.host("AT+CGATT?\r"), r"\r\n+CGATT: 1\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CGACT=0,1\r"), r"\r\nERROR\r\n", "default bearer");
    b.host("AT+CGDCONT=3,\"IP\",\"ims\"\r");
    assert_eq!(b.host("AT+CGACT=1,3\r"), r"\r\nOK\r\n");
    assert_eq!(
        b.host("AT+CGACT?\r"),
        r"\r\n+CGACT: 1,1\r\n+CGACT: 3,1\r\n\r\nOK\r\n"
    );
    assert_eq!(b.host("AT+CGACT=0,3\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CGACT=1,2\r"), r"\r\nERROR\r\n", "undefined cid");
    assert_eq!(b.host("AT+CGACT=1,25\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CGACT\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CFUN=0\r"), r"\r\nOK\r\n");
    b.host("AT+CMEE=1\r");
    assert_eq!(
        b.host("AT+CGACT=1,1\r"),
        r"\r\n+CME ERROR: 3\r\n",
        "radio off"
    );
}

#[test]
fn s5_4_cgpaddr_unquoted_per_defined_context() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CGPADDR=1\r"),
        r"\r\n+CGPADDR: 1,10.148.0.17\r\n\r\nOK\r\n"
    );
    b.host("AT+CGDCONT=3,\"IP\",\"ims\"\r");
    assert_eq!(
        b.host("AT+CGPADDR=?\r"),
        r"\r\n+CGPADDR: (1,3)\r\n\r\nOK\r\n"
    );
    assert_eq!(
        b.host("AT+CGPADDR\r"),
        r"\r\n+CGPADDR: 1,10.148.0.17\r\n+CGPADDR: 3,0.0.0.0\r\n\r\nOK\r\n"
    );
    assert_eq!(
        b.host("AT+CGPADDR=3,1\r"),
        r"\r\n+CGPADDR: 3,0.0.0.0\r\n+CGPADDR: 1,10.148.0.17\r\n\r\nOK\r\n"
    );
    assert_eq!(b.host("AT+CGPADDR=2\r"), r"\r\nERROR\r\n");
    let mut config = ModemConfig::default();
    config.network.ip_address = "10.0.0.9".parse().expect("ip");
    let mut b = Bench::new(config);
    b.host("ATE0\r");
    assert_eq!(
        b.host("AT+CGPADDR=1\r"),
        r"\r\n+CGPADDR: 1,10.0.0.9\r\n\r\nOK\r\n"
    );
}

#[test]
fn s5_5_cgauth_password_before_user() {
    let mut b = Bench::quiet();
    for cmd in [
        r#"AT+CGAUTH=1,0,"pwd","user""#,
        r#"AT+CGAUTH=1,0,"user","pwd""#,
        r#"AT+CGAUTH=1,1,"pass","user""#,
    ] {
        assert_eq!(b.host(format!("{cmd}\r")), r"\r\nOK\r\n", "{cmd}");
    }
    assert_eq!(
        b.host("AT+CGAUTH?\r"),
        r#"\r\n+CGAUTH: 1,1,"user","pass"\r\n\r\nOK\r\n"#
    );
    assert_eq!(b.host("AT+CGAUTH\r"), r"\r\nOK\r\n", "no change");
    assert_eq!(b.host("AT+CGAUTH=1\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CGAUTH?\r"), r"\r\n+CGAUTH: 1,0\r\n\r\nOK\r\n");
    assert_eq!(b.host("AT+CGAUTH=1,4\r"), r"\r\nERROR\r\n");
    let long = "x".repeat(128);
    assert_eq!(
        b.host(format!("AT+CGAUTH=1,1,\"{long}\"\r")),
        r"\r\nERROR\r\n"
    );
}

#[test]
fn s5_6_csocksetpn_after_netopen_accepts_the_current_value() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CSOCKSETPN=1\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CSOCKSETPN=2,1\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CSOCKSETPN=1,6\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CSOCKSETPN=25\r"), r"\r\nERROR\r\n");
    b.host("AT+CSOCKSETPN=1\r");
    b.netopen();
    assert_eq!(b.host("AT+CSOCKSETPN=1\r"), r"\r\nOK\r\n", "RT-Thread");
    assert_eq!(b.host("AT+CSOCKSETPN=2\r"), r"\r\nERROR\r\n");
}

#[test]
fn s5_7_ctcpka_applies_to_links_opened_afterwards() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CTCPKA=1,2,5,1\r"),
        r"\r\nOK\r\n",
        "before NETOPEN"
    );
    assert_eq!(
        b.host("AT+CTCPKA?\r"),
        r"\r\n+CTCPKA: 1,2,5,1\r\n\r\nOK\r\n"
    );
    assert_eq!(b.host("AT+CTCPKA=1,30,3\r"), r"\r\nOK\r\n", "interval kept");
    assert_eq!(
        b.host("AT+CTCPKA?\r"),
        r"\r\n+CTCPKA: 1,30,3,1\r\n\r\nOK\r\n"
    );
    for bad in ["1,0,5", "1,121,5", "1,2,11", "1,2,5,101", "2,2,5", "1,2"] {
        assert_eq!(
            b.host(format!("AT+CTCPKA={bad}\r")),
            r"\r\nERROR\r\n",
            "{bad}"
        );
    }
    b.netopen();
    b.open_tcp(0);
    let keepalive = b.log.iter().find_map(|c| match c {
        NetCommand::Open { options, .. } => Some(options.keepalive),
        _ => None,
    });
    assert_eq!(
        keepalive,
        Some(Some(Keepalive {
            enabled: true,
            idle_min: 30,
            count: 3,
            interval_min: 1
        }))
    );
}

#[test]
fn s5_7_the_a7670e_quirk_refuses_ctcpka_before_netopen() {
    let mut config = ModemConfig::default();
    config.quirks.ctcpka_error_before_netopen = true;
    let mut b = Bench::new(config);
    b.host("ATE0\r");
    assert_eq!(b.host("AT+CTCPKA=1,2,5,1\r"), r"\r\nERROR\r\n");
    b.netopen();
    assert_eq!(b.host("AT+CTCPKA=1,2,5,1\r"), r"\r\nOK\r\n");
}

#[test]
fn s5_8_cdnscfg_quoted_or_not_and_the_ipv6_pair() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CDNSCFG=\"8.8.8.8\",\"8.8.4.4\"\r"),
        r"\r\nOK\r\n"
    );
    assert_eq!(
        b.host("AT+CDNSCFG?\r"),
        r"\r\nPrimary IPv4 DNS: 8.8.8.8,Secondary IPv4 DNS: 8.8.4.4\r\nPrimary IPv6 DNS: ::,Secondary IPv6 DNS: ::\r\n\r\nOK\r\n"
    );
    assert_eq!(
        b.host("AT+CDNSCFG=1.1.1.1\r"),
        r"\r\nOK\r\n",
        "secondary kept"
    );
    assert_eq!(
        b.host("AT+CDNSCFG=183.230.126.224,183.230.126.225,0\r"),
        r"\r\nOK\r\n"
    );
    assert_eq!(
        b.host("AT+CDNSCFG=\"2001:4860:4860::8888\",\"2001:4860:4860::8844\",1\r"),
        r"\r\nOK\r\n"
    );
    assert_eq!(
        b.host("AT+CDNSCFG?\r"),
        r"\r\nPrimary IPv4 DNS: 183.230.126.224,Secondary IPv4 DNS: 183.230.126.225\r\nPrimary IPv6 DNS: 2001:4860:4860::8888,Secondary IPv6 DNS: 2001:4860:4860::8844\r\n\r\nOK\r\n"
    );
    for bad in [r#""8.8.8.8","::1""#, r#""::1""#, r#""8.8.8.8",,2"#, "x"] {
        assert_eq!(
            b.host(format!("AT+CDNSCFG={bad}\r")),
            r"\r\nERROR\r\n",
            "{bad}"
        );
    }
}

#[test]
fn s5_1_a_radio_fault_to_not_registered_loses_the_network_and_netopen_fails() {
    let mut b = Bench::quiet();
    b.netopen();
    b.open_tcp(1);
    assert_eq!(
        b.radio(|r| r.reg_status = 2),
        r"\r\n+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY\r\n"
    );
    assert_eq!(b.host("AT+NETOPEN?\r"), r"\r\n+NETOPEN: 0\r\n\r\nOK\r\n");
    assert_eq!(
        b.host("AT+IPADDR\r"),
        r"\r\n+IP ERROR: Network not opened\r\n\r\nERROR\r\n"
    );
    assert_eq!(b.host("AT+CGATT?\r"), r"\r\n+CGATT: 0\r\n\r\nOK\r\n");
    b.log.clear();
    assert_eq!(b.host("AT+NETOPEN\r"), r"\r\nOK\r\n\r\n+NETOPEN: 1\r\n");
    assert!(!b.log.contains(&NetCommand::Attach), "{:?}", b.log);
    // The radio back: the host closes the broken link and opens the network again.
    assert_eq!(b.radio(|r| r.reg_status = 1), "");
    assert_eq!(
        b.host("AT+CIPCLOSE=1\r"),
        r"\r\nOK\r\n\r\n+CIPCLOSE: 1,0\r\n"
    );
    b.netopen();
}

#[test]
fn s5_1_a_network_lost_fault_is_one_state_everywhere() {
    let mut b = Bench::quiet();
    b.netopen();
    b.event(NetEvent::NetworkLost);
    let expect = [
        ("AT+NETOPEN?", r"\r\n+NETOPEN: 0\r\n\r\nOK\r\n"),
        (
            "AT+IPADDR",
            r"\r\n+IP ERROR: Network not opened\r\n\r\nERROR\r\n",
        ),
    ];
    b.expect_answers(&expect);
    assert!(!b.modem.status().network_open);
    b.netopen();
    assert!(b.modem.status().network_open);
}
