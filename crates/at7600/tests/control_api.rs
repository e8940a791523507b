//! The control API over HTTP on loopback, driven with `at7600 ctl`: list, fault, DTR,
//! metrics. The modem runs on the simulated network, on stdio. Every wait is bounded.

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
