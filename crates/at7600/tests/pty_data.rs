//! Data mode on the PTY front end: the `+++` escape with shortened guard times, and the
//! host closing the port as DTR OFF (`AT&D1` keeps the connection, `AT&D2` closes it).
//! A loopback TCP peer stands in for the internet. Every wait is bounded.
mod common;

use common::{Port, PtyDaemon, WAIT};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::thread;
use std::time::Duration;

/// Silence kept around `+++`, well past the daemon's 300 ms guard time.
const SILENCE: Duration = Duration::from_millis(450);

/// Guard times short enough for a test.
const GUARDS: &[&str] = &["--escape-guard-ms", "300", "--escape-gap-ms", "200"];

fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind peer");
    let port = l.local_addr().expect("addr").port();
    (l, port)
}

/// Data mode on link 0 towards a fresh loopback peer; returns the peer's socket.
fn connect(port: &Port) -> TcpStream {
    let (l, p) = listener();
    port.cmd("AT+CIPMODE=1\r", "OK\\r\\n");
    port.cmd("AT+NETOPEN\r", "+NETOPEN: 0\\r\\n");
    port.cmd(
        &format!("AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",{p}\r"),
        "CONNECT 115200\\r\\n",
    );
    let (s, _) = l.accept().expect("peer accepts");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    s
}

fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut got = vec![0u8; n];
    s.read_exact(&mut got).expect("peer reads");
    got
}

#[test]
fn pty_escape_with_short_guard_times_then_ato() {
    let d = PtyDaemon::start(GUARDS);
    let port = Port::open(&d.link);
    let mut peer = connect(&port);

    // `+++` inside data is data.
    port.write(b"x+++y");
    assert_eq!(read_n(&mut peer, 5), b"x+++y");
    // `+++` after silence but followed by data too soon is data as well.
    thread::sleep(SILENCE);
    port.write(b"+++");
    thread::sleep(Duration::from_millis(100));
    port.write(b"z");
    assert_eq!(read_n(&mut peer, 4), b"+++z");
    assert_eq!(port.read_for(500), "", "no escape happened");

    // A guarded `+++` is the escape: OK, command mode, nothing sent.
    thread::sleep(SILENCE);
    port.write(b"+++");
    assert_eq!(port.read_until("\\r\\nOK\\r\\n"), "\\r\\nOK\\r\\n");
    assert_eq!(port.cmd("AT\r", "OK\\r\\n"), "AT\\r\\r\\nOK\\r\\n");
    peer.write_all(b"while away").expect("peer writes");
    assert_eq!(
        port.cmd("ATO\r", "while away"),
        "ATO\\r\\r\\nCONNECT 115200\\r\\nwhile away"
    );
    port.write(b"back");
    assert_eq!(read_n(&mut peer, 4), b"back", "the escape was not sent");
}

#[test]
fn pty_close_in_data_mode_with_at_d2_closes_the_link() {
    let d = PtyDaemon::start(GUARDS);
    let port = Port::open(&d.link);
    port.cmd("AT&D2\r", "OK\\r\\n");
    let mut peer = connect(&port);
    port.write(b"hi");
    assert_eq!(read_n(&mut peer, 2), b"hi");

    drop(port); // DTR OFF
    let mut rest = Vec::new();
    peer.read_to_end(&mut rest).expect("peer sees the close");
    assert_eq!(rest, b"");

    let port = reopen(&d.link);
    assert_eq!(
        port.read_until("+IPCLOSE: 0,2\\r\\n"),
        "\\r\\n+IPCLOSE: 0,2\\r\\n"
    );
    let open = port.cmd("AT+CIPOPEN?\r", "OK\\r\\n");
    assert!(open.contains("+CIPOPEN: 0\\r\\n"), "link 0 is free: {open}");
    assert_eq!(port.cmd("ATO\r", "ERROR\\r\\n"), "ATO\\r\\r\\nERROR\\r\\n");
}

#[test]
fn pty_close_in_data_mode_with_at_d1_keeps_the_connection() {
    let d = PtyDaemon::start(GUARDS);
    let port = Port::open(&d.link);
    port.cmd("AT&D1\r", "OK\\r\\n");
    let mut peer = connect(&port);
    port.write(b"hi");
    assert_eq!(read_n(&mut peer, 2), b"hi");

    drop(port); // DTR OFF: command mode, the connection stays
    let port = reopen(&d.link);
    assert_eq!(port.read_until("\\r\\nOK\\r\\n"), "\\r\\nOK\\r\\n");
    let open = port.cmd("AT+CIPOPEN?\r", "OK\\r\\n");
    assert!(
        open.contains("+CIPOPEN: 0,\"TCP\""),
        "link 0 is open: {open}"
    );
    peer.write_all(b"still here").expect("peer writes");
    assert_eq!(
        port.cmd("ATO\r", "still here"),
        "ATO\\r\\r\\nCONNECT 115200\\r\\nstill here"
    );
    port.write(b"yes");
    assert_eq!(read_n(&mut peer, 3), b"yes");
}

/// Opens the port again once the daemon has seen it closed (it looks every 100 ms).
fn reopen(link: &Path) -> Port {
    thread::sleep(Duration::from_millis(300));
    Port::open(link)
}

/// Reads `n` bytes from the port (bounded by [`WAIT`] without progress).
fn read_port(port: &Port, n: usize) -> Vec<u8> {
    use std::os::fd::AsRawFd;
    let mut got = Vec::with_capacity(n);
    let mut buf = vec![0u8; 64 * 1024];
    let mut last = std::time::Instant::now();
    while got.len() < n {
        let mut pfd = libc::pollfd {
            fd: port.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, 100) } > 0 {
            if let Ok(k) = nix::unistd::read(port.0.as_raw_fd(), &mut buf) {
                got.extend_from_slice(&buf[..k]);
                last = std::time::Instant::now();
            }
        }
        assert!(
            last.elapsed() < WAIT,
            "stalled after {} of {n} bytes",
            got.len()
        );
    }
    got
}

/// A peer streaming faster than the PTY drains: the modem pauses the link while its
/// output is backed up and must resume it once the host has read (a resume left queued
/// in the core stalled the stream for good).
#[test]
fn pty_transparent_download_faster_than_the_port_drains_arrives_whole() {
    let d = PtyDaemon::start(GUARDS);
    let port = Port::open(&d.link);
    let mut peer = connect(&port);
    let data: Vec<u8> = (0..16u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let sent = data.clone();
    let writer = thread::spawn(move || peer.write_all(&sent).is_ok());
    let mut got = read_port(&port, data.len());
    assert!(writer.join().expect("peer"), "the peer wrote everything");
    // The peer closes once done: the modem says so after the data.
    let mut tail = common::show(&got.split_off(data.len()));
    if tail.is_empty() {
        tail = port.read_until("\\r\\nCLOSED\\r\\n");
    }
    assert_eq!(tail, "\\r\\nCLOSED\\r\\n");
    let first = got.iter().zip(&data).position(|(a, b)| a != b);
    assert!(
        got == data,
        "the stream arrived changed: {} of {} bytes, first difference at {first:?}: {:?}",
        got.len(),
        data.len(),
        first.map(|i| common::show(&got[i.saturating_sub(8)..(i + 24).min(got.len())]))
    );
}
