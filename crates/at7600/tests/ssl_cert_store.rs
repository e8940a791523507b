//! `ssl.md` §4.5: with `[tls] cert_dir`, certificate files live in `<cert_dir>/<imei>/`
//! and a restarted daemon still has them.

mod common;
use common::{config_file, run_with_input, stdio_command};

#[test]
fn a_restarted_daemon_still_lists_the_file() {
    let certs = tempfile::tempdir().expect("temp dir");
    let config = config_file(&format!(
        "[tls]\ncert_dir = {:?}\n",
        certs.path().display().to_string()
    ));
    let first = run_with_input(
        stdio_command(Some(config.path()), &[]),
        b"ATE0\rAT+CCERTDOWN=\"ca.pem\",7\r\x1a\x1bca\r\nXAT+CCERTDOWN=\"old.pem\",3\rabcAT+CCERTDELE=\"old.pem\"\r",
    );
    let out = String::from_utf8_lossy(&first.stdout);
    assert_eq!(out.matches("\r\nOK\r\n").count(), 4, "{out}");
    let stored = certs.path().join("867584030012347").join("ca.pem");
    assert_eq!(std::fs::read(&stored).expect("stored"), b"\x1a\x1bca\r\nX");
    let files: Vec<_> = std::fs::read_dir(stored.parent().expect("dir"))
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(files, ["ca.pem"], "deleted and temporary files are gone");

    // The restarted daemon records its session: the store it loaded is an input.
    let recording = certs.path().join("session.jsonl");
    let record = recording.to_str().expect("utf-8 path");
    let second = run_with_input(
        stdio_command(Some(config.path()), &["--record", record]),
        b"ATE0\rAT+CCERTLIST\r",
    );
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(
        out.ends_with("\r\n+CCERTLIST: \"ca.pem\"\r\n\r\nOK\r\n"),
        "{out}"
    );
    let lines = std::fs::read_to_string(&recording).expect("recording");
    assert!(lines.contains(r#""kind":"cert_store""#), "{lines}");
    // Replayed without the directory, the modem answers the same.
    std::fs::remove_dir_all(stored.parent().expect("dir")).expect("remove");
    let (code, _, err) = common::run_at7600(&["replay".as_ref(), recording.as_os_str()]);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn tls_section_rejects_unknown_keys() {
    let config = config_file("[tls]\ncertdir = \"/nowhere\"\n");
    let out = stdio_command(Some(config.path()), &[])
        .output()
        .expect("at7600 runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("certdir"));
}
