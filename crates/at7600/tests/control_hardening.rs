//! The control API against hostile clients: idle and half-sent connections are closed
//! after the header timeout and never hold more than the connection limit's worth of
//! descriptors, so modems keep opening links; off the loopback the API needs a token,
//! and with one every request without it is 401. Loopback only; every wait bounded.
mod common;

use common::{run_at7600, Daemon, WAIT};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Descriptors the process `pid` has open.
fn descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("the daemon's /proc/PID/fd")
        .count()
}

/// Whether the daemon has closed `s` (EOF or reset), waiting until `deadline`.
fn closed_by_daemon(s: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 256];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        s.set_read_timeout(Some(left)).expect("timeout");
        match s.read(&mut buf) {
            Ok(0) => return true,
            // An error answer (408) may come first; keep reading to the close.
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn half_sent_requests_are_bounded_and_timed_out() {
    const LIMIT: usize = 8;
    const HOSTILE: usize = 48;
    let (d, control) = Daemon::start_with_control(&[
        "--control-max-connections",
        &LIMIT.to_string(),
        "--control-header-timeout-ms",
        "300",
    ]);
    let before = descriptors(d.pid());
    // Connections that start a request and never finish it.
    let mut hostile: Vec<TcpStream> = (0..HOSTILE)
        .map(|_| {
            let mut s = TcpStream::connect(&control).expect("connect to the control API");
            s.write_all(b"GET /modems HTTP/1.1\r\nHost: x\r\n")
                .expect("half a request");
            s
        })
        .collect();
    // However long they wait, the daemon holds at most LIMIT of them.
    let mut most = 0;
    for _ in 0..20 {
        most = most.max(descriptors(d.pid()));
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        most <= before + LIMIT + 2,
        "{most} descriptors with {HOSTILE} idle clients (was {before}, limit {LIMIT})"
    );
    // Every one of them is closed by the daemon in turn.
    let deadline = Instant::now() + 2 * WAIT;
    for (i, s) in hostile.iter_mut().enumerate() {
        assert!(closed_by_daemon(s, deadline), "client {i} still open");
    }
    drop(hostile);
    // Meanwhile and after, modems open links as usual, and the API answers.
    let peer = TcpListener::bind("127.0.0.1:0").expect("peer");
    let port = peer.local_addr().expect("addr").port();
    let mut m = d.modem();
    m.send("AT+NETOPEN\r", "+NETOPEN: 0\\r\\n");
    m.send(
        format!("AT+CIPOPEN=1,\"TCP\",\"127.0.0.1\",{port}\r"),
        "+CIPOPEN: 1,0\\r\\n",
    );
    let listed = common::ctl(&control, &["list"]);
    assert!(listed.contains("\"links\":[{"), "{listed}");
}

#[test]
fn a_request_whose_body_never_comes_gets_408() {
    let mut config = tempfile::NamedTempFile::new().expect("temp file");
    config
        .write_all(b"[control]\nrequest_timeout_ms = 300\n")
        .expect("write config");
    let path = config.path().to_str().expect("utf-8 path").to_string();
    let (_d, control) = Daemon::start_with_control(&["--config", &path]);
    let mut s = TcpStream::connect(&control).expect("connect");
    s.write_all(b"POST /modems/1/dtr HTTP/1.1\r\nHost: x\r\n")
        .expect("request line");
    s.write_all(b"Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"on\":")
        .expect("headers and half a body");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(
        answer.ends_with(r#"{"error":{"code":"request-timeout","message":"request timed out"}}"#),
        "{answer}"
    );
}

#[test]
fn the_control_api_off_the_loopback_needs_a_token() {
    let (code, _, err) = run_at7600(&[
        "serve".as_ref(),
        "--tcp".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--control".as_ref(),
        "0.0.0.0:0".as_ref(),
    ]);
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("give it a token"), "{err}");
}

/// `METHOD PATH` on the control API with an optional bearer token: the status line.
fn status(control: &str, path: &str, token: Option<&str>) -> String {
    let mut s = TcpStream::connect(control).expect("connect");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
    )
    .expect("request");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_string()
}

#[test]
fn with_a_token_every_endpoint_wants_it() {
    const TOKEN: &str = "s3cret-token-0123456789";
    let (_d, control) = Daemon::start_with_control(&["--control-token", TOKEN]);
    for path in ["/modems", "/modems/1", "/metrics"] {
        assert!(
            status(&control, path, None).contains(" 401 "),
            "{path} without a token"
        );
        assert!(
            status(&control, path, Some("s3cret-token-0123456788")).contains(" 401 "),
            "{path} with a wrong token"
        );
    }
    assert!(status(&control, "/modems", Some(TOKEN)).contains(" 200 "));
    // `ctl` sends it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_at7600"))
        .args(["ctl", "--control", &control, "--token", TOKEN, "list"])
        .output()
        .expect("ctl runs");
    assert!(out.status.success(), "{out:?}");
}
