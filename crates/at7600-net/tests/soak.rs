//! Deterministic soak on the simulated network: many seeds, each a random but valid
//! session (commands and data in the three access modes, a random link profile, faults
//! at random times, the host's input split at random points), with the invariants
//! checked after every step against what the simulated peers really saw
//! ([`SimNetwork::record_peers`](at7600_net::sim::SimNetwork::record_peers)), never
//! against the modem's own claims:
//! - every byte a peer sent reaches the host once and in order, unless the host was
//!   told with a URC that the link died;
//! - every byte confirmed by `+CIPSEND: n,req,cnf` reached the peer;
//! - every command gets its final result within the manual's maximum response time
//!   (120 s), and `AT+CIPOPEN?`, `AT+CIPCLOSE?` and `AT+CIPRXGET=4` agree with the truth;
//! - each link's buffer stays within the documented limit.
//!
//! `cargo test -p at7600-net --test soak` checks a few hundred seeds. A failing seed
//! prints its set-up and last steps and the command that replays it
//! (`AT7600_SOAK_SEED=n`; with `AT7600_SOAK_TRACE=1` every step is printed);
//! `AT7600_SOAK_SEEDS=n` and `AT7600_SOAK_SECS=s` soak longer (`-- --ignored`).
//!
//! One thing is allowed for on the links it touches: a stall fault keeps confirmed
//! bytes from the peer (they sit in the send buffer, as on a real stack). An
//! `AT+CIPCLOSE` with bytes still in flight is checked like any other: the simulated
//! network delivers them before the connection ends, as a real close flushes.

use at7600_core::{ConnId, ModemConfig, NetCommand};
use at7600_net::rng::Rng;
use at7600_net::sim::SimConfig;
use at7600_net::{Fault, LinkProfile, Sim, PROFILE_NAMES};
use std::time::{Duration, Instant};

/// Seeds the default test run checks.
const DEFAULT_SEEDS: u64 = 500;
/// The manual's maximum response time of the TCP/IP commands.
const MAX_RESPONSE: Duration = Duration::from_secs(120);
/// Steps of one session.
const STEPS: usize = 40;
/// Payload bytes the hosts type (no CR: a CR in transparent data would look like a
/// result line to the host's parser; LF only where a length frames the data).
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789 .-";

/// How the host reads a session's links.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Direct push with `+RECEIVE,<n>,<len>` headers.
    Push,
    /// Buffer access (`AT+CIPRXGET=1`).
    Buffer,
    /// Transparent (`AT+CIPMODE=1`, link 0 only).
    Transparent,
}

/// One thing the modem printed, as a host reads it.
#[derive(Debug)]
enum Item {
    Line(String),
    Prompt,
}

/// The host's books of one link.
#[derive(Debug, Default)]
struct LinkBook {
    link: usize,
    conn: Option<ConnId>,
    open: bool,
    /// Told it died (`+IPCLOSE`, `+CIPEVENT`, `CLOSED`).
    died: bool,
    /// Bytes the host got for this connection.
    got: Vec<u8>,
    /// Payloads the modem confirmed with `<cnf>` = `<req>`.
    confirmed: Vec<u8>,
    /// Payloads taken (`OK`) whose `+CIPSEND` report has not come yet.
    unreported: std::collections::VecDeque<Vec<u8>>,
    /// Whether a stall fault may have kept confirmed bytes from the peer.
    stalled: bool,
}

/// Counters over all seeds.
#[derive(Debug, Default)]
struct Totals {
    seeds: u64,
    faults: u64,
    bytes_checked: u64,
    commands: u64,
}

/// One seed's session.
struct Soak {
    seed: u64,
    sim: Sim,
    rng: Rng,
    mode: Mode,
    parsed: usize,
    out: Vec<u8>,
    data_mode: bool,
    links: Vec<LinkBook>,
    /// Link books of connections that ended, checked at the end.
    done: Vec<LinkBook>,
    items: Vec<Item>,
    trace: Vec<String>,
    commands: u64,
    /// Links a stall fault is scheduled for.
    stalls: Vec<Option<u8>>,
}

type Check = Result<(), String>;

impl Soak {
    fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let name = PROFILE_NAMES[(rng.next_u64() % PROFILE_NAMES.len() as u64) as usize];
        let mut profile = LinkProfile::named(name).expect("a named profile");
        profile.loss = [0.0, 0.0, 0.02, 0.1][(rng.next_u64() % 4) as usize];
        let mode = [Mode::Push, Mode::Buffer, Mode::Transparent][(rng.next_u64() % 3) as usize];
        let mut config = ModemConfig::default();
        // Short `+++` guard times, so that escapes cost little virtual time.
        config.escape.guard = Duration::from_millis(200);
        let mut sim = Sim::new(config, SimConfig::default(), profile, seed);
        sim.net.record_peers();
        // Echo off before the host starts reading, so every byte after is an answer.
        sim.host("ATE0\r");
        sim.take_output();
        let mut soak = Soak {
            seed,
            sim,
            rng,
            mode,
            parsed: 0,
            out: Vec::new(),
            data_mode: false,
            links: (0..10)
                .map(|link| LinkBook {
                    link,
                    ..LinkBook::default()
                })
                .collect(),
            done: Vec::new(),
            items: Vec::new(),
            trace: vec![format!(
                "profile {name} loss {} mode {mode:?}",
                profile.loss
            )],
            commands: 0,
            stalls: Vec::new(),
        };
        // Faults at random times in the session's first minutes.
        for _ in 0..soak.rng.next_u64() % 4 {
            let at = Duration::from_millis(soak.rng.next_u64() % 240_000);
            let link = Some((soak.rng.next_u64() % 3) as u8);
            let fault = match soak.rng.next_u64() % 6 {
                0 => Fault::PeerClose { link },
                1 => Fault::NetworkLost {
                    for_ms: soak.rng.next_u64() % 5000,
                },
                2 => Fault::RefuseOpen,
                3 => Fault::DnsFailure,
                4 => Fault::Stall { link },
                _ => Fault::Radio {
                    rssi: Some((soak.rng.next_u64() % 32) as u8),
                    reg_status: Some(1),
                    tz: None,
                },
            };
            soak.trace.push(format!("fault at {at:?}: {fault:?}"));
            if let Fault::Stall { link } = fault {
                soak.stalls.push(link);
            }
            soak.sim.schedule(at, fault);
        }
        soak
    }

    /// Sends a command line (split at random points) and waits for its final result;
    /// returns every line that came meanwhile.
    fn command(&mut self, line: &str) -> Result<Vec<String>, String> {
        self.command_ending(line, "\r")
    }

    /// [`Soak::command`] with the line ended by `end` (`\r\n` before a payload that
    /// begins with `\n`: one `\n` after a command's `\r` is swallowed).
    fn command_ending(&mut self, line: &str, end: &str) -> Result<Vec<String>, String> {
        self.parse()?;
        self.items.clear();
        self.trace.push(format!("> {line}"));
        self.commands += 1;
        let start = self.sim.now();
        self.type_split(format!("{line}{end}").as_bytes())?;
        self.wait_final(start, line)
    }

    /// Runs until a final result (or a CIPSEND prompt) arrives, at most the maximum
    /// response time after `start`.
    fn wait_final(&mut self, start: Duration, what: &str) -> Result<Vec<String>, String> {
        let deadline = start + MAX_RESPONSE;
        for _ in 0..1_000_000 {
            self.parse()?;
            if let Some(pos) = self.items.iter().position(is_final) {
                let lines = (self.items.drain(..=pos))
                    .map(|i| match i {
                        Item::Line(l) => l,
                        Item::Prompt => ">".into(),
                    })
                    .collect();
                return Ok(lines);
            }
            self.check_bounds()?;
            if !self.sim.step(deadline) {
                break;
            }
        }
        Err(self.fail(format!(
            "no final result for {what} within {MAX_RESPONSE:?}"
        )))
    }

    /// Runs until a line starting with `prefix` arrives (a URC that ends an operation),
    /// at most `max`; whether it came.
    fn wait_line(&mut self, prefix: &str, max: Duration) -> Result<Option<String>, String> {
        self.wait_lines(&[prefix], max)
    }

    /// [`Soak::wait_line`] for the first line with any of `prefixes`.
    fn wait_lines(&mut self, prefixes: &[&str], max: Duration) -> Result<Option<String>, String> {
        let deadline = self.sim.now() + max;
        for _ in 0..1_000_000 {
            self.parse()?;
            let found = self.items.iter().position(
                |i| matches!(i, Item::Line(l) if prefixes.iter().any(|p| l.starts_with(p))),
            );
            if let Some(pos) = found {
                let line = self.items.drain(..=pos).next_back();
                if let Some(Item::Line(l)) = line {
                    return Ok(Some(l));
                }
            }
            self.check_bounds()?;
            if !self.sim.step(deadline) {
                break;
            }
        }
        self.parse()?;
        Ok(None)
    }

    /// Lets `d` of virtual time pass, checking after every step.
    fn run(&mut self, d: Duration) -> Check {
        let end = self.sim.now() + d;
        for _ in 0..1_000_000 {
            self.parse()?;
            self.check_bounds()?;
            if !self.sim.step(end) {
                break;
            }
        }
        self.sim.run_for(end.saturating_sub(self.sim.now()));
        self.parse()
    }

    /// Each link's buffer within its documented limit (plus one segment in flight).
    fn check_bounds(&self) -> Check {
        let limit = self.sim.modem.config().limits.rx_buffer + 1500;
        for l in self.sim.modem.status().links {
            if l.buffered > limit {
                return Err(self.fail(format!("link {} buffers {} bytes", l.link, l.buffered)));
            }
        }
        Ok(())
    }

    fn pick(&mut self, n: u64) -> u64 {
        self.rng.next_u64() % n.max(1)
    }

    fn fail(&self, what: String) -> String {
        // The session's set-up (profile, faults), then its last steps.
        let head = self.trace.iter().take_while(|l| !l.starts_with(['<', '>']));
        let skip =
            self.trace
                .len()
                .saturating_sub(if std::env::var_os("AT7600_SOAK_TRACE").is_some() {
                    usize::MAX / 2
                } else {
                    25
                });
        let tail: Vec<&str> = (head.chain(self.trace.iter().skip(skip)))
            .map(|s| s.as_str())
            .collect();
        format!(
            "soak seed {} failed at {:?}: {what}\n--- last steps:\n{}\n--- replay: AT7600_SOAK_SEED={} cargo test -p at7600-net --test soak",
            self.seed,
            self.sim.now(),
            tail.join("\n"),
            self.seed
        )
    }

    /// Feeds `bytes` split at random points, each piece a few milliseconds apart, and
    /// only while the modem wants input (as a runtime does).
    fn type_split(&mut self, bytes: &[u8]) -> Check {
        let mut rest = bytes;
        while !rest.is_empty() {
            for _ in 0..10_000 {
                if self.sim.modem.wants_host_input() {
                    break;
                }
                let next = self.sim.now() + Duration::from_millis(100);
                self.sim.step(next);
            }
            if !self.sim.modem.wants_host_input() {
                return Err(self.fail("the modem never wanted the host's input again".into()));
            }
            let n = 1 + self.pick(rest.len() as u64) as usize;
            let (piece, tail) = rest.split_at(n);
            self.sim.host(piece);
            rest = tail;
            if !rest.is_empty() {
                let gap = Duration::from_millis(self.pick(20));
                self.run(gap)?;
            }
        }
        Ok(())
    }

    /// Parses new output into items and checks what they say as it goes.
    fn parse(&mut self) -> Check {
        self.out.extend(self.sim.take_output());
        loop {
            let rest = &self.out[self.parsed..];
            if rest.is_empty() {
                break;
            }
            if rest[0] != b'\r' && self.data_mode {
                let n = rest.iter().position(|&b| b == b'\r').unwrap_or(rest.len());
                let data = rest[..n].to_vec();
                self.parsed += n;
                self.on_data(0, data)?;
                continue;
            }
            // A line: `\r\n` before it, except inside a block of information lines.
            let lead = if rest.starts_with(b"\r\n") { 2 } else { 0 };
            if rest.len() < lead + 1 {
                break;
            }
            if rest[lead] == b'>' {
                self.parsed += lead + 1;
                self.items.push(Item::Prompt);
                continue;
            }
            let Some(end) = rest[lead..].windows(2).position(|w| w == b"\r\n") else {
                if rest.len() > 4096 {
                    return Err(self.fail(format!("unframed output {:?}", show(rest))));
                }
                break;
            };
            let line = String::from_utf8_lossy(&rest[lead..lead + end]).into_owned();
            let body = lead + end + 2;
            // A line with a counted block of data behind it.
            let framed = if let Some(h) = line.strip_prefix("+RECEIVE,") {
                let v = nums(h);
                Some((v[0] as usize, v[1] as usize, 0))
            } else if let Some(h) = line.strip_prefix("+CIPRXGET: 2,") {
                let v = nums(h);
                Some((v[0] as usize, v[1] as usize, 2))
            } else {
                None
            };
            match framed {
                Some((link, len, trailer)) => {
                    if rest.len() < body + len + trailer {
                        break;
                    }
                    let data = rest[body..body + len].to_vec();
                    self.parsed += body + len;
                    self.items.push(Item::Line(line));
                    self.on_data(link, data)?;
                }
                None => {
                    self.parsed += body;
                    if line.is_empty() {
                        continue;
                    }
                    self.on_line(&line)?;
                    self.items.push(Item::Line(line));
                }
            }
        }
        Ok(())
    }

    /// Bytes for the host on `link`: must continue what the peer sent, in order.
    fn on_data(&mut self, link: usize, data: Vec<u8>) -> Check {
        let book = &mut self.links[link];
        let Some(conn) = book.conn else {
            return Err(self.fail(format!("data on link {link} with no connection")));
        };
        book.got.extend_from_slice(&data);
        let sent = self
            .sim
            .net
            .peers()
            .and_then(|p| p.get(&conn))
            .map(|p| p.sent.as_slice())
            .unwrap_or_default();
        let got = &self.links[link].got;
        if !sent.starts_with(got) {
            return Err(self.fail(format!(
                "link {link}: the host got {} bytes that are not what the peer sent ({} bytes)",
                got.len(),
                sent.len()
            )));
        }
        Ok(())
    }

    /// A line: URCs change the books.
    fn on_line(&mut self, line: &str) -> Check {
        self.trace.push(format!("< {line}"));
        if line == "CONNECT 115200" {
            self.data_mode = true;
        }
        if line == "CLOSED" {
            self.data_mode = false;
            self.end_link(0, true);
        }
        if line == "+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY" {
            self.data_mode = false;
            for i in 0..10 {
                self.links[i].died |= self.links[i].open;
            }
        }
        if let Some(r) = line.strip_prefix("+IPCLOSE: ") {
            let v = nums(r);
            self.links[v[0] as usize].died = true;
            // Buffered bytes stay readable; the link is freed when they are read.
        }
        if let Some(r) = line.strip_prefix("+CIPOPEN: ") {
            let v = nums(r);
            if v.len() == 2 {
                let i = v[0] as usize;
                if v[1] == 0 {
                    self.link_up(i)?;
                }
            }
        }
        if line.starts_with("CONNECT") && line != "CONNECT FAIL" {
            self.link_up(0)?;
        }
        if let Some(r) = line.strip_prefix("+CIPSEND: ") {
            let v = nums(r);
            if v.len() == 3 {
                // Reports come in the order of the sends, also after the link closed.
                let i = v[0] as usize;
                let book = if self.links[i].unreported.is_empty() {
                    (self.done.iter_mut().rev()).find(|b| b.link == i && !b.unreported.is_empty())
                } else {
                    Some(&mut self.links[i])
                };
                let Some(book) = book else {
                    return Err(self.fail(format!("a report for no send: {line}")));
                };
                let Some(p) = book.unreported.pop_front() else {
                    return Err(self.fail(format!("a report for no send: {line}")));
                };
                if v[2] == v[1] {
                    book.confirmed.extend_from_slice(&p);
                } else if v[2] > 0 {
                    return Err(self.fail(format!("a partial confirmation: {line}")));
                }
            }
        }
        Ok(())
    }

    fn link_up(&mut self, i: usize) -> Check {
        if self.links[i].open {
            return Ok(());
        }
        let status = self.sim.modem.status();
        let conn = status
            .links
            .iter()
            .find(|l| l.link as usize == i)
            .map(|l| l.conn);
        self.end_link(i, false);
        let stalled = (self.stalls.iter()).any(|l| l.is_none_or(|l| l as usize == i));
        self.links[i] = LinkBook {
            link: i,
            conn,
            open: true,
            stalled,
            ..LinkBook::default()
        };
        Ok(())
    }

    /// The host forgets link `i`'s connection (its books are kept for the end).
    fn end_link(&mut self, i: usize, died: bool) {
        let mut book = std::mem::take(&mut self.links[i]);
        self.links[i].link = i;
        book.died |= died;
        // Closed by the host (or freed after it died): unread bytes were the host's
        // to drop; what it did get was checked as it came.
        book.open = false;
        if book.conn.is_some() {
            self.done.push(book);
        }
    }
}

/// The numbers in a URC's parameter list (`0,1,5`), quoted ones skipped.
fn nums(s: &str) -> Vec<i64> {
    s.split(',').filter_map(|p| p.trim().parse().ok()).collect()
}

fn show(b: &[u8]) -> String {
    at7600_net::show(&b[..b.len().min(80)])
}

/// Whether an item ends a command.
fn is_final(item: &Item) -> bool {
    match item {
        Item::Prompt => true,
        Item::Line(l) => {
            l == "OK" || l == "ERROR" || l.starts_with("+CME ERROR") || l.starts_with("CONNECT")
        }
    }
}

/// The services links connect to: (host, port); the discard host sends nothing back.
const SERVICES: [(&str, u16); 3] = [("echo.sim", 7), ("www.sim", 80), ("discard.sim", 9)];

impl Soak {
    /// Random payload bytes; `lf` lets a line end in (for the fixed responder).
    fn payload(&mut self, max: u64, lf: bool) -> Vec<u8> {
        let len = 1 + self.pick(max) as usize;
        (0..len)
            .map(|_| {
                if lf && self.pick(40) == 0 {
                    b'\n'
                } else {
                    ALPHABET[self.pick(ALPHABET.len() as u64) as usize]
                }
            })
            .collect()
    }

    /// `AT+NETOPEN` until it works (a network-lost fault may refuse it for a while).
    fn netopen(&mut self) -> Check {
        for _ in 0..5 {
            let r = self.command("AT+NETOPEN")?;
            if r.last().is_some_and(|l| l == "OK")
                && self.wait_line("+NETOPEN:", MAX_RESPONSE)?.as_deref() == Some("+NETOPEN: 0")
            {
                return Ok(());
            }
            self.run(Duration::from_secs(6))?;
        }
        Err(self.fail("the network never opened".into()))
    }

    /// Runs until nothing is in flight on the network (bounded), so that the truth and
    /// the modem's answers can be compared without a race.
    fn quiesce(&mut self) -> Check {
        for _ in 0..300 {
            if self.sim.net.poll_timeout().is_none() {
                break;
            }
            self.run(Duration::from_secs(1))?;
        }
        self.parse()
    }

    /// `AT+CIPOPEN?`, `AT+CIPCLOSE?` and `AT+CIPRXGET=4` against the books and the peers.
    fn check_queries(&mut self) -> Check {
        self.quiesce()?;
        let live = |b: &LinkBook| b.open && !b.died;
        let r = self.command("AT+CIPOPEN?")?;
        for i in 0..10 {
            let line = r.iter().find(|l| {
                l.strip_prefix("+CIPOPEN: ")
                    .is_some_and(|x| x.split(',').next() == Some(&i.to_string()))
            });
            let listed = line.is_some_and(|l| l.contains("\"TCP\""));
            let b = &self.links[i];
            if (live(b) && !listed) || (!b.open && listed) {
                return Err(self.fail(format!("AT+CIPOPEN? says {line:?} of link {i}: {b:?}")));
            }
        }
        let r = self.command("AT+CIPCLOSE?")?;
        let Some(states) = r.iter().find_map(|l| l.strip_prefix("+CIPCLOSE: ")) else {
            return Err(self.fail(format!("AT+CIPCLOSE? answered {r:?}")));
        };
        for (i, st) in states.split(',').enumerate() {
            let b = &self.links[i];
            if (live(b) && st != "1") || (!b.open && st != "0") {
                return Err(self.fail(format!("AT+CIPCLOSE? says {st} of link {i}: {b:?}")));
            }
        }
        if self.mode == Mode::Buffer {
            for i in 0..10 {
                let Some(conn) = self.links[i].conn.filter(|_| live(&self.links[i])) else {
                    continue;
                };
                let r = self.command(&format!("AT+CIPRXGET=4,{i}"))?;
                if !live(&self.links[i]) {
                    // A fault struck meanwhile; its URC came right behind the answer.
                    continue;
                }
                let sent = self.peer(conn).sent.len();
                let want = sent - self.links[i].got.len();
                let says = r.iter().find_map(|l| l.strip_prefix("+CIPRXGET: 4,"));
                let rest = says.map(nums).and_then(|v| v.get(1).copied());
                // A full buffer stops reading: the rest waits at the peer.
                let limit = self.sim.modem.config().limits.rx_buffer;
                let ok = match rest {
                    Some(n) if want < limit / 2 => n as usize == want,
                    Some(n) => n as usize <= want,
                    None => false,
                };
                if !ok {
                    return Err(self.fail(format!(
                        "AT+CIPRXGET=4,{i} says {says:?}; the peer sent {sent}, the host got {}",
                        self.links[i].got.len()
                    )));
                }
            }
        }
        Ok(())
    }

    fn peer(&self, conn: ConnId) -> at7600_net::sim::PeerLog {
        (self.sim.net.peers())
            .and_then(|p| p.get(&conn).cloned())
            .unwrap_or_default()
    }

    /// One step of a non-transparent session.
    fn step_links(&mut self) -> Check {
        let lost = self.links.iter().any(|b| b.died) && self.pick(2) == 0;
        match self.pick(10) {
            _ if lost => self.recover_links(),
            0 | 1 => {
                let Some(i) = (0..3).find(|&i| !self.links[i].open) else {
                    return Ok(());
                };
                let (host, port) = SERVICES[self.pick(3) as usize];
                let r = self.command(&format!("AT+CIPOPEN={i},\"TCP\",\"{host}\",{port}"))?;
                if r.last().is_some_and(|l| l == "OK") {
                    let prefix = format!("+CIPOPEN: {i},");
                    if self.wait_line(&prefix, MAX_RESPONSE)?.is_none() {
                        return Err(self.fail(format!("no {prefix} within {MAX_RESPONSE:?}")));
                    }
                }
                Ok(())
            }
            2..=4 => {
                let Some(i) = (0..3).find(|&i| self.links[i].open && !self.links[i].died) else {
                    return Ok(());
                };
                let data = self.payload(1500, true);
                let end = if data[0] == b'\n' { "\r\n" } else { "\r" };
                let r = self.command_ending(&format!("AT+CIPSEND={i},{}", data.len()), end)?;
                if r.last().is_some_and(|l| l == ">") {
                    self.items.clear();
                    let start = self.sim.now();
                    // Booked before typing: the report may come with the `OK`.
                    self.links[i].unreported.push_back(data.clone());
                    self.type_split(&data)?;
                    let r = self.wait_final(start, "the payload")?;
                    if r.last().is_none_or(|l| l != "OK") {
                        self.links[i].unreported.pop_back();
                    }
                }
                Ok(())
            }
            5 if self.mode == Mode::Buffer => {
                let Some(i) = (0..3).find(|&i| self.links[i].open) else {
                    return Ok(());
                };
                let len = 1 + self.pick(1500);
                let r = self.command(&format!("AT+CIPRXGET=2,{i},{len}"))?;
                // A died link is freed once its buffer is drained.
                let rest = r.iter().find_map(|l| l.strip_prefix("+CIPRXGET: 2,"));
                if self.links[i].died && rest.map(nums).and_then(|v| v.get(2).copied()) == Some(0) {
                    self.end_link(i, true);
                }
                Ok(())
            }
            6 => {
                let Some(i) = (0..3).find(|&i| self.links[i].open) else {
                    return Ok(());
                };
                self.close(i)
            }
            7 => self.check_queries(),
            _ => {
                let d = Duration::from_millis(self.pick(10_000));
                self.run(d)
            }
        }
    }

    /// `AT+CIPCLOSE=i` and its report.
    fn close(&mut self, i: usize) -> Check {
        // Mostly let what is in flight arrive first; otherwise the close must still
        // deliver it.
        if self.pick(4) != 0 {
            self.quiesce()?;
        }
        let r = self.command(&format!("AT+CIPCLOSE={i}"))?;
        if r.last().is_some_and(|l| l == "OK") {
            let prefix = format!("+CIPCLOSE: {i},");
            if self.wait_line(&prefix, MAX_RESPONSE)?.is_none() {
                return Err(self.fail(format!("no {prefix} within {MAX_RESPONSE:?}")));
            }
        }
        if self.links[i].open {
            self.end_link(i, false);
        }
        Ok(())
    }

    /// After a link or the network died: close what is left, and open the network
    /// again if it was lost.
    fn recover_links(&mut self) -> Check {
        for i in 0..10 {
            if self.links[i].open {
                if self.mode == Mode::Buffer {
                    self.drain(i)?;
                }
                if self.links[i].open {
                    self.close(i)?;
                }
            }
        }
        let r = self.command("AT+NETOPEN?")?;
        if r.iter().any(|l| l == "+NETOPEN: 0") {
            self.netopen()?;
        }
        Ok(())
    }

    /// Reads link `i`'s buffer to the end (bounded).
    fn drain(&mut self, i: usize) -> Check {
        for _ in 0..100 {
            let r = self.command(&format!("AT+CIPRXGET=2,{i},1500"))?;
            let rest = (r.iter().find_map(|l| l.strip_prefix("+CIPRXGET: 2,")))
                .map(nums)
                .and_then(|v| v.get(2).copied());
            if !r.iter().any(|l| l == "OK") {
                break;
            }
            if rest == Some(0) {
                // Nothing left now (more may still be on its way, unless it died).
                if self.links[i].died {
                    self.end_link(i, true);
                }
                break;
            }
        }
        Ok(())
    }

    /// A non-transparent session.
    fn links_session(&mut self) -> Check {
        self.command("AT+CIPSRIP=0")?;
        // `+RECEIVE,<link>,<len>` headers, so pushed data names its link.
        self.command("AT+CIPCCFG=10,0,0,1,1,0,500")?;
        if self.mode == Mode::Buffer {
            self.command("AT+CIPRXGET=1")?;
        }
        self.netopen()?;
        for _ in 0..STEPS {
            self.step_links()?;
            let peers: Vec<String> = (self.links.iter())
                .filter_map(|b| b.conn.map(|c| (b.link, c)))
                .map(|(l, c)| {
                    let p = self.peer(c);
                    format!(
                        "{l}:{c} peer got {} sent {}",
                        p.received.len(),
                        p.sent.len()
                    )
                })
                .collect();
            self.trace
                .push(format!("  at {:?}: {}", self.sim.now(), peers.join("; ")));
        }
        // The end: everything in flight arrives, buffers are read, then the books close.
        self.run(Duration::from_secs(30))?;
        self.quiesce()?;
        if self.mode == Mode::Buffer {
            for i in 0..10 {
                for _ in 0..60 {
                    let before = self.links[i].got.len();
                    if !self.links[i].open {
                        break;
                    }
                    self.drain(i)?;
                    if self.links[i].got.len() == before {
                        break;
                    }
                }
            }
        }
        self.check_queries()
    }

    /// A transparent session on link 0 to the echo host.
    fn transparent_session(&mut self) -> Check {
        self.command("AT+CIPMODE=1")?;
        self.netopen()?;
        let r = self.command("AT+CIPOPEN=0,\"TCP\",\"echo.sim\",7")?;
        if r.last().is_none_or(|l| l != "CONNECT 115200") {
            return Ok(());
        }
        let mut typed = Vec::new();
        for _ in 0..STEPS {
            if !self.data_mode {
                break;
            }
            match self.pick(6) {
                0..=2 => {
                    let data = self.payload(3000, false);
                    self.trace.push(format!("> {} data bytes", data.len()));
                    self.type_split(&data)?;
                    typed.extend_from_slice(&data);
                }
                3 => {
                    // `+++` with its guard times, then back with `ATO`.
                    self.run(Duration::from_millis(300))?;
                    if !self.data_mode {
                        // The link died meanwhile (`CLOSED`): no escape to make.
                        break;
                    }
                    self.items.clear();
                    self.trace.push("> +++".into());
                    self.sim.host("+++");
                    // `OK` after the guard time, or `CLOSED` if the link died meanwhile.
                    let r = self.wait_lines(&["OK", "CLOSED"], MAX_RESPONSE)?;
                    if r.is_none() {
                        return Err(self.fail("no answer to +++".into()));
                    }
                    if r.as_deref() == Some("OK") {
                        self.data_mode = false;
                        self.command("AT+CIPOPEN?")?;
                        self.command("ATO")?;
                    }
                }
                _ => {
                    let d = Duration::from_millis(self.pick(5000));
                    self.run(d)?;
                }
            }
        }
        self.run(Duration::from_secs(30))?;
        self.quiesce()?;
        // What the host typed in data mode reached the peer, unless the link died.
        if let Some(conn) = self.links[0].conn {
            let received = self.peer(conn).received;
            let b = &self.links[0];
            if !b.died && !b.stalled && b.open && received != typed {
                return Err(self.fail(format!(
                    "the host typed {} bytes in data mode, the peer received {}",
                    typed.len(),
                    received.len()
                )));
            }
        }
        Ok(())
    }

    /// The end of every session: the books against the peers.
    fn check_books(&mut self) -> Check {
        let mut books = std::mem::take(&mut self.done);
        books.extend(self.links.drain(..).filter(|b| b.conn.is_some()));
        for b in &books {
            let Some(conn) = b.conn else { continue };
            let peer = self.peer(conn);
            if !b.died && b.open && b.got != peer.sent {
                return Err(self.fail(format!(
                    "link {} ({conn}) is up and was never told it died, yet the host got {} of the {} bytes its peer sent",
                    b.link,
                    b.got.len(),
                    peer.sent.len()
                )));
            }
            let exempt = b.died || b.stalled;
            if !exempt && !peer.received.starts_with(&b.confirmed) {
                let issued: usize = (self.sim.commands.iter())
                    .map(|c| match c {
                        NetCommand::Send { conn: c, data } if *c == conn => data.len(),
                        _ => 0,
                    })
                    .sum();
                return Err(self.fail(format!(
                    "link {} ({conn}): {} bytes confirmed by +CIPSEND, the modem sent {issued}, the peer received {}",
                    b.link,
                    b.confirmed.len(),
                    peer.received.len()
                )));
            }
        }
        self.done = books;
        Ok(())
    }
}

/// One seed: the session and its checks; the figures for the totals.
fn soak_one(seed: u64) -> Result<(u64, u64, u64), String> {
    let mut s = Soak::new(seed);
    match s.mode {
        Mode::Transparent => s.transparent_session()?,
        _ => s.links_session()?,
    }
    s.check_books()?;
    let checked: usize = s.done.iter().map(|b| b.got.len() + b.confirmed.len()).sum();
    Ok((s.sim.faults.injected_count, checked as u64, s.commands))
}

fn soak(seeds: impl Iterator<Item = u64>, until: Option<Instant>) -> Totals {
    let mut t = Totals::default();
    for seed in seeds {
        if until.is_some_and(|u| Instant::now() >= u) {
            break;
        }
        match soak_one(seed) {
            Ok((faults, bytes, commands)) => {
                t.seeds += 1;
                t.faults += faults;
                t.bytes_checked += bytes;
                t.commands += commands;
            }
            Err(e) => panic!("{e}"),
        }
    }
    println!(
        "soak: {} seeds, {} commands, {} faults injected, {} bytes checked, 0 bytes lost",
        t.seeds, t.commands, t.faults, t.bytes_checked
    );
    t
}

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[test]
fn random_sessions_on_the_simulated_network_keep_every_invariant() {
    let t = match env("AT7600_SOAK_SEED") {
        Some(seed) => soak(seed..=seed, None),
        None => soak(0..DEFAULT_SEEDS, None),
    };
    assert!(t.seeds > 0);
}

/// `AT7600_SOAK_SECS=600 AT7600_SOAK_SEEDS=1000000 cargo test --release -p at7600-net
/// --test soak -- --ignored`: seeds from 1000 on, until either runs out.
#[test]
#[ignore = "runs as long as asked: AT7600_SOAK_SECS / AT7600_SOAK_SEEDS"]
fn soak_for_as_long_as_asked() {
    let secs = env("AT7600_SOAK_SECS").unwrap_or(60);
    let seeds = env("AT7600_SOAK_SEEDS").unwrap_or(u64::MAX - 1000);
    let until = Instant::now() + Duration::from_secs(secs);
    let t = soak(1000..1000 + seeds, Some(until));
    assert!(t.seeds > 0);
}
