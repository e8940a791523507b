//! Hosts that misbehave on the serial line: one that writes commands and never reads
//! its answers. A real UART stops taking commands when its output cannot drain; so
//! must the modem: its memory stays bounded, and once the host reads, every answer is
//! there. Driven over the TCP front end and over a real PTY. Every wait is bounded.
mod common;

use common::{rss_kib, Daemon, Port, PtyDaemon};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::thread;
use std::time::{Duration, Instant};

/// The command written over and over: a read form with a long answer (one line per
/// link), about twelve bytes of answer for every byte of command.
const COMMAND: &[u8] = b"AT+CIPOPEN?\r";
/// Commands written in all: 2 MB of commands, about 25 MB of answers.
const COMMANDS: usize = 170_000;
/// How much the daemon may grow while the host does not read (buffers of the modem
/// and the allocator's slack; the answers themselves are 25 MB).
const GROWTH_LIMIT_KIB: u64 = 12 * 1024;

fn commands() -> Vec<u8> {
    COMMAND.repeat(COMMANDS)
}

/// Counts the final results in the answers read, until all `want` arrived.
fn count_oks(mut read: impl FnMut(&mut [u8]) -> usize, want: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut oks = 0;
    let mut tail: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while oks < want && Instant::now() < deadline {
        let n = read(&mut buf);
        tail.extend_from_slice(&buf[..n]);
        // Count complete "OK\r\n" and keep a partial one for the next read.
        let mut start = 0;
        while let Some(at) = tail[start..].windows(4).position(|w| w == b"OK\r\n") {
            oks += 1;
            start += at + 4;
        }
        let keep = tail.len().saturating_sub(3).max(start);
        tail.drain(..keep);
    }
    oks
}

#[test]
fn a_host_that_never_reads_over_tcp_is_stopped_and_loses_no_answer() {
    let d = Daemon::start(&["--log-level", "error"]);
    let mut host = d.modem().host;
    host.write_all(b"AT\r").expect("write");
    let mut buf = [0u8; 64];
    let _ = host.read(&mut buf).expect("first answer");
    let base = rss_kib(d.pid());

    let mut writer = host.try_clone().expect("clone");
    let all = commands();
    let sender = thread::spawn(move || writer.write_all(&all).is_ok());
    // The host writes and does not read: the modem must stop taking commands.
    thread::sleep(Duration::from_secs(3));
    let grown = rss_kib(d.pid()).saturating_sub(base);
    assert!(
        grown < GROWTH_LIMIT_KIB,
        "the daemon grew by {grown} KiB while its host did not read"
    );
    // (The sender may be done: loopback's socket buffers hold megabytes. The bound is
    // on the daemon's own memory.)

    // Now the host reads: every command is answered, in full.
    host.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let oks = count_oks(|b| host.read(b).unwrap_or(0), COMMANDS);
    assert!(sender.join().expect("sender"), "every command was written");
    assert_eq!(oks, COMMANDS, "answers lost");
}

#[test]
fn a_host_that_never_reads_over_a_pty_is_stopped_and_loses_no_answer() {
    let d = PtyDaemon::start(&["--log-level", "error"]);
    let port = Port::open(&d.link);
    port.cmd("AT\r", "OK\\r\\n");
    let base = rss_kib(d.pid());

    let writer = Port(port.0.try_clone().expect("dup"));
    let all = commands();
    let sender = thread::spawn(move || writer.write(&all));
    thread::sleep(Duration::from_secs(3));
    let grown = rss_kib(d.pid()).saturating_sub(base);
    assert!(
        grown < GROWTH_LIMIT_KIB,
        "the daemon grew by {grown} KiB while its host did not read"
    );
    assert!(!sender.is_finished(), "the modem kept taking commands");

    let fd = port.0.as_raw_fd();
    let oks = count_oks(
        |b| {
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            if unsafe { libc::poll(&mut pfd, 1, 1000) } <= 0 {
                return 0;
            }
            nix::unistd::read(fd, b).unwrap_or(0)
        },
        COMMANDS,
    );
    sender.join().expect("sender");
    assert_eq!(oks, COMMANDS, "answers lost");
}
