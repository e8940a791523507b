//! Bulk data through transparent mode, both directions at once, with a slow host.
//!
//! The host is a TCP connection to `serve --tcp`; link 0 is a transparent TCP link to a
//! loopback peer. The host writes 64 MiB of seeded pseudo-random bytes while the peer
//! writes another 64 MiB towards the host; the host reads slowly (it stops now and then)
//! so that back-pressure must engage through the core, the driver and the backend.
//! Every byte is compared with the generator's stream, so loss, duplication and
//! reordering all fail, and a stall fails at the deadline.
mod common;

use common::{Daemon, WAIT};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const TOTAL: usize = 64 * 1024 * 1024;
/// The whole transfer must be over by then.
const DEADLINE: Duration = Duration::from_secs(120);
/// The slow host stops reading for `PAUSE` after every `PAUSE_EVERY` bytes.
const PAUSE_EVERY: usize = 2 * 1024 * 1024;
const PAUSE: Duration = Duration::from_millis(40);
const STALL: Duration = Duration::from_secs(1);
/// The daemon's peak memory must stay under this: back-pressure, not buffering, is
/// what copes with the slow host.
const MAX_RSS_KIB: u64 = 48 * 1024;
const SEED_UP: u64 = 0x5eed_0001;
const SEED_DOWN: u64 = 0x5eed_0002;

/// splitmix64 as a byte stream: the same seed always gives the same bytes.
struct Stream {
    state: u64,
    word: [u8; 8],
    used: usize,
}

impl Stream {
    fn new(seed: u64) -> Self {
        Stream {
            state: seed,
            word: [0; 8],
            used: 8,
        }
    }

    fn next_word(&mut self) -> [u8; 8] {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)).to_le_bytes()
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            if self.used == 8 {
                self.word = self.next_word();
                self.used = 0;
            }
            *b = self.word[self.used];
            self.used += 1;
        }
    }
}

/// Writes `TOTAL` bytes of `seed`'s stream.
fn write_all(mut w: TcpStream, seed: u64, deadline: Instant) -> Result<(), String> {
    w.set_write_timeout(Some(WAIT)).map_err(|e| e.to_string())?;
    let mut gen = Stream::new(seed);
    let mut buf = vec![0u8; 64 * 1024];
    let mut sent = 0;
    while sent < TOTAL {
        if Instant::now() > deadline {
            return Err(format!("writer {seed:x}: deadline after {sent} bytes"));
        }
        let n = buf.len().min(TOTAL - sent);
        gen.fill(&mut buf[..n]);
        w.write_all(&buf[..n])
            .map_err(|e| format!("writer {seed:x}: {e} after {sent} bytes"))?;
        sent += n;
    }
    Ok(())
}

/// Reads `TOTAL` bytes and checks each against `seed`'s stream; `slow` pauses now and
/// then. Returns how long the reading took.
fn read_all(
    mut r: TcpStream,
    seed: u64,
    slow: bool,
    deadline: Instant,
) -> Result<Duration, String> {
    let start = Instant::now();
    r.set_read_timeout(Some(WAIT)).map_err(|e| e.to_string())?;
    let mut gen = Stream::new(seed);
    let mut buf = vec![0u8; 64 * 1024];
    let mut want = vec![0u8; 64 * 1024];
    let mut got = 0;
    let mut next_pause = PAUSE_EVERY;
    while got < TOTAL {
        if Instant::now() > deadline {
            return Err(format!("reader {seed:x}: deadline after {got} bytes"));
        }
        // Never past TOTAL: the peer closing afterwards prints `CLOSED`, which is not data.
        let room = buf.len().min(TOTAL - got);
        let n = match r.read(&mut buf[..room]) {
            Ok(0) => return Err(format!("reader {seed:x}: EOF after {got} bytes")),
            Ok(n) => n,
            Err(e) => return Err(format!("reader {seed:x}: {e} after {got} bytes")),
        };
        gen.fill(&mut want[..n]);
        if let Some(i) = (0..n).find(|&i| buf[i] != want[i]) {
            return Err(format!("reader {seed:x}: byte {} differs", got + i));
        }
        got += n;
        if slow && got >= next_pause {
            // Once, half way, a long stall: every buffer on the way must fill up.
            let stall = next_pause == TOTAL / 2;
            thread::sleep(if stall { STALL } else { PAUSE });
            next_pause += PAUSE_EVERY;
        }
    }
    Ok(start.elapsed())
}

#[test]
fn sixty_four_mib_each_way_through_data_mode_with_a_slow_host() {
    let peer_listener = TcpListener::bind("127.0.0.1:0").expect("bind peer");
    let port = peer_listener.local_addr().expect("addr").port();
    let d = Daemon::start(&[]);
    let mut m = d.modem();
    m.send("AT+CIPMODE=1\r", "OK\\r\\n");
    m.send("AT+NETOPEN\r", "+NETOPEN: 0\\r\\n");
    m.send(
        format!("AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",{port}\r"),
        "CONNECT 115200\\r\\n",
    );
    let (peer, _) = peer_listener.accept().expect("peer accepts");

    let start = Instant::now();
    let deadline = start + DEADLINE;
    let (done_tx, done_rx) = mpsc::channel();
    let spawn = |name: &'static str, job: Box<dyn FnOnce() -> Result<Duration, String> + Send>| {
        let tx = done_tx.clone();
        thread::spawn(move || {
            let _ = tx.send((name, job()));
        });
    };
    let host = m.host.try_clone().expect("clone host");
    let host_r = m.host.try_clone().expect("clone host");
    let peer_w = peer.try_clone().expect("clone peer");
    spawn(
        "host writer",
        Box::new(move || write_all(host, SEED_UP, deadline).map(|()| start.elapsed())),
    );
    spawn(
        "peer reader",
        Box::new(move || read_all(peer, SEED_UP, false, deadline)),
    );
    spawn(
        "peer writer",
        Box::new(move || write_all(peer_w, SEED_DOWN, deadline).map(|()| start.elapsed())),
    );
    spawn(
        "host reader (slow)",
        Box::new(move || read_all(host_r, SEED_DOWN, true, deadline)),
    );
    drop(done_tx);

    let mut up = Duration::ZERO;
    let mut down = Duration::ZERO;
    for _ in 0..4 {
        let left = deadline.saturating_duration_since(Instant::now()) + WAIT;
        let (name, result) = done_rx
            .recv_timeout(left)
            .expect("every side finishes before the deadline");
        match result {
            Ok(took) => {
                eprintln!("{name}: done after {took:?}");
                match name {
                    "peer reader" => up = took,
                    "host reader (slow)" => down = took,
                    _ => {}
                }
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
    let peak = peak_rss_kib(d.pid());
    eprintln!("daemon peak RSS: {peak} KiB");
    assert!(
        peak < MAX_RSS_KIB,
        "the daemon buffered instead of pushing back: {peak} KiB"
    );
    let mib = |d: Duration| TOTAL as f64 / d.as_secs_f64() / (1024.0 * 1024.0);
    eprintln!(
        "64 MiB host->peer in {up:?} ({:.1} MiB/s), peer->host in {down:?} ({:.1} MiB/s)",
        mib(up),
        mib(down)
    );
}

/// The peak resident set (VmHWM) of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}
