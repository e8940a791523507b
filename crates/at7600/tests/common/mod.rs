//! Drives the built daemon as a host would: one modem per TCP connection to
//! `at7600 serve --tcp`, every exchange recorded as exact bytes. Every wait is bounded.
#![allow(dead_code)]

pub mod client;
pub mod tls;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Longest wait for any expected output.
pub const WAIT: Duration = Duration::from_secs(10);

pub use at7600_core::escape::c_string as show;

/// `at7600 serve --tcp 127.0.0.1:0` with extra flags; killed when dropped.
pub struct Daemon {
    child: Child,
    pub addr: String,
}

impl Daemon {
    pub fn start(extra: &[&str]) -> Daemon {
        Daemon::of(serve(["--tcp", "127.0.0.1:0"].iter().chain(extra)))
    }

    /// A `serve --tcp` daemon started some other way (stdout piped), once its ready
    /// line is out.
    pub fn of(mut child: Child) -> Daemon {
        let stdout = child.stdout.take().expect("stdout piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("ready line");
        let addr = line
            .split_whitespace()
            .last()
            .expect("address on the ready line")
            .to_string();
        Daemon { child, addr }
    }

    /// Like [`Daemon::start`], with the control API on a free loopback port; returns
    /// the API's `ADDR:PORT` too.
    pub fn start_with_control(extra: &[&str]) -> (Daemon, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_at7600"))
            .args(["serve", "--tcp", "127.0.0.1:0", "--control", "127.0.0.1:0"])
            .args(["--log-level", "error"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("daemon starts");
        let control = control_address(child.stderr.take().expect("stderr piped"));
        let stdout = child.stdout.take().expect("stdout piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("ready line");
        let addr = line
            .split_whitespace()
            .last()
            .expect("address on the ready line")
            .to_string();
        (Daemon { child, addr }, control)
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A new modem: a new connection.
    pub fn modem(&self) -> Session {
        let host = TcpStream::connect(&self.addr).expect("connect to the daemon");
        host.set_nodelay(true).expect("nodelay");
        Session {
            host,
            transcript: String::new(),
            names: Vec::new(),
            pending: Vec::new(),
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The control API's `ADDR:PORT` from the daemon's standard error (its startup line);
/// the rest of standard error is drained on a thread, so the daemon never blocks on it.
pub fn control_address(stderr: std::process::ChildStderr) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("at7600: control API on http://") {
                // The address, then perhaps "(bearer token required)".
                let addr = rest.split_whitespace().next().unwrap_or_default();
                let _ = tx.send(addr.to_string());
            }
        }
    });
    rx.recv_timeout(WAIT).expect("control API address")
}

/// One modem seen from its host.
pub struct Session {
    pub host: TcpStream,
    transcript: String,
    /// Text replaced in the transcript (ephemeral ports) so snapshots are stable.
    names: Vec<(String, String)>,
    /// Bytes read past the last expectation: they belong to the next one.
    pending: Vec<u8>,
}

impl Session {
    /// Replaces `value` by `<name>` in the transcript.
    pub fn name(&mut self, value: impl ToString, name: &str) {
        self.names.push((value.to_string(), format!("<{name}>")));
    }

    fn named(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (value, name) in &self.names {
            text = text.replace(value.as_str(), name);
        }
        text
    }

    /// Writes `input` and reads until the output ends with `until` (escaped form).
    pub fn send(&mut self, input: impl AsRef<[u8]>, until: &str) -> String {
        let input = input.as_ref();
        self.host.write_all(input).expect("write to the modem");
        let out = self.read_until(until);
        let line = format!("> {}\n< {}\n", self.named(&show(input)), self.named(&out));
        self.transcript.push_str(&line);
        out
    }

    /// Reads what the modem prints on its own until it ends with `until`.
    pub fn expect(&mut self, until: &str) -> String {
        let out = self.read_until(until);
        let line = format!("< {}\n", self.named(&out));
        self.transcript.push_str(&line);
        out
    }

    /// Notes something the test did outside the serial line.
    pub fn note(&mut self, what: &str) {
        self.transcript.push_str(&format!("! {what}\n"));
    }

    /// Reads until `until` (a C string, names allowed) has arrived and returns the
    /// output up to its end; whatever came after it is kept for the next expectation,
    /// so a URC landing in the same read as a response cannot confuse the exchange.
    fn read_until(&mut self, until: &str) -> String {
        let mut raw_until = until.to_string();
        for (value, name) in &self.names {
            raw_until = raw_until.replace(name.as_str(), value);
        }
        let want = at7600_core::escape::parse_c_string(&raw_until)
            .unwrap_or_else(|e| panic!("{until:?} is not a C string: {e:?}"));
        if want.is_empty() {
            // Nothing expected: don't wait (what arrived stays for the next expectation).
            return String::new();
        }
        let deadline = Instant::now() + WAIT;
        let mut got = std::mem::take(&mut self.pending);
        let mut buf = [0u8; 4096];
        // Where the search resumes: what was searched already cannot hold a match, so a
        // long output costs one pass, not one per read.
        let mut from = 0;
        loop {
            if let Some(at) = got[from..]
                .windows(want.len())
                .position(|w| w == want.as_slice())
            {
                let end = from + at + want.len();
                self.pending = got.split_off(end);
                return show(&got);
            }
            from = got.len().saturating_sub(want.len() - 1);
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "waited for {until:?}, got {:?}",
                show(&got)
            );
            self.host
                .set_read_timeout(Some(left.min(Duration::from_millis(200))))
                .expect("timeout");
            match self.host.read(&mut buf) {
                Ok(0) => panic!("modem closed; got {:?}", show(&got)),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                // A signal landing during the read (EINTR) is no answer either: read on.
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => panic!("read failed: {e}"),
            }
        }
    }

    /// `AT+NETOPEN`, then TCP link `link` opened to a fresh loopback listener; returns
    /// the peer's side of the connection.
    pub fn link_to_loopback_peer(&mut self, link: u8) -> TcpStream {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind peer");
        let port = listener.local_addr().expect("addr").port();
        self.send("AT+NETOPEN\r", "+NETOPEN: 0\\r\\n");
        self.send(
            format!("AT+CIPOPEN={link},\"TCP\",\"127.0.0.1\",{port}\r"),
            &format!("+CIPOPEN: {link},0\\r\\n"),
        );
        let (peer, _) = listener.accept().expect("accept");
        peer
    }

    /// The exchanges so far.
    pub fn transcript(&self) -> &str {
        &self.transcript
    }
}

/// Runs `at7600 ctl --control <control> <args>`; returns its standard output, or
/// panics with its error output.
pub fn ctl(control: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_at7600"))
        .args(["ctl", "--control", control])
        .args(args)
        .output()
        .expect("at7600 ctl runs");
    assert!(
        out.status.success(),
        "ctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `at7600 serve --pty <tempdir>/ttyAT0` with extra flags; killed when dropped.
pub struct PtyDaemon {
    pub child: Child,
    pub link: PathBuf,
    pub dir: tempfile::TempDir,
}

impl PtyDaemon {
    pub fn start(extra: &[&str]) -> PtyDaemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let link = dir.path().join("ttyAT0");
        Self::start_at(dir, link, extra)
    }

    /// Starts on `link` (inside `dir`), waiting for the ready line.
    pub fn start_at(dir: tempfile::TempDir, link: PathBuf, extra: &[&str]) -> PtyDaemon {
        let mut child = serve(
            [OsStr::new("--pty"), link.as_os_str()]
                .into_iter()
                .chain(extra.iter().map(OsStr::new)),
        );
        let line = ready_line(&mut child);
        assert!(line.starts_with("at7600: modem ready"), "{line:?}");
        PtyDaemon { child, link, dir }
    }

    /// Like [`PtyDaemon::start`], with the control API on a free loopback port; returns
    /// the API's `ADDR:PORT` too.
    pub fn start_with_control(extra: &[&str]) -> (PtyDaemon, String) {
        let dir = tempfile::tempdir().expect("tempdir");
        let link = dir.path().join("ttyAT0");
        let mut command = serve_command(
            [OsStr::new("--pty"), link.as_os_str()]
                .into_iter()
                .chain(["--control", "127.0.0.1:0"].map(OsStr::new))
                .chain(extra.iter().map(OsStr::new)),
        );
        let mut child = command
            .stderr(Stdio::piped())
            .spawn()
            .expect("daemon starts");
        let control = control_address(child.stderr.take().expect("stderr piped"));
        let line = ready_line(&mut child);
        assert!(line.starts_with("at7600: modem ready"), "{line:?}");
        (PtyDaemon { child, link, dir }, control)
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for PtyDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `at7600 serve ARGS`, standard output piped (for the ready line), the rest closed.
pub fn serve<A: AsRef<OsStr>>(args: impl IntoIterator<Item = A>) -> Child {
    serve_command(args).spawn().expect("daemon starts")
}

/// The command [`serve`] runs, to adjust before spawning.
pub fn serve_command<A: AsRef<OsStr>>(args: impl IntoIterator<Item = A>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_at7600"));
    command
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

/// The first line the daemon prints on standard output, waited for at most [`WAIT`].
pub fn ready_line(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("stdout piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(WAIT).expect("ready line in time")
}

/// CPU time (user + system) the process `pid` has used so far, in clock ticks.
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')').expect("stat has a command name") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

/// Resident memory of the process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Runs `command` (its standard input piped) with `input` then end of input, to its
/// end; panics with its error output unless it succeeded.
pub fn run_with_input(mut command: Command, input: &[u8]) -> std::process::Output {
    let mut child = command
        .stdin(Stdio::piped())
        .spawn()
        .expect("at7600 starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write");
    let out = child.wait_with_output().expect("at7600 exits");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A TCP echo server on loopback, for as long as the test runs; its port.
pub fn tcp_echo() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

/// A UDP port that was free a moment ago (for the modem's local port).
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("ephemeral UDP port")
}

/// The host's end of a tty (the daemon's PTY, or the master of a serial pair).
pub struct Port(pub OwnedFd);

impl Port {
    pub fn open(link: &Path) -> Port {
        use nix::fcntl::{open, OFlag};
        use nix::sys::stat::Mode;
        use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
        let raw = open(link, OFlag::O_RDWR | OFlag::O_NOCTTY, Mode::empty()).expect("port opens");
        // SAFETY: a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut t = tcgetattr(fd.as_fd()).expect("tcgetattr");
        cfmakeraw(&mut t);
        tcsetattr(fd.as_fd(), SetArg::TCSANOW, &t).expect("tcsetattr");
        Port(fd)
    }

    pub fn write(&self, bytes: &[u8]) {
        let mut done = 0;
        while done < bytes.len() {
            done += nix::unistd::write(&self.0, &bytes[done..]).expect("port write");
        }
    }

    /// Reads until the output, shown as a C string, ends with `until`.
    pub fn read_until(&self, until: &str) -> String {
        let deadline = Instant::now() + WAIT;
        let mut got = Vec::new();
        loop {
            let shown = show(&got);
            if shown.ends_with(until) {
                return shown;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {until:?}, got {shown:?}"
            );
            self.poll_read(&mut got, 100);
        }
    }

    /// Whatever arrives within `ms`.
    pub fn read_for(&self, ms: u64) -> String {
        let deadline = Instant::now() + Duration::from_millis(ms);
        let mut got = Vec::new();
        while Instant::now() < deadline {
            self.poll_read(&mut got, 50);
        }
        show(&got)
    }

    fn poll_read(&self, got: &mut Vec<u8>, ms: i32) {
        let mut pfd = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, ms) } > 0 {
            let mut buf = [0u8; 4096];
            if let Ok(n) = nix::unistd::read(self.0.as_raw_fd(), &mut buf) {
                got.extend_from_slice(&buf[..n]);
            }
        }
    }

    /// Sends a command line and waits for its answer to end with `until`.
    pub fn cmd(&self, line: &str, until: &str) -> String {
        self.write(line.as_bytes());
        self.read_until(until)
    }
}

/// Waits for `child` to exit, for at most `limit`; `None` (and the child killed) if it
/// is still running then.
pub fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `at7600 ARGS` to its end (bounded by [`WAIT`]): exit code, stdout, stderr.
pub fn run_at7600(args: &[&std::ffi::OsStr]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_at7600"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("at7600 starts");
    // Drain both pipes on threads so a chatty child cannot block on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let status = wait_exit(&mut child, WAIT).expect("at7600 finishes in time");
    let out = out.join().expect("stdout reader");
    let err = err.join().expect("stderr reader");
    (status.code(), out, err)
}

/// A temporary config file holding `text` (removed when dropped).
pub fn config_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(text.as_bytes()).expect("write config");
    file
}

/// `at7600 serve --stdio [--config FILE] EXTRA` with every standard stream piped and
/// `RUST_LOG` unset, to adjust before spawning.
pub fn stdio_command(config: Option<&Path>, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_at7600"));
    command.args(["serve", "--stdio"]);
    if let Some(path) = config {
        command.arg("--config").arg(path);
    }
    command
        .args(extra)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}
