//! The README's first contact works as written: its picocom line, driven in tmux
//! against a PTY modem and a loopback echo server, shows the tour's screen exactly, and
//! its curl line injects the fault it describes. The same screen is also checked from
//! the modem's bytes alone, with a minimal terminal, where picocom is not installed.
mod common;

use common::{show, Daemon, PtyDaemon};
use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

const README: &str = include_str!("../../../README.md");

/// The port the README's echo server listens on; tests put their own in its place.
const README_PORT: &str = "8080";

/// The fenced block that follows the first line containing `marker`.
fn block_after(marker: &str, fence: &str) -> String {
    let at = README
        .find(marker)
        .unwrap_or_else(|| panic!("README lacks {marker:?}"));
    let rest = &README[at..];
    let start = rest.find(fence).expect("a block") + fence.len();
    let body = &rest[start..];
    let end = body.find("\n```").expect("the block ends");
    body[..end].trim_start_matches('\n').to_string()
}

/// The screen the README promises, with `port` in place of the README's.
fn promised_screen(port: u16) -> String {
    block_after("Terminal 3, the host", "```text").replace(README_PORT, &port.to_string())
}

/// What the host types in the tour, each with the screen it leads to: the promised
/// screen up to where the next typed command's echo begins (all of it after the last).
/// A payload typed after the `>` prompt goes with its command.
struct Step {
    line: String,
    payload: Option<&'static str>,
    screen: String,
}

fn steps(port: u16) -> Vec<Step> {
    let screen = promised_screen(port);
    let mut typed: Vec<(usize, &str)> = Vec::new();
    let mut offset = 0;
    for line in screen.split_inclusive('\n') {
        if let Some(at) = line.find("AT") {
            typed.push((offset + at, line[at..].trim_end()));
        }
        offset += line.len();
    }
    typed
        .iter()
        .enumerate()
        .map(|(k, (_, line))| {
            let end = typed.get(k + 1).map_or(screen.len(), |(at, _)| *at);
            Step {
                line: line.to_string(),
                payload: line.starts_with("AT+CIPSEND").then_some("HELLO"),
                screen: screen[..end].trim_end().to_string(),
            }
        })
        .collect()
}

/// Bytes as a terminal shows them: CR back to the first column, LF down a line.
fn render(bytes: &[u8]) -> String {
    let mut lines: Vec<Vec<u8>> = vec![Vec::new()];
    let mut col = 0;
    for &b in bytes {
        match b {
            b'\r' => col = 0,
            b'\n' => lines.push(vec![b' '; col]),
            _ => {
                let line = lines.last_mut().expect("a line");
                if line.len() <= col {
                    line.resize(col + 1, b' ');
                }
                line[col] = b;
                col += 1;
            }
        }
    }
    let text: Vec<String> = lines
        .iter()
        .map(|l| String::from_utf8_lossy(l).trim_end().to_string())
        .collect();
    text.join("\n").trim_end().to_string()
}

/// Reads from `host` until what arrived, rendered, is `screen` (or, with a `>`
/// prompt, ends with it); bounded.
fn read_until_screen(host: &mut std::net::TcpStream, got: &mut Vec<u8>, screen: &str) {
    let deadline = Instant::now() + common::WAIT;
    let mut buf = [0u8; 4096];
    host.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let done = |shown: &str| shown == screen || (screen == ">" && shown.ends_with('>'));
    while !done(&render(got)) {
        assert!(
            Instant::now() < deadline,
            "waited for the screen\n{screen}\ngot\n{}\n({})",
            render(got),
            show(got)
        );
        if let Ok(n) = host.read(&mut buf) {
            assert!(n > 0, "the modem hung up");
            got.extend_from_slice(&buf[..n]);
        }
    }
}

#[test]
fn the_tour_screen_is_what_the_modem_sends() {
    let port = common::tcp_echo();
    let daemon = Daemon::start(&[]);
    let mut host = daemon.modem().host;
    let mut got = Vec::new();
    for step in steps(port) {
        host.write_all(format!("{}\r", step.line).as_bytes())
            .expect("write");
        if let Some(payload) = step.payload {
            read_until_screen(&mut host, &mut got, ">");
            host.write_all(payload.as_bytes()).expect("write");
        }
        read_until_screen(&mut host, &mut got, &step.screen);
    }
}

/// tmux on its own server socket, killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        let text = self.run(&["capture-pane", "-p", "-t", "tour"]);
        let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
        lines.join("\n").trim_end().to_string()
    }

    /// Waits (bounded) until the screen ends with `tail`.
    fn wait_for(&self, tail: &str) -> String {
        let deadline = Instant::now() + common::WAIT;
        loop {
            let screen = self.screen();
            if screen.ends_with(tail) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {tail:?}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Tmux {
    /// Waits (bounded) until the program in the pane has put its terminal in raw mode:
    /// keys typed before that pass the terminal's line discipline, which turns Enter's
    /// CR into LF.
    fn wait_for_raw_mode(&self) {
        let tty = self.run(&["display-message", "-p", "-t", "tour", "#{pane_tty}"]);
        let deadline = Instant::now() + common::WAIT;
        loop {
            let out = Command::new("stty")
                .args(["-F", tty.trim(), "-a"])
                .output()
                .expect("stty runs");
            let modes = String::from_utf8_lossy(&out.stdout);
            if modes.split_whitespace().any(|m| m == "-icanon") {
                return;
            }
            assert!(Instant::now() < deadline, "never raw: {modes}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

/// Whether `program` runs here; CI installs it, so there its absence fails the test.
fn installed(program: &str) -> bool {
    let found = Command::new(program)
        .arg("-h")
        .output()
        .is_ok_and(|o| o.status.code().is_some());
    assert!(
        found || std::env::var_os("CI").is_none(),
        "{program} is not installed (.ci/run installs it)"
    );
    found
}

#[test]
fn picocom_as_the_readme_says_shows_the_tour_and_curl_injects_its_fault() {
    if !installed("picocom") || !installed("tmux") || !installed("curl") {
        eprintln!("skipped: picocom, tmux and curl are needed");
        return;
    }
    let port = common::tcp_echo();
    let control = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let daemon = PtyDaemon::start(&["--control", &format!("127.0.0.1:{control}")]);
    let picocom = block_after("## Talking to it", "```sh");
    let picocom = picocom
        .lines()
        .find(|l| l.starts_with("picocom "))
        .expect("a picocom line")
        .split('#')
        .next()
        .expect("the command")
        .trim()
        .replace("./ttyAT0", &daemon.link.to_string_lossy());
    let tmux = Tmux {
        socket: format!("at7600-readme-{}", std::process::id()),
    };
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "tour",
        "-x",
        "100",
        "-y",
        "60",
        &picocom,
    ]);
    tmux.wait_for_raw_mode();
    for step in steps(port) {
        tmux.run(&["send-keys", "-t", "tour", "-l", &step.line]);
        tmux.run(&["send-keys", "-t", "tour", "Enter"]);
        if let Some(payload) = step.payload {
            tmux.wait_for(">");
            tmux.run(&["send-keys", "-t", "tour", "-l", payload]);
        }
        tmux.wait_for(&step.screen);
    }
    assert_eq!(tmux.screen(), promised_screen(port));

    let curl = block_after("Back in terminal 2", "```sh")
        .replace("\\\n", " ")
        .replace("127.0.0.1:7600", &format!("127.0.0.1:{control}"));
    let out = Command::new("sh")
        .args(["-c", &curl])
        .output()
        .expect("curl runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), r#"{"ok":true}"#);
    tmux.wait_for("\n\n+IPCLOSE: 1,1");
}

#[test]
fn the_modem_keeps_its_state_across_a_reopen_and_atz_resets_it() {
    let daemon = PtyDaemon::start(&[]);
    let port = common::Port::open(&daemon.link);
    port.cmd("ATE0\r", "OK\\r\\n");
    drop(port);
    // As a user would: the port is opened again a moment later (a close and an open in
    // the same instant can race the kernel's own hang-up of the old session).
    std::thread::sleep(std::time::Duration::from_millis(200));
    let port = common::Port::open(&daemon.link);
    // Still no echo after the host closed and reopened the port.
    assert_eq!(port.cmd("AT\r", "OK\\r\\n"), "\\r\\nOK\\r\\n");
    port.cmd("ATZ\r", "OK\\r\\n");
    assert_eq!(port.cmd("AT\r", "OK\\r\\n"), "AT\\r\\r\\nOK\\r\\n");
}

#[test]
fn the_tours_first_terminal_shows_what_serve_prints() {
    let promised = block_after("Terminal 1, the modem with its control API", "```text");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = common::serve_command(["--pty", "./ttyAT0", "--control", "127.0.0.1:0"])
        .current_dir(dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("daemon starts");
    let ready = common::ready_line(&mut child);
    let _ = child.kill();
    let out = child.wait_with_output().expect("daemon ends");
    let err = String::from_utf8_lossy(&out.stderr);
    // Timestamps, ports and the PTY's number differ from run to run.
    let normal = |line: &str| -> String {
        let line = match line.split_once("Z ") {
            Some((time, rest)) if time.starts_with("20") => rest.trim_start(),
            _ => line,
        };
        line.split(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
            .collect::<Vec<_>>()
            .join("")
    };
    let seen: Vec<String> = err
        .lines()
        .filter(|l| !l.contains("DEBUG"))
        .chain([ready.trim_end()])
        .map(normal)
        .collect();
    let want: Vec<String> = promised.lines().map(normal).collect();
    assert_eq!(seen[..want.len().min(seen.len())], want[..], "{err}{ready}");
}
