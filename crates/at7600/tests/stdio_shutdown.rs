//! `serve --stdio` ends on SIGTERM in every state: with standard input idle, and with
//! standard output full because the host stopped reading it (the modem meanwhile still
//! answers its control API). Pipes only; every wait bounded.
mod common;

use common::{control_address, ctl, wait_exit, WAIT};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io::{Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `at7600 serve --stdio` with piped stdin and stdout, and the control API on a free
/// loopback port (its address read from standard error).
fn stdio_daemon() -> (Child, ChildStdin, ChildStdout, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_at7600"))
        .args(["serve", "--stdio", "--control", "127.0.0.1:0"])
        .args(["--log-level", "error"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("daemon starts");
    let control = control_address(child.stderr.take().expect("stderr piped"));
    let stdin = child.stdin.take().expect("stdin piped");
    let stdout = child.stdout.take().expect("stdout piped");
    (child, stdin, stdout, control)
}

/// Sends `AT` and reads until its `OK`: the modem is up.
fn answers(stdin: &mut ChildStdin, stdout: &mut ChildStdout) {
    stdin.write_all(b"AT\r").expect("write AT");
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    while !got.ends_with(b"OK\r\n") {
        let n = stdout.read(&mut buf).expect("read the answer");
        assert!(n > 0, "stdout closed: {got:?}");
        got.extend_from_slice(&buf[..n]);
    }
}

fn signal(child: &Child, signal: Signal) {
    let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    kill(pid, signal).expect("signal sent");
}

/// Starts a modem, checks it answers, signals it with stdin open and silent: the
/// daemon must not wait for stdin.
fn ends_with_stdin_idle_on(sig: Signal) {
    let (mut child, mut stdin, mut stdout, _) = stdio_daemon();
    answers(&mut stdin, &mut stdout);
    signal(&child, sig);
    let status = wait_exit(&mut child, WAIT);
    assert!(status.is_some(), "still running {WAIT:?} after {sig}");
    drop(stdin);
}

#[test]
fn sigterm_ends_a_modem_whose_stdin_is_idle() {
    ends_with_stdin_idle_on(Signal::SIGTERM);
}

#[test]
fn ctrl_c_ends_a_modem_whose_stdin_is_idle() {
    ends_with_stdin_idle_on(Signal::SIGINT);
}

#[test]
fn sigterm_ends_a_modem_whose_stdout_is_full() {
    let (mut child, mut stdin, mut stdout, control) = stdio_daemon();
    answers(&mut stdin, &mut stdout);
    // Flood commands and never read stdout: its pipe fills. At most 4 MiB are offered
    // (the writer blocks if the modem stops reading); stdin then stays open, so only
    // the signal can end the modem.
    let written = Arc::new(AtomicUsize::new(0));
    let counter = written.clone();
    let writer = std::thread::spawn(move || {
        let chunk = b"AT\r".repeat(1024);
        for _ in 0..(4 << 20) / chunk.len() {
            if stdin.write_all(&chunk).is_err() {
                break;
            }
            counter.fetch_add(chunk.len(), Ordering::Relaxed);
        }
        stdin
    });
    // Wait (bounded) until the writer has stalled or finished: nothing taken for a while.
    let deadline = Instant::now() + WAIT;
    let mut last = 0;
    let mut still = 0;
    while still < 5 {
        assert!(Instant::now() < deadline, "the modem never stopped reading");
        std::thread::sleep(Duration::from_millis(100));
        let now = written.load(Ordering::Relaxed);
        still = if now == last && now > 0 { still + 1 } else { 0 };
        last = now;
    }
    // The modem still answers its control API while its host is stuck.
    let shown = ctl(&control, &["show", "1"]);
    assert!(shown.contains("\"id\":1"), "{shown}");
    signal(&child, Signal::SIGTERM);
    let status = wait_exit(&mut child, WAIT);
    assert!(status.is_some(), "still running {WAIT:?} after SIGTERM");
    drop(stdout);
    drop(writer.join().expect("writer thread"));
}
