//! The control API over HTTP on loopback, driven with `at7600 ctl`: list, fault, DTR,
//! metrics. The modem runs on the simulated network, on stdio. Every wait is bounded.

mod common;

use at7600::control::api::{ErrorBody, ErrorCode};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(out: &Arc<Mutex<Vec<u8>>>, want: &str) -> String {
    let start = Instant::now();
    while start.elapsed() < WAIT {
        let text = String::from_utf8_lossy(&out.lock().unwrap()).into_owned();
        if text.contains(want) {
            return text;
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "no {want:?} in {:?}",
        String::from_utf8_lossy(&out.lock().unwrap())
    );
}

fn ctl(addr: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_at7600"))
        .args(["ctl", "--control", addr])
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn control_api_lists_injects_and_counts() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_at7600"))
        .args([
            "serve",
            "--stdio",
            "--network",
            "sim",
            "--control",
            "127.0.0.1:0",
        ])
        .args(["--log-level", "error"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let _daemon = Daemon(child);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("at7600: control API on http://") {
                let _ = tx.send(addr.to_string());
            }
        }
    });
    let addr = rx.recv_timeout(WAIT).expect("control API address");
    let out = Arc::new(Mutex::new(Vec::new()));
    let sink = out.clone();
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let mut say = |s: &str| stdin.write_all(s.as_bytes()).unwrap();
    say("ATE0\rAT+CREG=1\rAT+NETOPEN\r");
    wait_for(&out, "+NETOPEN: 0");
    say("AT+CIPOPEN=0,\"TCP\",\"echo.sim\",7\r");
    wait_for(&out, "+CIPOPEN: 0,0");

    let list = ctl(&addr, &["list"]);
    assert!(list.status.success());
    let list = text(&list);
    assert!(list.contains("\"front_end\":\"stdio\""), "{list}");
    assert!(list.contains("\"state\":\"network-open\""), "{list}");
    assert!(list.contains("\"remote\":\"192.0.2.7:7\""), "{list}");

    let r = ctl(&addr, &["fault", "1", r#"{"kind":"peer-close","link":0}"#]);
    assert!(r.status.success(), "{}", text(&r));
    wait_for(&out, "\r\n+IPCLOSE: 0,1\r\n");
    // Not registered: the bearer goes, and the open network with it.
    let r = ctl(&addr, &["fault", "1", r#"{"kind":"radio","reg_status":2}"#]);
    assert!(r.status.success(), "{}", text(&r));
    wait_for(
        &out,
        "\r\n+CREG: 2\r\n\r\n+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY\r\n",
    );

    // Errors: an unknown modem, a link not in use, a body that is not a fault.
    assert!(!ctl(&addr, &["show", "99"]).status.success());
    let r = ctl(&addr, &["fault", "1", r#"{"kind":"stall","link":5}"#]);
    assert!(text(&r).contains("link 5 is not in use"), "{}", text(&r));
    let r = ctl(&addr, &["fault", "1", r#"{"kind":"melt"}"#]);
    assert!(!r.status.success());
    assert!(ctl(&addr, &["dtr", "1", "off"]).status.success());

    let m = text(&ctl(&addr, &["metrics"]));
    assert!(m.contains("at7600_modems 1"), "{m}");
    assert!(m.contains("# TYPE at7600_commands_total counter"), "{m}");
    assert!(
        m.contains("at7600_modem_urcs_total{imei=\"867584030012347\",front_end=\"stdio\"} "),
        "{m}"
    );
    assert!(m.contains("\nat7600_faults_total 3\n"), "{m}");
    let commands: u64 = m
        .lines()
        .find_map(|l| l.strip_prefix("at7600_commands_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(commands, 4);
}

/// docs/control-api.md, "Answers, errors and /openapi.json": every 4xx has one shape,
/// whoever refused the request (the token check, the router, a body or path extractor,
/// the modem).
#[test]
fn every_error_answer_has_one_shape() {
    const TOKEN: &str = "errors-token-0123456789";
    let (d, control) = common::Daemon::start_with_control(&["--control-token", TOKEN]);
    let _modem = d.modem();
    let addr = control.parse().expect("ADDR:PORT");
    let call = |token: Option<&str>, method: &str, path: &str, body: Option<&str>| {
        at7600::ctl::request(addr, token, method, path, body).expect("an answer")
    };
    let start = Instant::now();
    while call(Some(TOKEN), "GET", "/modems/1", None).0 != 200 {
        assert!(start.elapsed() < WAIT, "modem 1 never registered");
        thread::sleep(Duration::from_millis(20));
    }
    let t = Some(TOKEN);
    // Token, method, path, body; the status and code expected.
    type Case<'a> = (
        Option<&'a str>,
        &'a str,
        &'a str,
        Option<&'a str>,
        u16,
        ErrorCode,
    );
    let cases: [Case; 9] = [
        (None, "GET", "/modems", None, 401, ErrorCode::Unauthorized),
        (t, "GET", "/nowhere", None, 404, ErrorCode::NotFound),
        (t, "GET", "/modems/99", None, 404, ErrorCode::NotFound),
        (
            t,
            "DELETE",
            "/modems",
            None,
            405,
            ErrorCode::MethodNotAllowed,
        ),
        (t, "GET", "/modems/one", None, 400, ErrorCode::BadRequest),
        (
            t,
            "POST",
            "/modems/1/fault",
            Some("{"),
            400,
            ErrorCode::BadRequest,
        ),
        (
            t,
            "POST",
            "/modems/1/fault",
            None,
            415,
            ErrorCode::UnsupportedMediaType,
        ),
        (
            t,
            "POST",
            "/modems/1/fault",
            Some(r#"{"kind":"melt"}"#),
            422,
            ErrorCode::Unprocessable,
        ),
        (
            t,
            "POST",
            "/modems/1/fault",
            Some(r#"{"kind":"stall","link":5}"#),
            409,
            ErrorCode::Conflict,
        ),
    ];
    for (token, method, path, body, status, code) in cases {
        let (got, text) = call(token, method, path, body);
        assert_eq!(got, status, "{method} {path}: {text}");
        let error: ErrorBody =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"));
        assert_eq!(error.error.code, code, "{method} {path}: {text}");
        assert!(!error.error.message.is_empty(), "{method} {path}");
    }

    // The description wants the token like everything else; the page does not.
    assert_eq!(call(None, "GET", "/openapi.json", None).0, 401);
    let (status, doc) = call(t, "GET", "/openapi.json", None);
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&doc).expect("JSON");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{doc}"
    );
    assert!(
        doc["paths"]["/modems/{id}/fault"]["post"].is_object(),
        "{doc}"
    );
    let (status, page) = call(None, "GET", "/", None);
    assert_eq!(status, 200);
    assert!(page.contains("<title>at7600 dashboard</title>"), "{page}");
}

/// A server-sent event stream of the control API, read raw: everything it has sent
/// so far, read for at most [`WAIT`] in total.
struct EventStream {
    conn: std::net::TcpStream,
    text: String,
}

impl EventStream {
    fn open(control: &str, path: &str) -> EventStream {
        let mut conn = std::net::TcpStream::connect(control).expect("connect");
        write!(conn, "GET {path} HTTP/1.1\r\nHost: at7600\r\n\r\n").expect("request");
        conn.set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        EventStream {
            conn,
            text: String::new(),
        }
    }

    /// Reads until every one of `want` has come.
    fn until(&mut self, want: &[&str]) -> &str {
        let start = Instant::now();
        while !want.iter().all(|w| self.text.contains(w)) {
            assert!(
                start.elapsed() < WAIT,
                "no {want:?} in the stream: {}",
                self.text
            );
            self.read_some();
        }
        &self.text
    }

    /// One read, of at most the read timeout.
    fn read_some(&mut self) {
        let mut buf = [0u8; 4096];
        if let Ok(n) = self.conn.read(&mut buf) {
            self.text.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    }
}

/// docs/control-api.md, `GET /modems/{id}/transcript` and `GET /events/modems`: the
/// line as the host sees it, and the list with the commands it typed and byte rates.
#[test]
fn event_streams_show_the_line_and_the_last_commands() {
    let (d, control) = common::Daemon::start_with_control(&[]);
    let mut modem = d.modem();
    modem.send("ATE0\r", "OK\\r\\n");
    let mut line = EventStream::open(&control, "/modems/1/transcript");
    line.until(&["HTTP/1.1 200 ", "content-type: text/event-stream"]);
    // The tap is open once the answer's head has come: this command is on it.
    modem.send("AT+CSQ\r", "OK\\r\\n");
    line.until(&[r#"{"dir":"in","text":"AT+CSQ\\r"}"#]);
    line.until(&[r#"{"dir":"out","text":"\\r\\n+CSQ: 25,99\\r\\n\\r\\nOK\\r\\n"}"#]);

    let mut list = EventStream::open(&control, "/events/modems");
    list.until(&["event: modems", r#""AT+CSQ"],"rates":{"host_in":"#]);
}
