//! `ssl.md` §4.5: with `[tls] cert_dir`, certificate files live in `<cert_dir>/<imei>/`
//! and a restarted daemon still has them.

mod common;
use common::{config_file, run_with_input, stdio_command, Port, PtyDaemon, WAIT};
use std::time::{Duration, Instant};

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

/// Bytes the threads of process `pid` wrote (`wchar` of each `/proc/PID/task/*/io`),
/// leaving out the threads named `skip`.
fn bytes_written_by_threads(pid: u32, skip: &str) -> u64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the daemon's threads");
    let mut total = 0;
    for task in tasks.flatten().take(1000) {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() == skip {
            continue;
        }
        let io = std::fs::read_to_string(task.path().join("io")).unwrap_or_default();
        total += io
            .lines()
            .find_map(|l| l.strip_prefix("wchar: "))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
}

#[test]
fn downloads_in_a_loop_are_written_off_the_modems_thread() {
    // §4.5: 40 files of 10240 bytes. Their writes (each with an fsync) go to the store's
    // own writer thread, so a host downloading in a loop cannot stall the runtime its
    // neighbours share: the other threads write only the modem's answers.
    const FILES: usize = 40;
    let certs = tempfile::tempdir().expect("temp dir");
    let config = config_file(&format!(
        "[tls]\ncert_dir = {:?}\n",
        certs.path().display().to_string()
    ));
    let config = config.path().to_str().expect("utf-8 path");
    let d = PtyDaemon::start(&["--config", config, "--log-level", "error"]);
    let port = Port::open(&d.link);
    port.cmd("ATE0\r", "OK\\r\\n");
    let data = vec![b'c'; 10240];
    for n in 0..FILES {
        port.cmd(&format!("AT+CCERTDOWN=\"f{n}.pem\",10240\r"), "\\r\\n>");
        port.write(&data);
        port.read_until("\\r\\nOK\\r\\n");
    }
    let dir = certs.path().join("867584030012347");
    let deadline = Instant::now() + WAIT;
    let mut stored = 0;
    while Instant::now() < deadline {
        stored = std::fs::read_dir(&dir).map_or(0, |d| {
            (d.flatten())
                .filter(|e| e.metadata().is_ok_and(|m| m.len() == 10240))
                .count()
        });
        if stored == FILES {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(stored, FILES, "every file is on disk");
    let elsewhere = bytes_written_by_threads(d.pid(), "cert-store");
    assert!(
        elsewhere < (FILES as u64 * 10240) / 4,
        "{elsewhere} bytes written by the modem's threads"
    );
}

#[test]
fn a_cert_dir_the_daemon_cannot_write_stops_it_at_start() {
    // §4.5: a download is answered OK before it is written; a directory that cannot
    // take files would lose every certificate, so the daemon says so and does not start.
    let parent = tempfile::tempdir().expect("temp dir");
    let file = parent.path().join("a-file");
    std::fs::write(&file, b"not a directory").expect("a file");
    let config = config_file(&format!(
        "[tls]\ncert_dir = {:?}\n",
        file.join("certs").display().to_string()
    ));
    let out = stdio_command(Some(config.path()), &[])
        .output()
        .expect("at7600 runs");
    assert!(!out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cert_dir") && err.contains("cannot create"),
        "{err}"
    );
}
