//! `at7600 probe`: runs the manual's chapter-6 examples against a module (a serial
//! device or a daemon's TCP port) and prints, per step, the bytes sent, the bytes the
//! manual leads to expect, the bytes received, and pass/fail.
//!
//! Expected bytes are written as C strings; `*` stands for a device-specific value
//! (signal, address, ...) and matches any text without a backslash escape. Steps whose
//! peers were not named are skipped.
//!
//! Each step is shown as it starts (what was sent) and completed when it ends (pass or
//! FAIL, with the expected and received bytes on a failure), in at most 100 columns;
//! `--format json` and `--format junit` write the whole run as one document at the end
//! (JUnit XML: one test case per step, one suite per manual section).

use crate::cli::{ProbeArgs, ProbeFormat};
use anyhow::{bail, Context, Result};
use std::io::Write;
use std::net::{SocketAddr, SocketAddrV4};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{sleep, timeout_at, Instant};

use at7600_core::escape::c_string as show;

/// `*` matches any run of characters other than `\`.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    fn go(p: &[u8], t: &[u8]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some(b'*') => (0..=t.len())
                .take_while(|&i| i == 0 || t[i - 1] != b'\\')
                .any(|i| go(&p[1..], &t[i..])),
            Some(c) => t.first() == Some(c) && go(&p[1..], &t[1..]),
        }
    }
    go(p, t)
}

struct Row {
    section: &'static str,
    sent: String,
    expected: String,
    received: String,
    pass: Option<bool>,
}

impl Row {
    /// "pass", "FAIL", "skip" or "-" (a setup step, not checked).
    fn result(&self) -> &'static str {
        match (self.pass, self.sent.is_empty() && self.received.is_empty()) {
            (Some(true), _) => "pass",
            (Some(false), _) => "FAIL",
            (None, true) => "skip",
            (None, false) => "-",
        }
    }
}

/// Width of the progress lines.
const COLUMNS: usize = 100;
/// Where the text after the section and result starts.
const INDENT: usize = 14;

/// Progress as it happens: a step's line is begun when it is sent (so a long wait shows
/// what is waited for) and ended with its result.
struct Progress {
    out: Box<dyn Write + Send>,
}

impl Progress {
    fn begin(&mut self, section: &str, sent: &str) {
        let sent = if sent.is_empty() { "(waiting)" } else { sent };
        let first = format!("{section:<7}{:<7}", "");
        // Room for " ... FAIL" after the last piece.
        let text = wrap_to(COLUMNS - RESULT_WIDTH, &first, sent);
        let _ = write!(self.out, "{}", text.trim_end_matches('\n'));
        let _ = write!(self.out, " ...");
        let _ = self.out.flush();
    }

    fn end(&mut self, row: &Row) {
        let _ = writeln!(self.out, " {}", row.result());
        if row.pass == Some(false) {
            let pad = " ".repeat(INDENT);
            let _ = write!(
                self.out,
                "{}",
                wrap(&format!("{pad}expected "), &row.expected)
            );
            let _ = write!(
                self.out,
                "{}",
                wrap(&format!("{pad}received "), &row.received)
            );
        }
        let _ = self.out.flush();
    }

    fn skipped(&mut self, row: &Row) {
        let first = format!("{:<7}{:<7}", row.section, "skip");
        let _ = write!(self.out, "{}", wrap(&first, &row.expected));
        let _ = self.out.flush();
    }
}

/// What [`Progress::end`] adds to a step's last line: " ... FAIL".
const RESULT_WIDTH: usize = 9;

/// `text` after `first` on lines of at most [`COLUMNS`], continued under [`INDENT`].
fn wrap(first: &str, text: &str) -> String {
    wrap_to(COLUMNS, first, text)
}

/// `text` after `first` on lines of at most `columns`, continued under [`INDENT`].
fn wrap_to(columns: usize, first: &str, text: &str) -> String {
    let mut out = String::new();
    let mut head = first.to_string();
    let mut rest: Vec<char> = text.chars().collect();
    loop {
        let room = columns.saturating_sub(head.chars().count()).max(10);
        let take = room.min(rest.len());
        let piece: String = rest.drain(..take).collect();
        out.push_str(&head);
        out.push_str(&piece);
        out.push('\n');
        if rest.is_empty() {
            return out;
        }
        head = " ".repeat(INDENT);
    }
}

struct Probe<IO> {
    io: IO,
    rows: Vec<Row>,
    wait: Duration,
    section: &'static str,
    progress: Progress,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Probe<IO> {
    /// Records a finished row and shows its result.
    fn push(&mut self, row: Row) {
        if row.sent.is_empty() && row.received.is_empty() && row.pass.is_none() {
            self.progress.skipped(&row);
        } else {
            self.progress.end(&row);
        }
        self.rows.push(row);
    }

    /// Sends `input` and reads until the output matches `expect` or the wait ends.
    async fn step(&mut self, input: impl AsRef<[u8]>, expect: &str) -> bool {
        let input = input.as_ref();
        self.progress.begin(self.section, &show(input));
        let mut got = Vec::new();
        let mut ok = self.io.write_all(input).await.is_ok();
        let _ = self.io.flush().await;
        let deadline = Instant::now() + self.wait;
        let mut buf = [0u8; 4096];
        while ok && !glob(expect, &show(&got)) {
            match timeout_at(deadline, self.io.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
                _ => ok = false,
            }
        }
        let pass = ok && glob(expect, &show(&got));
        self.push(Row {
            section: self.section,
            sent: show(input),
            expected: expect.to_string(),
            received: show(&got),
            pass: Some(pass),
        });
        pass
    }

    /// A setup step outside the manual's examples: whatever answers is fine.
    async fn setup(&mut self, input: &str) {
        self.progress.begin(self.section, &show(input.as_bytes()));
        let _ = self.io.write_all(input.as_bytes()).await;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let deadline = Instant::now() + Duration::from_millis(500);
        while let Ok(Ok(n)) = timeout_at(deadline, self.io.read(&mut buf)).await {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        self.push(Row {
            section: self.section,
            sent: show(input.as_bytes()),
            expected: "(setup)".into(),
            received: show(&got),
            pass: None,
        });
    }

    fn skip(&mut self, what: &str) {
        self.push(Row {
            section: self.section,
            sent: String::new(),
            expected: what.to_string(),
            received: String::new(),
            pass: None,
        });
    }
}

/// Runs the probe; the exit code is 1 if any step failed.
pub async fn run(args: ProbeArgs) -> Result<i32> {
    let wait = Duration::from_millis(args.wait_ms);
    if let Some(addr) = &args.tcp {
        let io = tokio::net::TcpStream::connect(addr)
            .await
            .with_context(|| format!("cannot connect to {addr}"))?;
        io.set_nodelay(true)?;
        run_on(io, &args, wait).await
    } else if let Some(port) = &args.port {
        use tokio_serial::SerialPortBuilderExt;
        let path = port.to_string_lossy().to_string();
        let io = tokio_serial::new(path.as_str(), args.baud)
            .open_native_async()
            .with_context(|| format!("cannot open {path}"))?;
        run_on(io, &args, wait).await
    } else {
        bail!("give --port DEVICE or --tcp ADDR")
    }
}

async fn lookup(what: &str) -> Result<SocketAddrV4> {
    let addrs = tokio::net::lookup_host(what)
        .await
        .with_context(|| format!("cannot resolve {what}"))?;
    for a in addrs {
        if let SocketAddr::V4(a) = a {
            return Ok(a);
        }
    }
    bail!("{what} has no IPv4 address")
}

async fn run_on<IO: AsyncRead + AsyncWrite + Unpin>(
    io: IO,
    args: &ProbeArgs,
    wait: Duration,
) -> Result<i32> {
    let peer = lookup(&args.peer).await?;
    let (pip, pport) = (peer.ip(), peer.port());
    // The text goes to standard output, unless a document goes there.
    let progress: Box<dyn Write + Send> = match (args.format, &args.output) {
        (ProbeFormat::Text, _) | (_, Some(_)) => Box::new(std::io::stdout()),
        _ => Box::new(std::io::stderr()),
    };
    let mut p = Probe {
        io,
        rows: Vec::new(),
        wait,
        section: "setup",
        progress: Progress { out: progress },
    };
    // A known state: echo off (the manual's examples show no echo), defaults.
    p.setup("AT\r").await;
    p.setup("ATE0\r").await;
    p.setup("AT+NETCLOSE\r").await;
    p.setup("AT+CIPMODE=0;+CIPRXGET=0\r").await;

    p.section = "6.1";
    p.step("AT+CSQ\r", "\\r\\n+CSQ: *\\r\\n\\r\\nOK\\r\\n")
        .await;
    p.step("AT+CREG?\r", "\\r\\n+CREG: 0,1\\r\\n\\r\\nOK\\r\\n")
        .await;
    p.step("AT+CPSI?\r", "\\r\\n+CPSI: *\\r\\n\\r\\nOK\\r\\n")
        .await;
    p.step("AT+CGREG?\r", "\\r\\n+CGREG: 0,1\\r\\n\\r\\nOK\\r\\n")
        .await;
    let apn = &args.apn;
    p.step(format!("AT+CGDCONT=1,\"IP\",\"{apn}\"\r"), "\\r\\nOK\\r\\n")
        .await;
    p.step("AT+NETOPEN\r", "\\r\\nOK\\r\\n\\r\\n+NETOPEN: 0\\r\\n")
        .await;
    p.step("AT+IPADDR\r", "\\r\\n+IPADDR: *\\r\\n\\r\\nOK\\r\\n")
        .await;
    p.step("AT+NETCLOSE\r", "\\r\\nOK\\r\\n\\r\\n+NETCLOSE: 0\\r\\n")
        .await;

    p.section = "6.2.1";
    p.step("AT+NETOPEN\r", "\\r\\nOK\\r\\n\\r\\n+NETOPEN: 0\\r\\n")
        .await;
    let open1 = format!("AT+CIPOPEN=1,\"TCP\",\"{pip}\",{pport}\r");
    p.step(&open1, "\\r\\nOK\\r\\n\\r\\n+CIPOPEN: 1,0\\r\\n")
        .await;
    p.step("AT+CIPSEND=1,5\r", "\\r\\n>").await;
    let recv = |data: &str| {
        format!(
            "\\r\\nRECV FROM:{pip}:{pport}\\r\\n+IPD{}\\r\\n{data}",
            data.len()
        )
    };
    p.step(
        "HELLO",
        &format!("\\r\\nOK\\r\\n\\r\\n+CIPSEND: 1,5,5\\r\\n{}", recv("HELLO")),
    )
    .await;
    p.step("AT+CIPSEND=1\r", "\\r\\n>").await;
    p.step(
        "HELLOWORLD\x1a",
        &format!(
            "\\r\\nOK\\r\\n\\r\\n+CIPSEND: 1,10,10\\r\\n{}",
            recv("HELLOWORLD")
        ),
    )
    .await;
    p.step(
        "AT+CIPCLOSE=1\r",
        "\\r\\nOK\\r\\n\\r\\n+CIPCLOSE: 1,0\\r\\n",
    )
    .await;

    p.section = "6.2.2";
    p.step("AT+CIPRXGET=1\r", "\\r\\nOK\\r\\n").await;
    p.step(&open1, "\\r\\nOK\\r\\n\\r\\n+CIPOPEN: 1,0\\r\\n")
        .await;
    p.step("AT+CIPSEND=1,5\r", "\\r\\n>").await;
    p.step(
        "hello",
        "\\r\\nOK\\r\\n\\r\\n+CIPSEND: 1,5,5\\r\\n\\r\\n+CIPRXGET: 1,1\\r\\n",
    )
    .await;
    sleep(Duration::from_millis(100)).await;
    p.step(
        "AT+CIPRXGET=4,1\r",
        "\\r\\n+CIPRXGET: 4,1,5\\r\\n\\r\\nOK\\r\\n",
    )
    .await;
    p.step(
        "AT+CIPRXGET=2,1,2\r",
        "\\r\\n+CIPRXGET: 2,1,2,3\\r\\nhe\\r\\nOK\\r\\n",
    )
    .await;
    p.step(
        "AT+CIPRXGET=3,1,2\r",
        "\\r\\n+CIPRXGET: 3,1,2,1\\r\\n6C6C\\r\\nOK\\r\\n",
    )
    .await;
    p.step(
        "AT+CIPRXGET=4,1\r",
        "\\r\\n+CIPRXGET: 4,1,1\\r\\n\\r\\nOK\\r\\n",
    )
    .await;
    p.step(
        "AT+CIPRXGET=2,2\r",
        "\\r\\n+IP ERROR: No data\\r\\n\\r\\nERROR\\r\\n",
    )
    .await;
    p.step(
        "AT+CIPRXGET=2,1\r",
        "\\r\\n+CIPRXGET: 2,1,1,0\\r\\no\\r\\nOK\\r\\n",
    )
    .await;
    p.step(
        "AT+CIPRXGET=4,1\r",
        "\\r\\n+CIPRXGET: 4,1,0\\r\\n\\r\\nOK\\r\\n",
    )
    .await;
    p.step(
        "AT+CIPCLOSE=1\r",
        "\\r\\nOK\\r\\n\\r\\n+CIPCLOSE: 1,0\\r\\n",
    )
    .await;
    p.step("AT+CIPRXGET=0\r", "\\r\\nOK\\r\\n").await;

    p.section = "6.6";
    p.step(&open1, "\\r\\nOK\\r\\n\\r\\n+CIPOPEN: 1,0\\r\\n")
        .await;
    let mut list = String::from("\\r\\n+CIPOPEN: 0\\r\\n");
    list.push_str(&format!("+CIPOPEN: 1,\"TCP\",\"{pip}\",{pport},-1\\r\\n"));
    for n in 2..10 {
        list.push_str(&format!("+CIPOPEN: {n}\\r\\n"));
    }
    list.push_str("\\r\\nOK\\r\\n");
    p.step("AT+CIPOPEN?\r", &list).await;
    p.step(
        "AT+CIPCLOSE?\r",
        "\\r\\n+CIPCLOSE: 0,1,0,0,0,0,0,0,0,0\\r\\n\\r\\nOK\\r\\n",
    )
    .await;
    p.step(
        "AT+CIPCLOSE=1\r",
        "\\r\\nOK\\r\\n\\r\\n+CIPCLOSE: 1,0\\r\\n",
    )
    .await;
    p.step(
        "AT+CIPCLOSE?\r",
        "\\r\\n+CIPCLOSE: 0,0,0,0,0,0,0,0,0,0\\r\\n\\r\\nOK\\r\\n",
    )
    .await;

    udp_sections(&mut p, args).await?;
    server_section(&mut p, args).await?;
    p.section = "6.1.4";
    p.step("AT+NETCLOSE\r", "\\r\\nOK\\r\\n\\r\\n+NETCLOSE: 0\\r\\n")
        .await;
    transparent_section(&mut p, args, peer).await;

    report(&p.rows, args)
}

/// 6.3.1 and 6.3.2 against a UDP echo peer.
async fn udp_sections<IO: AsyncRead + AsyncWrite + Unpin>(
    p: &mut Probe<IO>,
    args: &ProbeArgs,
) -> Result<()> {
    p.section = "6.3";
    let Some(udp) = &args.udp_peer else {
        p.skip("skipped: no --udp-peer");
        return Ok(());
    };
    let peer = lookup(udp).await?;
    let (ip, port) = (peer.ip(), peer.port());
    let local = args.udp_local_port;
    for buffered in [false, true] {
        p.section = if buffered { "6.3.2" } else { "6.3.1" };
        if buffered {
            p.step("AT+CIPRXGET=1\r", "\\r\\nOK\\r\\n").await;
        }
        p.step(
            format!("AT+CIPOPEN=1,\"UDP\",,,{local}\r"),
            "\\r\\n+CIPOPEN: 1,0\\r\\n\\r\\nOK\\r\\n",
        )
        .await;
        p.step(format!("AT+CIPSEND=1,,\"{ip}\",{port}\r"), "\\r\\n>")
            .await;
        let head = "\\r\\nOK\\r\\n\\r\\n+CIPSEND: 1,11,11\\r\\n";
        let echo = if buffered {
            format!("{head}\\r\\n+CIPRXGET: 1,1\\r\\n")
        } else {
            format!("{head}\\r\\nRECV FROM:{ip}:{port}\\r\\n+IPD11\\r\\nHELLOSERVER")
        };
        p.step("HELLOSERVER\x1a", &echo).await;
        if buffered {
            sleep(Duration::from_millis(100)).await;
            p.step(
                "AT+CIPRXGET=4,1\r",
                "\\r\\n+CIPRXGET: 4,1,11\\r\\n\\r\\nOK\\r\\n",
            )
            .await;
            p.step(
                "AT+CIPRXGET=2,1,5\r",
                "\\r\\n+CIPRXGET: 2,1,5,6\\r\\nHELLO\\r\\nOK\\r\\n",
            )
            .await;
            p.step(
                "AT+CIPRXGET=3,1,5\r",
                "\\r\\n+CIPRXGET: 3,1,5,1\\r\\n5345525645\\r\\nOK\\r\\n",
            )
            .await;
            p.step(
                "AT+CIPRXGET=2,1\r",
                "\\r\\n+CIPRXGET: 2,1,1,0\\r\\nR\\r\\nOK\\r\\n",
            )
            .await;
            p.step(
                "AT+CIPRXGET=4,1\r",
                "\\r\\n+CIPRXGET: 4,1,0\\r\\n\\r\\nOK\\r\\n",
            )
            .await;
        }
        p.step(
            "AT+CIPCLOSE=1\r",
            "\\r\\n+CIPCLOSE: 1,0\\r\\n\\r\\nOK\\r\\n",
        )
        .await;
        if buffered {
            p.step("AT+CIPRXGET=0\r", "\\r\\nOK\\r\\n").await;
        }
    }
    Ok(())
}

/// 6.4.2: a server on the module, reached from this host at `--server HOST:PORT`.
async fn server_section<IO: AsyncRead + AsyncWrite + Unpin>(
    p: &mut Probe<IO>,
    args: &ProbeArgs,
) -> Result<()> {
    p.section = "6.4.2";
    let Some(server) = &args.server else {
        p.skip("skipped: no --server");
        return Ok(());
    };
    let at = lookup(server).await?;
    p.step(
        format!("AT+SERVERSTART={},1\r", at.port()),
        "\\r\\nOK\\r\\n",
    )
    .await;
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let (got_tx, got_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let Ok(mut c) = tokio::net::TcpStream::connect(at).await else {
            return;
        };
        let mut got = [0u8; 5];
        let read = tokio::time::timeout(Duration::from_secs(10), c.read_exact(&mut got)).await;
        let _ = got_tx.send(matches!(read, Ok(Ok(_))).then_some(got));
        // Stay connected until the module closes its side (6.4.2 closes locally).
        let _ = tokio::time::timeout(Duration::from_secs(10), done_rx).await;
    });
    p.step("", "\\r\\n+CLIENT: 0,1,*:*\\r\\n").await;
    p.step("AT+CIPSEND=0,5\r", "\\r\\n>").await;
    p.step("HELLO", "\\r\\nOK\\r\\n\\r\\n+CIPSEND: 0,5,5\\r\\n")
        .await;
    let got = got_rx.await.ok().flatten();
    p.progress.begin("6.4.2", "(peer reads)");
    p.push(Row {
        section: "6.4.2",
        sent: "(peer reads)".into(),
        expected: "HELLO".into(),
        received: got.map(|g| show(&g)).unwrap_or_default(),
        pass: Some(got.as_ref().map(|g| &g[..]) == Some(&b"HELLO"[..])),
    });
    p.step(
        "AT+CIPCLOSE=0\r",
        "\\r\\nOK\\r\\n\\r\\n+CIPCLOSE: 0,0\\r\\n",
    )
    .await;
    let _ = done_tx.send(());
    p.step(
        "AT+SERVERSTOP=1\r",
        "\\r\\n+SERVERSTOP: 1,0\\r\\n\\r\\nOK\\r\\n",
    )
    .await;
    Ok(())
}

/// 6.2.3: link 0 in transparent mode against the TCP echo peer.
async fn transparent_section<IO: AsyncRead + AsyncWrite + Unpin>(
    p: &mut Probe<IO>,
    args: &ProbeArgs,
    peer: SocketAddrV4,
) {
    p.section = "6.2.3";
    let guard = Duration::from_millis(args.guard_ms);
    p.step("AT+CIPMODE=1\r", "\\r\\nOK\\r\\n").await;
    p.step("AT+NETOPEN\r", "\\r\\nOK\\r\\n\\r\\n+NETOPEN: 0\\r\\n")
        .await;
    let open0 = format!("AT+CIPOPEN=0,\"TCP\",\"{}\",{}\r", peer.ip(), peer.port());
    if p.step(&open0, "\\r\\nCONNECT 115200\\r\\n").await {
        p.step("DATA FROM SERVER", "DATA FROM SERVER").await;
        sleep(guard).await;
        p.step("+++", "").await;
        sleep(guard).await;
        p.step("", "\\r\\nOK\\r\\n").await;
        p.step("ATO\r", "\\r\\nCONNECT 115200\\r\\n").await;
        p.step("HELLO CLIENT", "HELLO CLIENT").await;
        sleep(guard).await;
        p.step("+++", "").await;
        sleep(guard).await;
        p.step("", "\\r\\nOK\\r\\n").await;
        p.step(
            "AT+CIPCLOSE=0\r",
            "\\r\\nOK\\r\\n\\r\\nCLOSED\\r\\n\\r\\n+CIPCLOSE: 0,0\\r\\n",
        )
        .await;
    }
    p.step("AT+NETCLOSE\r", "\\r\\nOK\\r\\n\\r\\n+NETCLOSE: 0\\r\\n")
        .await;
    p.step("AT+CIPMODE=0\r", "\\r\\nOK\\r\\n").await;
}

/// Passed, failed and skipped steps.
fn counts<'a>(rows: impl IntoIterator<Item = &'a Row>) -> (usize, usize, usize) {
    let mut counts = (0, 0, 0);
    for row in rows {
        match row.result() {
            "pass" => counts.0 += 1,
            "FAIL" => counts.1 += 1,
            "skip" => counts.2 += 1,
            _ => {}
        }
    }
    counts
}

/// The summary line and the document `--format` asks for; returns the exit code (1 if
/// any step failed).
fn report(rows: &[Row], args: &ProbeArgs) -> Result<i32> {
    let (passed, failed, skipped) = counts(rows);
    let document = match args.format {
        ProbeFormat::Text => None,
        ProbeFormat::Json => Some(json(rows) + "\n"),
        ProbeFormat::Junit => Some(junit(rows)),
    };
    match (&document, &args.output) {
        (Some(doc), Some(path)) => {
            std::fs::write(path, doc).with_context(|| format!("cannot write {}", path.display()))?
        }
        (Some(doc), None) => {
            // A closed pipe (probe ... | head) is not an error worth a panic.
            let _ = std::io::stdout().write_all(doc.as_bytes());
        }
        (None, Some(path)) => {
            let text: String = rows
                .iter()
                .map(|r| {
                    format!(
                        "{} {} {} | {} | {}\n",
                        r.section,
                        r.result(),
                        r.sent,
                        r.expected,
                        r.received
                    )
                })
                .collect();
            std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        (None, None) => {}
    }
    // The closing line CI log readers look for, on the progress stream.
    let summary = format!("{passed} passed, {failed} failed, {skipped} skipped");
    if args.format == ProbeFormat::Text || args.output.is_some() {
        let _ = writeln!(std::io::stdout(), "{summary}");
    } else {
        let _ = writeln!(std::io::stderr(), "{summary}");
    }
    Ok(i32::from(failed > 0))
}

/// The run as one JSON object.
fn json(rows: &[Row]) -> String {
    let (passed, failed, skipped) = counts(rows);
    let steps: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "section": r.section,
                "result": match r.result() { "-" => "setup", "FAIL" => "fail", other => other },
                "sent": r.sent,
                "expected": r.expected,
                "received": r.received,
            })
        })
        .collect();
    serde_json::json!({
        "passed": passed,
        "failed": failed,
        "skipped": skipped,
        "steps": steps,
    })
    .to_string()
}

/// Text for an XML attribute or element.
fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The run as JUnit XML: a suite per manual section, a case per checked or skipped
/// step (setup steps are not tests), named by their order and what was sent.
fn junit(rows: &[Row]) -> String {
    let (passed, failed, skipped) = counts(rows);
    let total = passed + failed + skipped;
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"at7600 probe\" tests=\"{total}\" failures=\"{failed}\" skipped=\"{skipped}\">\n"
    );
    let mut sections: Vec<&str> = Vec::new();
    for r in rows {
        if !sections.contains(&r.section) {
            sections.push(r.section);
        }
    }
    for section in sections {
        let cases: Vec<&Row> = rows
            .iter()
            .filter(|r| r.section == section && r.result() != "-")
            .collect();
        if cases.is_empty() {
            continue;
        }
        let (p, f, s) = counts(cases.iter().copied());
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" skipped=\"{s}\">\n",
            xml(section),
            p + f + s
        ));
        for (n, r) in cases.iter().enumerate() {
            let what = if r.sent.is_empty() {
                "(waiting)"
            } else {
                &r.sent
            };
            out.push_str(&format!(
                "    <testcase classname=\"probe.{}\" name=\"{:02} {}\">",
                xml(section),
                n + 1,
                xml(what)
            ));
            match r.result() {
                "FAIL" => out.push_str(&format!(
                    "\n      <failure message=\"received bytes differ from the manual\">expected {}\nreceived {}</failure>\n    ",
                    xml(&r.expected),
                    xml(&r.received)
                )),
                "skip" => out.push_str(&format!("<skipped message=\"{}\"/>", xml(&r.expected))),
                _ => {}
            }
            out.push_str("</testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::{glob, wrap_to, COLUMNS, RESULT_WIDTH};

    #[test]
    fn a_long_step_wraps_with_room_for_its_result() {
        let sent = "x".repeat(300);
        let text = wrap_to(COLUMNS - RESULT_WIDTH, "6.2.1         ", &sent);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() > 3);
        for line in &lines {
            assert!(line.chars().count() + RESULT_WIDTH <= COLUMNS, "{line}");
        }
        assert!(lines[1].starts_with("              x"));
        // Nothing lost in the wrapping.
        assert_eq!(text.matches('x').count(), sent.len());
    }

    #[test]
    fn star_matches_a_value_but_not_an_escape() {
        assert!(glob("\\r\\n+CSQ: *\\r\\n", "\\r\\n+CSQ: 25,99\\r\\n"));
        assert!(!glob(
            "\\r\\n+CSQ: *\\r\\nOK",
            "\\r\\n+CSQ: 25\\r\\nX\\r\\nOK"
        ));
        assert!(glob("*", ""));
        assert!(!glob("ab", "abc"));
    }
}
