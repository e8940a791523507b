//! `ssl.md` §4: `AT+CCERTDOWN`, `AT+CCERTLIST`, `AT+CCERTDELE`, `AT+CCERTMOVE`, and the
//! store's limits and lifetime.

mod common;
use at7600_core::{CertFile, Input, StoreChange};
use common::Bench;
use std::time::Duration;

fn drain_store(b: &mut Bench) -> Vec<StoreChange> {
    std::iter::from_fn(|| b.modem.poll_store())
        .take(1000)
        .collect()
}

#[test]
fn download_is_byte_for_byte_and_no_byte_is_special() {
    let mut b = Bench::quiet();
    let data = b"\x1a\x1b+++\r\nAT\r\x00\xff";
    assert_eq!(b.host("AT+CCERTDOWN=\"raw.der\",12\r\n"), r"\r\n>");
    // Sent in pieces: any pacing is accepted.
    assert_eq!(b.host(&data[..4]), "");
    assert_eq!(b.host(&data[4..]), r"\r\nOK\r\n");
    assert_eq!(
        drain_store(&mut b),
        vec![StoreChange::Put(CertFile {
            name: "raw.der".into(),
            data: data.to_vec()
        })]
    );
}

#[test]
fn a_file_of_the_same_name_is_replaced() {
    let mut b = Bench::quiet();
    b.cert("ca.pem", b"first");
    b.cert("ca.pem", b"second!");
    b.expect_answers(&[("AT+CCERTLIST", r#"\r\n+CCERTLIST: "ca.pem"\r\n\r\nOK\r\n"#)]);
    let changes = drain_store(&mut b);
    assert_eq!(changes.len(), 1, "the older change is superseded");
    assert_eq!(
        changes[0],
        StoreChange::Put(CertFile {
            name: "ca.pem".into(),
            data: b"second!".to_vec()
        })
    );
}

#[test]
fn list_in_byte_order_with_non_ascii_names() {
    let mut b = Bench::quiet();
    b.expect_answers(&[("AT+CCERTLIST", r"\r\nOK\r\n")]);
    b.cert("b.pem.der", b"x");
    b.cert("A.PEM", b"x");
    assert_eq!(
        b.host("AT+CCERTDOWN={non-ascii}\"E4B8ADE58D8E2E70656D\",1\r"),
        r"\r\n>"
    );
    assert_eq!(b.host("x"), r"\r\nOK\r\n");
    b.expect_answers(&[
        (
            "AT+CCERTLIST",
            r#"\r\n+CCERTLIST: "A.PEM"\r\n+CCERTLIST: "b.pem.der"\r\n+CCERTLIST: "&#x4E2D;&#x534E;.pem"\r\n\r\nOK\r\n"#,
        ),
        ("AT+CCERTLIST=?", r"\r\nOK\r\n"),
        ("AT+CCERTDELE={non-ascii}\"e4b8ade58d8e2e70656d\"", r"\r\nOK\r\n"),
        ("AT+CCERTDELE=A.PEM", r"\r\nOK\r\n"),
        ("AT+CCERTDELE=\"A.PEM\"", r"\r\nERROR\r\n"),
        ("AT+CCERTDELE=?", r"\r\nOK\r\n"),
        (
            "AT+CCERTLIST",
            r#"\r\n+CCERTLIST: "b.pem.der"\r\n\r\nOK\r\n"#,
        ),
    ]);
}

#[test]
fn refusals_give_no_prompt() {
    let mut b = Bench::quiet();
    b.host("AT+CMEE=2\r");
    b.expect_errors(&[
        "AT+CCERTDOWN=\"ca.pem\",0",
        "AT+CCERTDOWN=\"ca.pem\",10241",
        "AT+CCERTDOWN=\"ca.txt\",10",
        "AT+CCERTDOWN=\"a/b.pem\",10",
        "AT+CCERTDOWN=\"a\\b.pem\",10",
        "AT+CCERTDOWN=\".pem\",10",
        "AT+CCERTDOWN=\"ca.pem\"",
        "AT+CCERTDOWN=\"ca.pem\",1,2",
        "AT+CCERTDOWN",
        "AT+CCERTDOWN?",
        "AT+CCERTLIST?",
        "AT+CCERTDELE",
    ]);
    assert!(drain_store(&mut b).is_empty());
}

#[test]
fn test_forms_per_personality() {
    let mut b = Bench::quiet();
    b.expect_answers(&[
        (
            "AT+CCERTDOWN=?",
            r"\r\n+CCERTDOWN: (5-128),(1-10240)\r\n\r\nOK\r\n",
        ),
        (
            "AT+CCERTMOVE=?",
            r#"\r\n+CCERTMOVE: "FILENAME"\r\n\r\nOK\r\n"#,
        ),
        ("AT+CCERTMOVE=\"ca.pem\"", r"\r\nERROR\r\n"),
    ]);
    let mut b = Bench::a76xx();
    b.expect_answers(&[(
        "AT+CCERTDOWN=?",
        r"\r\n+CCERTDOWN: (5-108),(1-10240)\r\n\r\nOK\r\n",
    )]);
}

#[test]
fn the_store_holds_64_files() {
    let mut b = Bench::quiet();
    for i in 0..64 {
        b.cert(&format!("f{i:02}.pem"), b"x");
    }
    b.expect_answers(&[("AT+CCERTDOWN=\"f64.pem\",1", r"\r\nERROR\r\n")]);
    // Replacing a file does not add one.
    b.cert("f00.pem", b"y");
    b.expect_answers(&[("AT+CCERTDELE=\"f63.pem\"", r"\r\nOK\r\n")]);
    // 64 files of at most 10240 bytes are 640 KiB: the 1 MiB limit never binds first.
    b.expect_answers(&[("AT+CCERTDOWN=\"f64.pem\",10240", r"\r\n>")]);
    assert_eq!(b.host(vec![b'z'; 10240]), r"\r\nOK\r\n");
}

#[test]
fn incomplete_download_times_out_after_120_s() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CCERTDOWN=\"ca.pem\",10\r"), r"\r\n>");
    assert_eq!(b.host("12345"), "");
    assert_eq!(b.advance(Duration::from_secs(119)), "");
    assert_eq!(b.advance(Duration::from_secs(1)), r"\r\nERROR\r\n");
    b.expect_answers(&[("AT+CCERTLIST", r"\r\nOK\r\n")]);
    assert!(drain_store(&mut b).is_empty());
}

#[test]
fn dtr_off_during_the_payload_abandons_it() {
    let mut b = Bench::quiet();
    b.host("AT&D1\r");
    assert_eq!(b.host("AT+CCERTDOWN=\"ca.pem\",10\r"), r"\r\n>");
    assert_eq!(b.host("12345"), "");
    assert_eq!(b.dtr(false), r"\r\nERROR\r\n");
    b.dtr(true);
    b.expect_answers(&[("AT+CCERTLIST", r"\r\nOK\r\n")]);
}

#[test]
fn urcs_are_held_during_the_payload() {
    let mut b = Bench::quiet();
    b.host("AT+CCHSET=0,0\r");
    b.cch_start();
    b.cch_open(0, "example.com", 443, 1, 0);
    let conn = b.last_conn();
    assert_eq!(b.host("AT+CCERTDOWN=\"ca.pem\",4\r"), r"\r\n>");
    assert_eq!(b.data(conn, b"hi"), "");
    assert_eq!(b.host("abcd"), r"\r\nOK\r\n\r\n+CCHRECV: DATA,0,2\r\nhi");
}

#[test]
fn the_store_survives_restart_and_power_off() {
    let mut b = Bench::quiet();
    b.cert("ca.pem", b"x");
    b.host("AT+CRESET\r");
    b.advance(Duration::from_secs(30));
    b.host("ATE0\r");
    b.expect_answers(&[("AT+CCERTLIST", r#"\r\n+CCERTLIST: "ca.pem"\r\n\r\nOK\r\n"#)]);
    b.host("AT+CPOF\r");
    b.modem.handle(b.now, Input::PowerOn);
    b.advance(Duration::from_secs(30));
    b.host("ATE0\r");
    b.expect_answers(&[("AT+CCERTLIST", r#"\r\n+CCERTLIST: "ca.pem"\r\n\r\nOK\r\n"#)]);
}

#[test]
fn a_loaded_store_replaces_the_files_and_drops_bad_ones() {
    let mut b = Bench::quiet();
    b.cert("old.pem", b"x");
    drain_store(&mut b);
    let file = |name: &str, len: usize| CertFile {
        name: name.into(),
        data: vec![b'x'; len],
    };
    b.modem.handle(
        b.now,
        Input::CertStore(vec![
            file("ca.pem", 10),
            file("../evil.pem", 10),
            file("notes.txt", 10),
            file("huge.der", 10241),
            file("empty.pem", 0),
        ]),
    );
    b.expect_answers(&[("AT+CCERTLIST", r#"\r\n+CCERTLIST: "ca.pem"\r\n\r\nOK\r\n"#)]);
    assert!(drain_store(&mut b).is_empty(), "loading is not a change");
    // Deleting a file the runtime loaded is a change to persist.
    b.expect_answers(&[("AT+CCERTDELE=\"ca.pem\"", r"\r\nOK\r\n")]);
    assert_eq!(
        drain_store(&mut b),
        vec![StoreChange::Delete {
            name: "ca.pem".into()
        }]
    );
}

#[test]
fn undrained_changes_stay_bounded() {
    let mut b = Bench::quiet();
    for i in 0..300 {
        b.cert(&format!("n{i:03}.pem"), b"x");
        b.expect_answers(&[(&format!("AT+CCERTDELE=\"n{i:03}.pem\""), r"\r\nOK\r\n")]);
    }
    b.cert("kept.pem", b"x");
    let changes = drain_store(&mut b);
    assert!(changes.len() <= 128, "{}", changes.len());
    assert_eq!(
        changes.last(),
        Some(&StoreChange::Put(CertFile {
            name: "kept.pem".into(),
            data: b"x".to_vec()
        }))
    );
}
