//! End-to-end: the built daemon on each front end. Only `AT\r` -> `AT\r\r\nOK\r\n` is
//! relied on, so these hold for any core. Every wait is bounded.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);
const ANSWER: &[u8] = b"AT\r\r\nOK\r\n";

/// The daemon; killed if a test fails before it exits.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl Daemon {
    fn start(args: &[&str], stdin: Stdio) -> Daemon {
        let child = Command::new(env!("CARGO_BIN_EXE_at7600"))
            .arg("serve")
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("daemon starts");
        Daemon(child)
    }

    /// The ready line printed on stdout.
    fn ready_line(&mut self) -> String {
        let stdout = self.0.stdout.take().expect("stdout piped");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        rx.recv_timeout(WAIT).expect("no ready line in time")
    }

    fn terminate(&mut self) {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.0.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .expect("SIGTERM sent");
    }

    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "daemon did not exit in time");
            thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Reads from `r` on a thread until `want` has arrived (or the time is up).
fn read_until<R: Read + Send + 'static>(mut r: R, want: &'static [u8]) -> Vec<u8> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        while !got.ends_with(want) {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let _ = tx.send(got);
    });
    rx.recv_timeout(WAIT).unwrap_or_default()
}

#[test]
fn stdio_answers_and_exits_at_eof() {
    let mut d = Daemon::start(&["--stdio"], Stdio::piped());
    let mut stdin = d.0.stdin.take().expect("stdin piped");
    let stdout = d.0.stdout.take().expect("stdout piped");
    stdin.write_all(b"AT\r").unwrap();
    stdin.flush().unwrap();
    assert_eq!(read_until(stdout, ANSWER), ANSWER);
    drop(stdin);
    assert!(d.wait_exit().success());
}

fn tcp_answer(stream: &TcpStream) -> Vec<u8> {
    let mut s = stream.try_clone().unwrap();
    s.write_all(b"AT\r").unwrap();
    read_until(stream.try_clone().unwrap(), ANSWER)
}

#[test]
fn tcp_connections_are_independent_modems() {
    let mut d = Daemon::start(&["--tcp", "127.0.0.1:0"], Stdio::null());
    let line = d.ready_line();
    let addr = line
        .trim()
        .rsplit(' ')
        .next()
        .expect("address on the ready line")
        .to_string();
    let a = TcpStream::connect(&addr).unwrap();
    let b = TcpStream::connect(&addr).unwrap();
    // Half a command on one modem does not show up on the other.
    (&a).write_all(b"A").unwrap();
    assert_eq!(tcp_answer(&b), ANSWER);
    drop(a);
    assert_eq!(tcp_answer(&b), ANSWER);
    let c = TcpStream::connect(&addr).unwrap();
    assert_eq!(tcp_answer(&c), ANSWER);
    d.terminate();
    assert!(d.wait_exit().success());
}

/// Opens the PTY through its symlink in raw mode, as a host program would.
fn open_port(link: &Path) -> OwnedFd {
    use nix::fcntl::{open, OFlag};
    use nix::sys::stat::Mode;
    use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
    use std::os::fd::FromRawFd;
    let raw = open(link, OFlag::O_RDWR | OFlag::O_NOCTTY, Mode::empty()).expect("port opens");
    // SAFETY: a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut t = tcgetattr(fd.as_fd()).unwrap();
    cfmakeraw(&mut t);
    tcsetattr(fd.as_fd(), SetArg::TCSANOW, &t).unwrap();
    fd
}

fn pty_answer(fd: &OwnedFd) -> Vec<u8> {
    nix::unistd::write(fd, b"AT\r").unwrap();
    let deadline = Instant::now() + WAIT;
    let mut got = Vec::new();
    while !got.ends_with(ANSWER) && Instant::now() < deadline {
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, 200) } > 0 {
            let mut buf = [0u8; 256];
            match nix::unistd::read(fd.as_raw_fd(), &mut buf) {
                Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
                _ => break,
            }
        }
    }
    got
}

#[test]
fn pty_survives_reopen_and_sigterm_removes_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyAT0");
    // A stale link from an earlier run is replaced.
    std::os::unix::fs::symlink("/nonexistent/pts", &link).unwrap();
    let mut d = Daemon::start(&["--pty", link.to_str().unwrap()], Stdio::null());
    let line = d.ready_line();
    assert!(line.starts_with("at7600: modem ready on "), "{line:?}");
    assert!(std::fs::read_link(&link).unwrap().starts_with("/dev/pts"));

    for _ in 0..2 {
        let fd = open_port(&link);
        assert_eq!(pty_answer(&fd), ANSWER);
        drop(fd);
        thread::sleep(Duration::from_millis(50));
    }
    d.terminate();
    assert!(d.wait_exit().success());
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "symlink left behind"
    );
}

#[test]
fn bad_config_is_refused_with_a_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_at7600"))
        .args(["serve", "--stdio", "--imei", "12ab"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("imei"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
