//! The stdio front end when standard output is a regular file (a log of the session):
//! output that does not end a line (an echo, the `>` prompt) still reaches it at once,
//! though standard output is line-buffered there. Every wait is bounded.
mod common;

use common::{serve_command, WAIT};
use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn an_echo_without_a_line_end_reaches_a_file_on_standard_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("session.log");
    let file = std::fs::File::create(&log).expect("log file");
    let mut command = serve_command(["--stdio", "--log-level", "error"]);
    command.stdin(Stdio::piped()).stdout(file);
    let mut child = command.spawn().expect("daemon starts");
    let mut stdin = child.stdin.take().expect("stdin");
    // "A" is echoed on its own: no line end follows until the command is complete.
    stdin.write_all(b"A").expect("write");
    let deadline = Instant::now() + WAIT;
    let mut got = String::new();
    while Instant::now() < deadline {
        got = std::fs::read_to_string(&log).expect("read log");
        if got == "A" {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(got, "A", "the echo stayed in a buffer");
}
