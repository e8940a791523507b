//! The serial front end on a serial pair the test makes itself: a PTY pair, whose slave
//! is a tty device that the daemon opens with `--serial`, while the test is the host on
//! the master. A PTY has no modem-control lines: the daemon must say so and take DTR as
//! ON. Every wait is bounded.
mod common;

use common::{Port, WAIT};
use nix::fcntl::{FcntlArg, FdFlag};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

struct SerialDaemon {
    child: Child,
    /// Everything the daemon logged, once it has exited.
    log: mpsc::Receiver<String>,
}

impl Drop for SerialDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A PTY pair: the master for the test, the slave's path for the daemon.
fn serial_pair() -> (Port, String) {
    let pty = nix::pty::openpty(None, None).expect("openpty");
    // Not inherited by the daemon: the host closing the master must be the last close.
    for fd in [&pty.master, &pty.slave] {
        nix::fcntl::fcntl(fd.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).expect("cloexec");
    }
    let path = nix::unistd::ttyname(&pty.slave).expect("ttyname");
    // The slave device stays while the master is open; the daemon opens it by path.
    drop(pty.slave);
    (Port(pty.master), path.to_string_lossy().into_owned())
}

fn start(device: &str, extra: &[&str]) -> SerialDaemon {
    let mut child = Command::new(env!("CARGO_BIN_EXE_at7600"))
        .args(["serve", "--serial", device, "--baud", "115200", "--rtscts"])
        .args(["--escape-guard-ms", "300", "--escape-gap-ms", "200"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("daemon starts");
    let stdout = child.stdout.take().expect("stdout piped");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let mut stderr = child.stderr.take().expect("stderr piped");
    let (log_tx, log) = mpsc::channel();
    thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = log_tx.send(text);
    });
    let line = rx.recv_timeout(WAIT).expect("ready line in time");
    assert_eq!(
        line,
        format!("at7600: modem ready on serial {device} at 115200 baud with RTS/CTS\n")
    );
    SerialDaemon { child, log }
}

#[test]
fn serial_port_answers_and_carries_data_mode() {
    let (host, device) = serial_pair();
    let d = start(&device, &["--log-level", "info"]);

    assert_eq!(host.cmd("AT\r", "OK\\r\\n"), "AT\\r\\r\\nOK\\r\\n");
    let ati = host.cmd("ATI\r", "OK\\r\\n");
    assert!(ati.starts_with("ATI\\r\\r\\nManufacturer: "), "{ati}");
    assert!(ati.contains("\\r\\nIMEI: "), "{ati}");

    let peer_listener = TcpListener::bind("127.0.0.1:0").expect("bind peer");
    let port = peer_listener.local_addr().expect("addr").port();
    host.cmd("AT+CIPMODE=1\r", "OK\\r\\n");
    host.cmd("AT+NETOPEN\r", "+NETOPEN: 0\\r\\n");
    host.cmd(
        &format!("AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",{port}\r"),
        "CONNECT 115200\\r\\n",
    );
    let (mut peer, _) = peer_listener.accept().expect("peer accepts");
    peer.set_read_timeout(Some(WAIT)).expect("timeout");
    host.write(b"ping\r\n\x00\xff");
    let mut got = [0u8; 8];
    peer.read_exact(&mut got).expect("peer reads");
    assert_eq!(&got, b"ping\r\n\x00\xff", "raw bytes, no tty translation");
    peer.write_all(b"pong\n\r\x1a").expect("peer writes");
    assert_eq!(host.read_until("pong\\n\\r\\x1A"), "pong\\n\\r\\x1A");
    thread::sleep(Duration::from_millis(450));
    host.write(b"+++");
    assert_eq!(host.read_until("\\r\\nOK\\r\\n"), "\\r\\nOK\\r\\n");
    assert_eq!(
        host.cmd("AT+CIPCLOSE=0\r", "+CIPCLOSE: 0,0\\r\\n"),
        "AT+CIPCLOSE=0\\r\\r\\nOK\\r\\n\\r\\nCLOSED\\r\\n\\r\\n+CIPCLOSE: 0,0\\r\\n"
    );

    // The far end of a serial pair going away ends the daemon with an error.
    drop(host);
    let mut d = d;
    let status = wait_exit(&mut d.child);
    assert!(!status.success(), "a failed port is an error");
    let log = d.log.recv_timeout(WAIT).expect("daemon log");
    assert_eq!(
        log.matches("no modem-control lines").count(),
        1,
        "said once: {log}"
    );
}

#[test]
fn serial_flags_need_serial_and_a_real_device() {
    for flag in [&["--baud", "9600"][..], &["--rtscts"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_at7600"))
            .args(["serve", "--tcp", "127.0.0.1:0"])
            .args(flag)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("runs");
        let status = wait_exit(&mut child);
        assert!(!status.success(), "{flag:?} without --serial is refused");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_at7600"))
        .args(["serve", "--serial", "/nonexistent/ttyS99"])
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot open serial port /nonexistent/ttyS99"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    for _ in 0..500 {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!("daemon did not exit in time");
}
