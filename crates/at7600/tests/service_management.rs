//! docs/deploy.md, "systemd" and "Container": the daemon under a service manager.
//! Readiness and stopping reach `$NOTIFY_SOCKET` (Type=notify), SIGHUP reloads the
//! config file's fault schedule (a bad file keeps the old one), `ctl health` answers
//! for a health check, and `--identity-offset` moves a daemon's identities.
mod common;

use common::{config_file, serve_command, wait_exit, Daemon, Port, WAIT};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn signal(child: &Child, signal: Signal) {
    let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    kill(pid, signal).expect("signal sent");
}

/// The next notification datagram, waited for at most [`WAIT`].
fn notification(socket: &UnixDatagram) -> String {
    socket.set_read_timeout(Some(WAIT)).expect("timeout");
    let mut buf = [0u8; 4096];
    let n = socket.recv(&mut buf).expect("a notification in time");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn type_notify_ready_after_the_ready_line_and_stopping_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("notify");
    let socket = UnixDatagram::bind(&path).expect("notify socket");
    let mut child = serve_command(["--tcp", "127.0.0.1:0"])
        .env("NOTIFY_SOCKET", &path)
        .spawn()
        .expect("daemon starts");
    let ready = notification(&socket);
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready:?}");
    // READY=1 came after the ready line: that line is waiting on standard output.
    let stdout = child.stdout.as_ref().expect("stdout piped");
    let mut pending = libc::pollfd {
        fd: std::os::fd::AsRawFd::as_raw_fd(stdout),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no wait.
    assert_eq!(
        unsafe { libc::poll(&mut pending, 1, 0) },
        1,
        "READY=1 before the ready line"
    );
    let line = common::ready_line(&mut child);
    assert!(line.starts_with("at7600: modems ready on tcp "), "{line:?}");
    assert!(
        ready.contains("STATUS=modems ready on tcp 127.0.0.1:"),
        "{ready:?}"
    );

    signal(&child, Signal::SIGTERM);
    let stopping = notification(&socket);
    assert!(stopping.lines().any(|l| l == "STOPPING=1"), "{stopping:?}");
    let status = wait_exit(&mut child, WAIT).expect("the daemon stops");
    assert!(status.success(), "{status:?}");
}

/// Starts `command` (with `--control 127.0.0.1:0` among its flags, standard error
/// piped) with a notify socket; once READY=1 is in, the control API already lists
/// `modems` modems, and the status names the front end.
fn ready_with_modems_registered(mut command: Command, status: &str, modems: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("notify");
    let socket = UnixDatagram::bind(&path).expect("notify socket");
    let mut child = command
        .env("NOTIFY_SOCKET", &path)
        .stderr(Stdio::piped())
        .spawn()
        .expect("daemon starts");
    let control = common::control_address(child.stderr.take().expect("stderr piped"));
    let ready = notification(&socket);
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready:?}");
    assert!(ready.contains(&format!("STATUS={status}")), "{ready:?}");
    let health = common::ctl(&control, &["health"]);
    assert!(health.contains(&format!("\"modems\":{modems}")), "{health}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn type_notify_on_stdio_once_the_modem_is_registered() {
    let command = common::stdio_command(None, &["--control", "127.0.0.1:0"]);
    ready_with_modems_registered(command, "modem ready on stdio", 1);
}

#[test]
fn type_notify_for_a_pty_fleet_once_every_modem_is_registered() {
    let dir = tempfile::tempdir().expect("temp dir");
    let template = dir.path().join("ttyAT{n}");
    let command = serve_command([
        "--pty".as_ref(),
        template.as_os_str(),
        "--count".as_ref(),
        "40".as_ref(),
        "--control".as_ref(),
        "127.0.0.1:0".as_ref(),
    ]);
    ready_with_modems_registered(command, "40 modems ready on ", 40);
}

/// Radio faults every second for two minutes, each with another signal strength:
/// AT+CSQ keeps changing while this schedule is in force.
fn changing_signal() -> String {
    (1..=120)
        .map(|k| {
            format!(
                "[[fault]]\nat_ms = {}\nkind = \"radio\"\nrssi = {}\n\n",
                k * 1000,
                k % 31
            )
        })
        .collect()
}

/// A PTY modem with `config`, its standard error read line by line on a thread.
struct Served {
    child: Child,
    port: Port,
    stderr: mpsc::Receiver<String>,
    _dir: tempfile::TempDir,
}

impl Served {
    fn start(config: &Path) -> Served {
        Served::start_notifying(config, None)
    }

    /// As [`Served::start`], with `$NOTIFY_SOCKET` set to `notify` if given.
    fn start_notifying(config: &Path, notify: Option<&Path>) -> Served {
        let dir = tempfile::tempdir().expect("temp dir");
        let link = dir.path().join("ttyAT0");
        let mut command = serve_command([
            "--pty".as_ref(),
            link.as_os_str(),
            "--config".as_ref(),
            config.as_os_str(),
        ]);
        if let Some(socket) = notify {
            command.env("NOTIFY_SOCKET", socket);
        }
        let mut child = command
            .env_remove("RUST_LOG")
            .stderr(Stdio::piped())
            .spawn()
            .expect("daemon starts");
        let stderr = child.stderr.take().expect("stderr piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = common::ready_line(&mut child);
        assert!(line.starts_with("at7600: modem ready"), "{line:?}");
        let port = Port::open(&link);
        Served {
            child,
            port,
            stderr: rx,
            _dir: dir,
        }
    }

    /// Waits (at most [`WAIT`]) for a log line containing `text`.
    fn log(&self, text: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(e) => panic!("no log line with {text:?}: {e}"),
            }
        }
    }

    fn csq(&self) -> String {
        self.port.cmd("AT+CSQ\r", "OK\\r\\n")
    }

    /// Waits (bounded in count and time) until AT+CSQ answers something other than
    /// `before`: a scheduled radio fault came.
    fn csq_changes_from(&self, before: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        for _ in 0..300 {
            if self.csq() != before {
                return true;
            }
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn sighup_reloads_the_fault_schedule() {
    let config = config_file("[radio]\nrssi = 25\n");
    let modem = Served::start(config.path());
    let before = modem.csq();
    assert!(before.contains("+CSQ: 25,99"), "{before:?}");

    std::fs::write(
        config.path(),
        format!("[radio]\nrssi = 25\n\n{}", changing_signal()),
    )
    .expect("config rewritten");
    signal(&modem.child, Signal::SIGHUP);
    let line = modem.log("fault schedule reloaded");
    assert!(line.contains("120 fault(s)"), "{line:?}");
    assert!(
        modem.csq_changes_from(&before),
        "no fault of the reloaded schedule came"
    );
}

#[test]
fn sighup_with_a_bad_file_keeps_the_old_schedule() {
    let config = config_file(&changing_signal());
    let mut modem = Served::start(config.path());

    std::fs::write(
        config.path(),
        "[[fault]]\nat_ms = 1000\nkind = \"no-such-fault\"\n",
    )
    .expect("config rewritten");
    signal(&modem.child, Signal::SIGHUP);
    let line = modem.log("not reloaded");
    assert!(line.contains("stays as it was"), "{line:?}");
    assert!(line.contains("bad config file"), "{line:?}");

    // Still serving, still following the first file's schedule.
    let seen = modem.csq();
    assert!(
        modem.csq_changes_from(&seen),
        "the old schedule is no longer followed"
    );
    assert!(
        modem.child.try_wait().expect("status").is_none(),
        "the daemon exited"
    );
}

#[test]
fn sighup_without_a_config_file_stops_the_daemon_as_before() {
    // No file, nothing to reload: SIGHUP keeps its default meaning (a hung-up
    // terminal ends a daemon started from it).
    let mut child = serve_command(["--tcp", "127.0.0.1:0"])
        .spawn()
        .expect("daemon starts");
    common::ready_line(&mut child);
    signal(&child, Signal::SIGHUP);
    let status = wait_exit(&mut child, WAIT).expect("the daemon ends");
    assert!(!status.success(), "{status:?}");
}

fn ctl_health(control: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_at7600"))
        .args(["ctl", "--control", control, "health"])
        .env_remove("AT7600_CONTROL_TOKEN")
        .output()
        .expect("at7600 ctl runs")
}

#[test]
fn ctl_health_exits_0_while_the_control_api_answers() {
    let (daemon, control) = Daemon::start_with_control(&[]);
    let _modem = daemon.modem();
    let out = ctl_health(&control);
    assert!(out.status.success(), "{out:?}");
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(body.contains("\"status\":\"ok\""), "{body}");

    drop(daemon);
    let out = ctl_health(&control);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn ctl_health_needs_the_token_of_a_daemon_that_has_one() {
    let (_daemon, control) =
        Daemon::start_with_control(&["--control-token", "health-check-token-0123"]);
    assert_eq!(ctl_health(&control).status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_at7600"))
        .args(["ctl", "--control", &control, "health"])
        .env("AT7600_CONTROL_TOKEN", "health-check-token-0123")
        .output()
        .expect("at7600 ctl runs");
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn identity_offset_moves_the_first_modems_imei() {
    let first = at7600_core::ModemConfig::default().identity;
    let daemon = Daemon::start(&["--identity-offset", "1000"]);
    let mut modem = daemon.modem();
    let answer = modem.send("AT+CGSN\r", "OK\\r\\n");
    assert!(answer.contains(&first.nth(1000).imei), "{answer:?}");
    let mut second = daemon.modem();
    let answer = second.send("AT+CGSN\r", "OK\\r\\n");
    assert!(answer.contains(&first.nth(1001).imei), "{answer:?}");
}

/// A StatefulSet pod, as far as the daemon can tell: its own UTS namespace with the
/// host name `at7600-fleet-3` (unshare(1); needs the right to make namespaces).
#[test]
fn identity_block_takes_the_pods_range_from_its_host_name() {
    let permitted = Command::new("unshare")
        .args(["-u", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !permitted {
        eprintln!("skipped: unshare -u is not permitted here");
        return;
    }
    let child = Command::new("unshare")
        .args(["-u", "sh", "-c"])
        .arg("hostname at7600-fleet-3 && exec \"$0\" serve --tcp 127.0.0.1:0 --identity-block 100")
        .arg(env!("CARGO_BIN_EXE_at7600"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("unshare runs");
    let daemon = Daemon::of(child);
    let first = at7600_core::ModemConfig::default().identity;
    let mut held = Vec::new();
    for n in [300, 301] {
        let mut modem = daemon.modem();
        let answer = modem.send("AT+CGSN\r", "OK\\r\\n");
        assert!(answer.contains(&first.nth(n).imei), "{n}: {answer:?}");
        held.push(modem);
    }
}

/// A `--tcp` host that reconnects gets its identity back (the lowest one no connected
/// modem holds), so reconnecting in a loop never uses up identities, nor certificate
/// store directories; hosts connected at once never share one.
#[test]
fn a_reconnecting_tcp_host_gets_its_identity_back() {
    let first = at7600_core::ModemConfig::default().identity;
    let daemon = Daemon::start(&[]);
    let imei = |modem: &mut common::Session| -> String {
        let answer = modem.send("AT+CGSN\r", "OK\\r\\n");
        (0..4)
            .map(|n| first.nth(n).imei)
            .find(|imei| answer.contains(imei.as_str()))
            .unwrap_or_else(|| panic!("no known IMEI in {answer:?}"))
    };
    let mut a = daemon.modem();
    let mut b = daemon.modem();
    let (imei_a, imei_b) = (imei(&mut a), imei(&mut b));
    assert_eq!(
        (imei_a.as_str(), imei_b.as_str()),
        (first.nth(0).imei.as_str(), first.nth(1).imei.as_str())
    );
    drop(a);
    // The first modem ends when its host goes: its identity is free again.
    let mut again = None;
    for _ in 0..50 {
        let mut c = daemon.modem();
        if imei(&mut c) == imei_a {
            again = Some(c);
            break;
        }
        drop(c);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        again.is_some(),
        "the reconnecting host never got {imei_a} back"
    );
    assert_eq!(imei(&mut b), imei_b);
}

#[test]
fn identity_block_needs_an_ordinal_in_the_host_name_or_a_fitting_count() {
    let out = Command::new(env!("CARGO_BIN_EXE_at7600"))
        .args(["serve", "--pty", "/nonexistent/ttyAT", "--count", "5"])
        .args(["--identity-block", "4"])
        .stdin(Stdio::null())
        .output()
        .expect("at7600 runs");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    // Either this host has no ordinal, or the fleet does not fit its block.
    assert!(
        err.contains("--identity-block needs a host name ending in -ORDINAL")
            || err.contains("--count 5 does not fit --identity-block 4"),
        "{err}"
    );
}

/// A `NOTIFY_SOCKET` whose reader takes nothing: its queue is filled before the daemon
/// starts, so every notification would block its sender.
fn stuck_notify_socket(dir: &Path) -> (UnixDatagram, std::path::PathBuf) {
    let path = dir.join("notify");
    let reader = UnixDatagram::bind(&path).expect("notify socket");
    let filler = UnixDatagram::unbound().expect("socket");
    filler.set_nonblocking(true).expect("non-blocking");
    let mut queued = 0;
    while queued < 100_000 && filler.send_to(b"X=1", &path).is_ok() {
        queued += 1;
    }
    assert!(queued < 100_000, "the notify socket's queue never filled");
    (reader, path)
}

#[test]
fn a_notify_socket_nobody_reads_stalls_no_modem_and_no_reload() {
    // docs/deploy.md: notifications are best effort. A service manager that stopped
    // reading must not hang the modems (READY=1, the reload's STATUS) or the stop.
    let dir = tempfile::tempdir().expect("temp dir");
    let (_reader, socket) = stuck_notify_socket(dir.path());
    let config = config_file("[radio]\nrssi = 25\n");
    let mut modem = Served::start_notifying(config.path(), Some(&socket));
    let answer = modem.csq();
    assert!(answer.contains("+CSQ: 25,99"), "{answer:?}");
    for _ in 0..3 {
        signal(&modem.child, Signal::SIGHUP);
        modem.log("fault schedule reloaded");
        let answer = modem.csq();
        assert!(answer.contains("+CSQ: 25,99"), "{answer:?}");
    }
    signal(&modem.child, Signal::SIGTERM);
    assert!(
        wait_exit(&mut modem.child, WAIT).is_some(),
        "SIGTERM did not stop the daemon"
    );
}

#[test]
fn sighup_with_the_config_file_replaced_by_a_fifo_keeps_serving() {
    // A file that never ends (a FIFO nobody writes, say) is no config file: the
    // reload refuses it at once rather than waiting for it on the modems' runtime.
    let config = config_file("[radio]\nrssi = 25\n");
    let mut modem = Served::start(config.path());
    std::fs::remove_file(config.path()).expect("config removed");
    let made = Command::new("mkfifo")
        .arg(config.path())
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "{made:?}");
    signal(&modem.child, Signal::SIGHUP);
    let line = modem.log("not reloaded");
    assert!(line.contains("not a regular file"), "{line:?}");
    let answer = modem.csq();
    assert!(answer.contains("+CSQ: 25,99"), "{answer:?}");
    assert!(
        modem.child.try_wait().expect("status").is_none(),
        "the daemon exited"
    );
}

/// Bytes the main thread of process `pid` read (`rchar` of `/proc/PID/task/PID/io`).
fn bytes_read_by_main_thread(pid: u32) -> u64 {
    let io = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/io")).expect("its io");
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .and_then(|n| n.parse().ok())
        .expect("rchar")
}

#[test]
fn sighup_reads_and_checks_the_file_off_the_modems_thread() {
    // A big schedule (here 4 MB of comments around it) is read and parsed on a thread
    // of its own: the modem, on the main thread, goes on answering meanwhile.
    let padding = "# padding to make the file big\n".repeat(4 << 20 >> 5);
    let config = config_file(&format!("[radio]\nrssi = 25\n{padding}"));
    let modem = Served::start(config.path());
    let size = std::fs::metadata(config.path()).expect("config").len();
    let before = bytes_read_by_main_thread(modem.child.id());
    signal(&modem.child, Signal::SIGHUP);
    modem.log("fault schedule reloaded");
    let read = bytes_read_by_main_thread(modem.child.id()) - before;
    assert!(
        read < size / 4,
        "the main thread read {read} of {size} bytes"
    );
}
