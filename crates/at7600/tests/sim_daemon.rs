//! The daemon on the simulated network (`--network sim`), with a link profile and a
//! fault scheduled from the config file. Every wait is bounded.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until everything the daemon printed contains `want`; returns it all.
fn wait_for(out: &Arc<Mutex<Vec<u8>>>, want: &str) -> String {
    let start = Instant::now();
    while start.elapsed() < WAIT {
        let text = String::from_utf8_lossy(&out.lock().unwrap()).into_owned();
        if text.contains(want) {
            return text;
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "no {want:?} in {:?}",
        String::from_utf8_lossy(&out.lock().unwrap())
    );
}

#[test]
fn sim_network_session_with_a_scheduled_peer_close() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("at7600.toml");
    std::fs::write(
        &config,
        "[link]\nprofile = \"lte-cat4\"\n\n[[fault]]\nat_ms = 2500\nkind = \"peer-close\"\nlink = 0\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_at7600"))
        .args([
            "serve",
            "--stdio",
            "--network",
            "sim",
            "--sim-seed",
            "3",
            "--config",
        ])
        .arg(&config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let _daemon = Daemon(child);
    let out = Arc::new(Mutex::new(Vec::new()));
    let sink = out.clone();
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let mut say = |s: &str| stdin.write_all(s.as_bytes()).unwrap();
    say("ATE0\r");
    say("AT+NETOPEN\r");
    wait_for(&out, "+NETOPEN: 0");
    say("AT+CIPOPEN=0,\"TCP\",\"echo.sim\",7\r");
    wait_for(&out, "+CIPOPEN: 0,0");
    say("AT+CIPSEND=0,5\r");
    wait_for(&out, ">");
    say("hello");
    let text = wait_for(&out, "+IPD5\r\nhello");
    assert!(text.contains("RECV FROM:192.0.2.7:7"), "{text}");
    let text = wait_for(&out, "+IPCLOSE: 0,1");
    assert!(text.ends_with("\r\n+IPCLOSE: 0,1\r\n"), "{text:?}");
}
