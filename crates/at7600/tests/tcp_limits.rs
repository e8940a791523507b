//! The TCP front end at the process's descriptor limit: the limit is the only limit,
//! hosts past it are refused visibly (their connection closes at once), the modems
//! already there and the control API keep working, and a host that leaves makes room.
mod common;

use common::{ctl, ready_line, serve_command, WAIT};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Descriptors the daemon gets: (160 - 64 reserved) / 2 = 48 modems.
const NOFILE: u64 = 160;
const MODEMS: usize = 48;

fn answers_at(host: &mut TcpStream) -> bool {
    host.set_read_timeout(Some(WAIT)).expect("timeout");
    if host.write_all(b"AT\r").is_err() {
        return false;
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        match host.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        if got.ends_with(b"OK\r\n") {
            return true;
        }
    }
    false
}

#[test]
fn hosts_past_the_descriptor_limit_are_refused_and_the_rest_keep_working() {
    let mut command = serve_command([
        "--tcp",
        "127.0.0.1:0",
        "--control",
        "127.0.0.1:0",
        "--log-level",
        "error",
    ]);
    command.stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: NOFILE,
                rlim_max: NOFILE,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("daemon starts");
    let addr = ready_line(&mut child)
        .split_whitespace()
        .last()
        .expect("address")
        .to_string();
    let stderr = child.stderr.take().expect("stderr");
    let control = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("at7600: control API on http://")
                .map(str::to_string)
        })
        .expect("control API address");

    let mut hosts: Vec<TcpStream> = (0..MODEMS)
        .map(|_| TcpStream::connect(&addr).expect("connect"))
        .collect();
    for (n, host) in hosts.iter_mut().enumerate() {
        assert!(answers_at(host), "modem {n} within the limit answers");
    }
    // One more: refused, visibly (closed), not left hanging.
    let mut extra = TcpStream::connect(&addr).expect("connect");
    assert!(!answers_at(&mut extra), "a host past the limit is refused");
    // The control API still answers, and so do the modems.
    assert!(ctl(&control, &["list"]).contains("tcp"));
    assert!(answers_at(&mut hosts[0]));
    // A host leaves: room for one more.
    drop(hosts.pop());
    let deadline = Instant::now() + WAIT;
    loop {
        let mut again = TcpStream::connect(&addr).expect("connect");
        if answers_at(&mut again) {
            break;
        }
        assert!(Instant::now() < deadline, "no room after a host left");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}
