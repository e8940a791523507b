//! `AT+CDNSGIP` (manual §2.17; clarifications §3).
mod common;
use at7600_core::{NetCommand, NetEvent};
use common::Bench;

#[test]
fn cdnsgip_test_form_is_ok() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CDNSGIP=?\r"), r"\r\nOK\r\n");
}

#[test]
fn cdnsgip_resolves_with_both_fields_quoted() {
    let mut b = Bench::quiet();
    b.netopen();
    assert_eq!(
        b.host("AT+CDNSGIP=\"www.baidu.com\"\r"),
        r#"\r\n+CDNSGIP: 1,"www.baidu.com","61.135.169.121"\r\n\r\nOK\r\n"#
    );
}

#[test]
fn cdnsgip_unknown_name_is_cdnsgip_0_10_error() {
    let mut b = Bench::quiet();
    b.netopen();
    assert_eq!(
        b.host("AT+CDNSGIP=\"nowhere.test\"\r"),
        r"\r\n+CDNSGIP: 0,10\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cdnsgip_waits_for_the_resolver() {
    let mut b = Bench::quiet();
    b.netopen();
    b.auto = false;
    assert_eq!(b.host("AT+CDNSGIP=\"www.baidu.com\"\r"), "");
    let Some(NetCommand::Resolve { query, name, .. }) = b.pending.pop_front() else {
        panic!("no Resolve")
    };
    assert_eq!(name, "www.baidu.com");
    assert_eq!(
        b.event(NetEvent::Resolved {
            query,
            addr: Some("1.2.3.4".parse().expect("ip"))
        }),
        r#"\r\n+CDNSGIP: 1,"www.baidu.com","1.2.3.4"\r\n\r\nOK\r\n"#
    );
}

#[test]
fn cdnsgip_before_netopen_is_cdnsgip_0_10_error() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CDNSGIP=\"www.baidu.com\"\r"),
        r"\r\n+CDNSGIP: 0,10\r\n\r\nERROR\r\n"
    );
}

#[test]
fn cdnsgip_ip_literal_answers_itself() {
    let mut b = Bench::quiet();
    b.netopen();
    assert_eq!(
        b.host("AT+CDNSGIP=\"1.2.3.4\"\r"),
        r#"\r\n+CDNSGIP: 1,"1.2.3.4","1.2.3.4"\r\n\r\nOK\r\n"#
    );
}

#[test]
fn cdnsgip_invalid_names_are_error() {
    let mut b = Bench::quiet();
    b.netopen();
    let long_label = format!("\"{}.com\"", "a".repeat(64));
    let long_name = format!("\"{}\"", ["abc"; 64].join("."));
    for bad in [
        "\"\"",
        "\"-bad.com\"",
        "\"a_b.com\"",
        "\"a..b\"",
        "\"a b\"",
        long_label.as_str(),
        long_name.as_str(),
    ] {
        assert_eq!(
            b.host(format!("AT+CDNSGIP={bad}\r")),
            r"\r\nERROR\r\n",
            "{bad}"
        );
    }
    assert!(b
        .log
        .iter()
        .all(|c| !matches!(c, NetCommand::Resolve { .. })));
}

#[test]
fn cdnsgip_read_and_execute_forms_are_error() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CDNSGIP\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CDNSGIP?\r"), r"\r\nERROR\r\n");
}

/// After `AT+CDNSCFG` (more-commands.md §5.6), lookups go to the servers the host
/// wrote: `AT+CDNSGIP` and a link opened to a name both carry them; before it, the
/// network's own resolver answers (the configured pair is only what the read shows).
#[test]
fn cdnscfg_servers_go_with_every_lookup() {
    let mut b = Bench::quiet();
    b.netopen();
    b.auto = false;
    b.host("AT+CDNSGIP=\"www.baidu.com\"\r");
    let Some(NetCommand::Resolve { query, servers, .. }) = b.pending.pop_front() else {
        panic!("no Resolve")
    };
    assert_eq!(servers, None);
    b.event(NetEvent::Resolved { query, addr: None });
    b.host("AT+CDNSCFG=\"10.0.0.53\",\"10.0.0.54\"\r");
    b.host("AT+CIPOPEN=1,\"TCP\",\"broker.example\",1883\r");
    let Some(NetCommand::Open { options, .. }) = b.pending.pop_front() else {
        panic!("no Open")
    };
    let chosen = [
        "10.0.0.53".parse().expect("ip"),
        "10.0.0.54".parse().expect("ip"),
    ];
    assert_eq!(options.dns, Some(chosen));
    b.host("AT+CDNSGIP=\"www.baidu.com\"\r");
    let Some(NetCommand::Resolve { servers, .. }) = b.pending.pop_front() else {
        panic!("no Resolve")
    };
    assert_eq!(servers, Some(chosen));
}
