//! `at7600 probe --tcp` against `at7600 serve`: every chapter-6 check passes.
mod common;

use common::{free_udp_port, Daemon};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn udp_echo() -> u16 {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = sock.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            let _ = sock.send_to(&buf[..n], from);
        }
    });
    port
}

#[test]
fn probe_passes_every_check_against_the_daemon() {
    let d = Daemon::start(&["--escape-guard-ms", "200", "--escape-gap-ms", "200"]);
    let server_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_at7600"))
        .args(["probe", "--tcp", &d.addr])
        .args(["--peer", &format!("127.0.0.1:{}", common::tcp_echo())])
        .args(["--udp-peer", &format!("127.0.0.1:{}", udp_echo())])
        .args(["--udp-local-port", &free_udp_port().to_string()])
        .args(["--server", &format!("127.0.0.1:{server_port}")])
        .args(["--guard-ms", "300", "--wait-ms", "5000"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("probe starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "probe took too long");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("output");
    assert!(status.success(), "probe failed:\n{out}");
    assert!(out.contains(" 0 failed, 0 skipped"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
}
