//! `ssl.md` §3: `AT+CSSLCFG`, its write, read and test forms in both personalities.

mod common;
use common::Bench;

const FACTORY_SIM7600: &str = r#"+CSSLCFG: 0,4,0,1,300,"","","",0,"",0xFFFF"#;

#[test]
fn read_forms_factory_sim7600() {
    let mut b = Bench::quiet();
    let lines: Vec<String> = (0..10)
        .map(|i| format!(r#"+CSSLCFG: {i},4,0,1,300,"","","",0,"",0xFFFF"#))
        .collect();
    let all = format!(r"\r\n{}\r\n\r\nOK\r\n", lines.join(r"\r\n"));
    b.expect_answers(&[
        ("AT+CSSLCFG?", &all),
        (
            "AT+CSSLCFG=0",
            &format!(r"\r\n{FACTORY_SIM7600}\r\n\r\nOK\r\n"),
        ),
        ("AT+CSSLCFG=10", r"\r\nERROR\r\n"),
    ]);
}

#[test]
fn read_form_factory_a76xx() {
    let mut b = Bench::a76xx();
    b.expect_answers(&[(
        "AT+CSSLCFG=0",
        r#"\r\n+CSSLCFG: 0,4,0,1,300,"","","","",0\r\n\r\nOK\r\n"#,
    )]);
}

#[test]
fn write_every_parameter_then_read_sim7600() {
    let mut b = Bench::quiet();
    for (cmd, ok) in [
        ("AT+CSSLCFG=\"sslversion\",3,3", true),
        ("AT+CSSLCFG=\"AUTHMODE\",3,2", true),
        ("AT+CSSLCFG=ignorelocaltime,3,0", true),
        ("AT+CSSLCFG=\"negotiatetime\",3,10", true),
        ("AT+CSSLCFG=\"cacert\",3,ca.pem", true),
        ("AT+CSSLCFG=\"clientcert\",3,\"dev.DER\"", true),
        (
            "AT+CSSLCFG=\"clientkey\",3,{non-ascii}\"E4B8AD2E70656D\"",
            true,
        ),
        ("AT+CSSLCFG=\"enableSNI\",3,1", true),
        ("AT+CSSLCFG=\"keypwd\",3,\"s3cret\"", true),
        ("AT+CSSLCFG=\"ciphersuites\",3,0Xc02f", true),
        ("AT+CSSLCFG=\"password\",3,\"pwd.pem\"", true),
    ] {
        let want = if ok { r"\r\nOK\r\n" } else { r"\r\nERROR\r\n" };
        assert_eq!(b.host(format!("{cmd}\r")), want, "{cmd}");
    }
    b.expect_answers(&[(
        "AT+CSSLCFG=3",
        r#"\r\n+CSSLCFG: 3,3,2,0,10,"ca.pem","dev.DER","&#x4E2D;.pem",1,"s3cret",0xC02F\r\n\r\nOK\r\n"#,
    )]);
}

#[test]
fn a76xx_read_shows_the_password_file() {
    let mut b = Bench::a76xx();
    b.expect_answers(&[
        ("AT+CSSLCFG=\"password\",1,\"pwd.pem\"", r"\r\nOK\r\n"),
        ("AT+CSSLCFG=\"keypwd\",1,\"works too\"", r"\r\nOK\r\n"),
        (
            "AT+CSSLCFG=1",
            r#"\r\n+CSSLCFG: 1,4,0,1,300,"","","","pwd.pem",0\r\n\r\nOK\r\n"#,
        ),
    ]);
}

#[test]
fn empty_name_clears_the_setting() {
    let mut b = Bench::quiet();
    b.expect_answers(&[
        ("AT+CSSLCFG=\"cacert\",0,\"ca.pem\"", r"\r\nOK\r\n"),
        ("AT+CSSLCFG=\"cacert\",0,\"\"", r"\r\nOK\r\n"),
        (
            "AT+CSSLCFG=0",
            &format!(r"\r\n{FACTORY_SIM7600}\r\n\r\nOK\r\n"),
        ),
    ]);
}

#[test]
fn every_bad_value_is_a_plain_error() {
    let mut b = Bench::quiet();
    b.host("AT+CMEE=2\r");
    b.expect_errors(&[
        "AT+CSSLCFG=\"sslversion\",0,5",
        "AT+CSSLCFG=\"sslversion\",10,4",
        "AT+CSSLCFG=\"authmode\",0,4",
        "AT+CSSLCFG=\"ignorelocaltime\",0,2",
        "AT+CSSLCFG=\"negotiatetime\",0,9",
        "AT+CSSLCFG=\"negotiatetime\",0,301",
        "AT+CSSLCFG=\"enableSNI\",0,2",
        "AT+CSSLCFG=\"ciphersuites\",0,0x002E",
        "AT+CSSLCFG=\"ciphersuites\",0,002F",
        "AT+CSSLCFG=\"ciphersuites\",0,0x1FFFF",
        "AT+CSSLCFG=\"cacert\",0,\"ca.txt\"",
        "AT+CSSLCFG=\"cacert\",0,\".pem\"",
        "AT+CSSLCFG=\"cacert\",0,{non-ascii}\"E4B\"",
        "AT+CSSLCFG=\"colour\",0,1",
        "AT+CSSLCFG=\"sslversion\",0",
        "AT+CSSLCFG=\"sslversion\",0,4,1",
        "AT+CSSLCFG",
    ]);
    let long_pwd = format!("AT+CSSLCFG=\"keypwd\",0,\"{}\"\r", "p".repeat(129));
    assert_eq!(b.host(long_pwd), r"\r\nERROR\r\n");
    let max_pwd = format!("AT+CSSLCFG=\"keypwd\",0,\"{}\"\r", "p".repeat(128));
    assert_eq!(b.host(max_pwd), r"\r\nOK\r\n");
}

#[test]
fn file_name_lengths_per_personality() {
    let name = |n: usize| format!("{}.pem", "a".repeat(n - 4));
    let mut b = Bench::quiet();
    let cmd = |n| format!("AT+CSSLCFG=\"cacert\",0,\"{}\"\r", name(n));
    assert_eq!(b.host(cmd(128)), r"\r\nOK\r\n");
    assert_eq!(b.host(cmd(129)), r"\r\nERROR\r\n");
    let mut b = Bench::a76xx();
    assert_eq!(b.host(cmd(108)), r"\r\nOK\r\n");
    assert_eq!(b.host(cmd(109)), r"\r\nERROR\r\n");
}

#[test]
fn test_forms() {
    let mut b = Bench::quiet();
    let head = [
        r#"+CSSLCFG: "sslversion",(0-9),(0-4)"#,
        r#"+CSSLCFG: "authmode",(0-9),(0-3)"#,
        r#"+CSSLCFG: "ignorelocaltime",(0-9),(0,1)"#,
        r#"+CSSLCFG: "negotiatetime",(0-9),(10-300)"#,
    ];
    let files = |n: usize| {
        ["cacert", "clientcert", "clientkey"]
            .map(|f| format!(r#"+CSSLCFG: "{f}",(0-9),(5-{n})"#))
            .to_vec()
    };
    let mut sim: Vec<String> = head.iter().map(|s| s.to_string()).collect();
    sim.extend(files(128));
    sim.extend([
        r#"+CSSLCFG: "enableSNI",(0-9),(0,1)"#.to_string(),
        r#"+CSSLCFG: "keypwd",(0-9),(0-128)"#.to_string(),
        r#"+CSSLCFG: "ciphersuites",(0-9),(0x002F,0Xffff)"#.to_string(),
    ]);
    let want = format!(r"\r\n{}\r\n\r\nOK\r\n", sim.join(r"\r\n"));
    assert_eq!(b.host("AT+CSSLCFG=?\r"), want);
    let mut a: Vec<String> = head.iter().map(|s| s.to_string()).collect();
    a.extend(files(108));
    a.extend([
        r#"+CSSLCFG: "password",(0-9),(5-108)"#.to_string(),
        r#"+CSSLCFG: "enableSNI",(0-9),(0,1)"#.to_string(),
    ]);
    let want = format!(r"\r\n{}\r\n\r\nOK\r\n", a.join(r"\r\n"));
    assert_eq!(Bench::a76xx().host("AT+CSSLCFG=?\r"), want);
}

#[test]
fn contexts_return_to_factory_on_restart() {
    let mut b = Bench::quiet();
    b.expect_answers(&[("AT+CSSLCFG=\"authmode\",0,1", r"\r\nOK\r\n")]);
    b.host("AT+CRESET\r");
    b.advance(std::time::Duration::from_secs(30));
    b.host("ATE0\r");
    b.expect_answers(&[(
        "AT+CSSLCFG=0",
        &format!(r"\r\n{FACTORY_SIM7600}\r\n\r\nOK\r\n"),
    )]);
}
