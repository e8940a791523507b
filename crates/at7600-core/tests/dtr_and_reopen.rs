//! DTR in command mode follows `AT&D`, and a network lost unexpectedly can be opened
//! again (manual §2.1: "the network closed abnormally" answers OK, then `+NETOPEN:`).
mod common;
use at7600_core::NetEvent;
use common::Bench;
use std::time::Duration;

#[test]
fn with_d0_dtr_off_leaves_a_half_typed_line_alone() {
    let mut b = Bench::default();
    b.host("ATE0&D0\r");
    b.host("AT+CS");
    assert_eq!(b.dtr(false), "");
    b.dtr(true);
    assert_eq!(b.host("Q\r"), "\\r\\n+CSQ: 25,99\\r\\n\\r\\nOK\\r\\n");
}

#[test]
fn with_d1_dtr_off_discards_a_half_typed_line() {
    let mut b = Bench::default();
    b.host("ATE0\r");
    b.host("AT+CS");
    b.dtr(false);
    b.dtr(true);
    assert_eq!(b.host("Q\r"), "");
    assert_eq!(b.host("AT\r"), "\\r\\nOK\\r\\n");
}

#[test]
fn with_d2_dtr_off_in_command_mode_closes_the_kept_transparent_link() {
    let mut b = Bench::default();
    b.host("ATE0;+CIPMODE=1;+NETOPEN\r");
    b.host("AT+CIPOPEN=0,\"TCP\",\"117.131.85.139\",5253\r");
    b.advance(Duration::from_secs(1));
    b.host("+++");
    assert_eq!(b.advance(Duration::from_secs(1)), "\\r\\nOK\\r\\n");
    b.host("AT&D2\r");
    assert_eq!(b.dtr(false), "\\r\\n+IPCLOSE: 0,2\\r\\n");
    b.dtr(true);
    assert_eq!(b.host("ATO\r"), "\\r\\nERROR\\r\\n");
}

#[test]
fn a_lost_network_can_be_opened_again_and_its_broken_links_still_closed() {
    let mut b = Bench::default();
    b.host("ATE0;+NETOPEN\r");
    b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r");
    assert_eq!(
        b.event(NetEvent::NetworkLost),
        "\\r\\n+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY\\r\\n"
    );
    // One truth: a lost network is not open, for AT+NETOPEN? as for AT+IPADDR.
    assert_eq!(
        b.host("AT+NETOPEN?\r"),
        "\\r\\n+NETOPEN: 0\\r\\n\\r\\nOK\\r\\n"
    );
    assert_eq!(
        b.host("AT+IPADDR\r"),
        "\\r\\n+IP ERROR: Network not opened\\r\\n\\r\\nERROR\\r\\n"
    );
    assert_eq!(
        b.host("AT+NETOPEN\r"),
        "\\r\\nOK\\r\\n\\r\\n+NETOPEN: 0\\r\\n"
    );
    // The broken link is not established but still taken until the host closes it.
    let out = b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r");
    assert_eq!(out, "\\r\\n+CIPOPEN: 1,4\\r\\n\\r\\nERROR\\r\\n");
    assert_eq!(
        b.host("AT+CIPCLOSE=1\r"),
        "\\r\\nOK\\r\\n\\r\\n+CIPCLOSE: 1,0\\r\\n"
    );
    let out = b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r");
    assert_eq!(out, "\\r\\nOK\\r\\n\\r\\n+CIPOPEN: 1,0\\r\\n");
}
