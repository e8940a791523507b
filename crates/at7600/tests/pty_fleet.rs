//! Many PTY modems in one process (`serve --pty 'DIR/ttyAT{n}' --count N`), and the
//! path a PTY modem claims: a second daemon on a live path is refused, a stale link is
//! replaced. Every wait is bounded.
mod common;

use common::{cpu_ticks, ready_line, serve, Port, PtyDaemon, WAIT};
use std::collections::HashSet;
use std::ffi::OsStr;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const FLEET: usize = 40;

/// Each modem of a fleet is its own device: its own port, state and IMEI.
#[test]
fn a_fleet_of_pty_modems_each_with_its_own_identity_and_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let template = dir.path().join("ttyAT{n}");
    let count = FLEET.to_string();
    let mut child = serve([
        OsStr::new("--pty"),
        template.as_os_str(),
        OsStr::new("--count"),
        OsStr::new(&count),
    ]);
    let line = ready_line(&mut child);
    assert!(
        line.starts_with(&format!("at7600: {FLEET} modems ready")),
        "{line:?}"
    );

    let mut imeis = HashSet::new();
    let ports: Vec<Port> = (0..FLEET)
        .map(|n| Port::open(&dir.path().join(format!("ttyAT{n}"))))
        .collect();
    for (n, port) in ports.iter().enumerate() {
        let imei = port.cmd("AT+CGSN\r", "OK\\r\\n");
        assert!(
            imeis.insert(imei.clone()),
            "modem {n} repeats an IMEI: {imei}"
        );
        // State is per modem: echo off here only.
        if n == 0 {
            port.cmd("ATE0\r", "OK\\r\\n");
        }
    }
    assert_eq!(ports[0].cmd("AT\r", "OK\\r\\n"), "\\r\\nOK\\r\\n");
    assert_eq!(ports[1].cmd("AT\r", "OK\\r\\n"), "AT\\r\\r\\nOK\\r\\n");

    // All ports open, all idle: no CPU.
    thread::sleep(Duration::from_millis(200));
    let before = cpu_ticks(child.id());
    thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(child.id()) - before;
    assert!(used <= 3, "{FLEET} idle modems used {used} ticks in 1 s");

    let _ = child.kill();
    let _ = child.wait();
}

/// A second daemon on the same path must not take a live daemon's port.
#[test]
fn a_second_daemon_on_a_live_path_is_refused() {
    let first = PtyDaemon::start(&[]);
    let target = std::fs::read_link(&first.link).expect("link");
    let out = Command::new(env!("CARGO_BIN_EXE_at7600"))
        .args(["serve", "--pty"])
        .arg(&first.link)
        .stdin(Stdio::null())
        .output()
        .expect("second daemon runs");
    assert!(!out.status.success(), "the second daemon must fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is served by another running at7600"),
        "a clear refusal: {err}"
    );
    assert!(
        err.contains(&format!("pid {}", first.pid())),
        "names the owner: {err}"
    );
    assert_eq!(
        std::fs::read_link(&first.link).expect("link"),
        target,
        "link kept"
    );
    let port = Port::open(&first.link);
    assert_eq!(port.cmd("AT\r", "OK\\r\\n"), "AT\\r\\r\\nOK\\r\\n");
}

/// A link left by a daemon that was killed outright is stale: the next daemon takes it.
#[test]
fn a_stale_link_from_a_killed_daemon_is_replaced() {
    let mut first = PtyDaemon::start(&[]);
    let _ = first.child.kill();
    let _ = first.child.wait();
    assert!(
        first.link.symlink_metadata().is_ok(),
        "the killed daemon left its link"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let second = PtyDaemon::start_at(dir, first.link.clone(), &[]);
    let deadline = Instant::now() + WAIT;
    let port = loop {
        if let Ok(t) = std::fs::read_link(&second.link) {
            if t.exists() {
                break Port::open(&second.link);
            }
        }
        assert!(Instant::now() < deadline, "the link was not replaced");
        thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(port.cmd("AT\r", "OK\\r\\n"), "AT\\r\\r\\nOK\\r\\n");
}
