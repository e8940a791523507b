//! `serve --record` and `replay`: a real-network loopback session is recorded, replays
//! identically, and edited copies of it are reported at the exact place that was
//! changed. Every wait is bounded; only loopback is used.
mod common;

use at7600_core::escape::{c_string, parse_c_string};
use common::{Daemon, WAIT};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Records one modem's session: NETOPEN, CIPOPEN to a loopback peer, CIPSEND, data
/// from the peer, CIPCLOSE, then the host hangs up. Returns the recording's lines.
fn record_session(dir: &Path) -> Vec<String> {
    let file = dir.join("session.jsonl");
    let d = Daemon::start(&["--record", file.to_str().expect("utf-8 path")]);
    let mut m = d.modem();
    m.send("AT+NETOPEN\r", "+NETOPEN: 0\\r\\n");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind peer");
    let port = listener.local_addr().expect("addr").port();
    m.send(
        format!("AT+CIPOPEN=1,\"TCP\",\"127.0.0.1\",{port}\r"),
        "+CIPOPEN: 1,0\\r\\n",
    );
    let (mut peer, _) = listener.accept().expect("accept");
    peer.set_read_timeout(Some(WAIT)).expect("timeout");
    m.send("AT+CIPSEND=1,5\r", ">");
    m.send("HELLO", "+CIPSEND: 1,5,5\\r\\n");
    let mut got = [0u8; 5];
    peer.read_exact(&mut got).expect("peer reads");
    peer.write_all(b"from peer").expect("peer writes");
    m.expect("from peer");
    m.send("AT+CIPCLOSE=1\r", "+CIPCLOSE: 1,0\\r\\n");
    drop(m);
    // With --tcp the first modem's file is numbered 1.
    finished(&dir.join("session.1.jsonl"))
}

fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").expect("write recording");
    path
}

/// `at7600 replay FILE`: exit code, stdout, stderr (bounded wait).
fn replay(path: &Path) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_at7600"))
        .arg("replay")
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("replay starts");
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("replay did not finish within {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("stdout");
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    (status.code().unwrap_or(-1), out, err)
}

fn json(line: &str) -> Value {
    serde_json::from_str(line).expect("recorded line is JSON")
}

#[test]
fn a_loopback_session_replays_identically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lines = record_session(dir.path());
    let kinds: Vec<String> = lines.iter().map(|l| json(l)["kind"].to_string()).collect();
    for kind in ["header", "host", "net", "host_out", "net_cmd", "end"] {
        assert!(
            kinds.contains(&format!("\"{kind}\"")),
            "{kind} in {kinds:?}"
        );
    }
    let inputs = kinds
        .iter()
        .filter(|k| {
            [
                "\"host\"",
                "\"net\"",
                "\"dtr\"",
                "\"timeout\"",
                "\"radio\"",
                "\"power_on\"",
                "\"wall_clock\"",
            ]
            .contains(&k.as_str())
        })
        .count();
    let path = write(dir.path(), "copy.jsonl", &lines);
    let (code, out, err) = replay(&path);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with(&format!("replay: identical ({inputs} inputs, ")),
        "{out}"
    );
    assert!(out.ends_with(" net commands)\n"), "{out}");
}

#[test]
fn a_changed_host_byte_is_reported_at_its_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut lines = record_session(dir.path());
    // Change the '5' of "+CIPSEND: 1,5,5" as recorded.
    let mut offset = 0;
    let mut changed = None;
    for line in lines.iter_mut() {
        let mut v = json(line);
        if v["kind"] != "host_out" {
            continue;
        }
        let mut data = parse_c_string(v["data"].as_str().expect("data")).expect("c string");
        if let Some(i) = data.windows(15).position(|w| w == b"+CIPSEND: 1,5,5") {
            data[i + 14] = b'6';
            offset += i + 14;
            v["data"] = Value::String(c_string(&data));
            *line = v.to_string();
            changed = Some(offset);
            break;
        }
        offset += data.len();
    }
    let offset = changed.expect("the CIPSEND report was recorded");
    let path = write(dir.path(), "edited.jsonl", &lines);
    let (code, out, err) = replay(&path);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.starts_with(&format!(
            "replay: host output differs at byte {offset} (after input "
        )),
        "{out}"
    );
    assert!(
        out.contains("expected: ") && out.contains("+CIPSEND: 1,5,6"),
        "{out}"
    );
    assert!(
        out.contains("got:      ") && out.contains("+CIPSEND: 1,5,5"),
        "{out}"
    );
}

#[test]
fn a_changed_net_command_is_reported_at_its_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut lines = record_session(dir.path());
    let mut index = 0;
    let mut changed = None;
    for line in lines.iter_mut() {
        let mut v = json(line);
        if v["kind"] != "net_cmd" {
            continue;
        }
        if v["cmd"]["type"] == "send" {
            v["cmd"]["data"] = Value::String("HELLX".into());
            *line = v.to_string();
            changed = Some(index);
            break;
        }
        index += 1;
    }
    let index = changed.expect("the send was recorded");
    let path = write(dir.path(), "edited.jsonl", &lines);
    let (code, out, err) = replay(&path);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.starts_with(&format!(
            "replay: net command {index} differs (after input "
        )),
        "{out}"
    );
    assert!(
        out.contains(r#"expected: {"type":"send","conn":1,"data":"HELLX"}"#),
        "{out}"
    );
    assert!(
        out.contains(r#"got:      {"type":"send","conn":1,"data":"HELLO"}"#),
        "{out}"
    );
}

#[test]
fn malformed_recordings_exit_2_with_the_line_number() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lines = record_session(dir.path());
    type Edit = Box<dyn Fn(&mut Vec<String>)>;
    let edits: Vec<(&str, Edit, &str)> = vec![
        (
            "not-json",
            Box::new(|l| l[4] = "{not json".into()),
            ":5: not a recording line",
        ),
        (
            "bad-escape",
            Box::new(|l| l[1] = r#"{"kind":"host","t":1,"data":"AT\\q"}"#.into()),
            ":2: not a recording line: unknown escape",
        ),
        (
            "unknown-kind",
            Box::new(|l| l[2] = r#"{"kind":"teleport","t":1}"#.into()),
            ":3: not a recording line",
        ),
        (
            "no-header",
            Box::new(|l| drop(l.remove(0))),
            ":1: the first line must be the header",
        ),
        (
            "after-end",
            Box::new(|l| l.push(r#"{"kind":"timeout","t":1}"#.into())),
            "a record after the end record",
        ),
    ];
    for (name, edit, message) in edits {
        let mut edited = lines.clone();
        edit(&mut edited);
        let path = write(dir.path(), name, &edited);
        let (code, out, err) = replay(&path);
        assert_eq!(code, 2, "{name}: {out}{err}");
        assert!(
            err.starts_with("replay: ") && err.contains(message),
            "{name}: {err}"
        );
    }
    let (code, _, err) = replay(&dir.path().join("missing.jsonl"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot read"), "{err}");
}

/// Waits until the recording ends with its end record; returns its lines.
fn finished(path: &Path) -> Vec<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text
            .lines()
            .last()
            .is_some_and(|l| l.contains("\"kind\":\"end\""))
        {
            return text.lines().map(String::from).collect();
        }
        assert!(Instant::now() < deadline, "no end record in {text}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn timeouts_and_radio_faults_on_the_sim_network_replay_identically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("at7600.toml");
    std::fs::write(
        &config,
        // Roaming (5) stays registered: the network can still be opened after it.
        "[[fault]]\nat_ms = 300\nkind = \"radio\"\nreg_status = 5\n",
    )
    .expect("config");
    let file = dir.path().join("sim.jsonl");
    let d = Daemon::start(&[
        "--network",
        "sim",
        "--link",
        "lte-cat4",
        "--escape-guard-ms",
        "50",
        "--escape-gap-ms",
        "50",
        "--config",
        config.to_str().expect("utf-8 path"),
        "--record",
        file.to_str().expect("utf-8 path"),
    ]);
    let mut m = d.modem();
    m.send("AT+CREG=1\r", "OK\\r\\n");
    m.expect("+CREG: 5\\r\\n");
    m.send("AT+CIPMODE=1;+NETOPEN\r", "+NETOPEN: 0\\r\\n");
    m.send(
        "AT+CIPOPEN=0,\"TCP\",\"echo.sim\",7\r",
        "CONNECT 115200\\r\\n",
    );
    m.send("echo me", "echo me");
    // The escape needs silence on both sides: the core's timers decide.
    std::thread::sleep(Duration::from_millis(100));
    m.send("+++", "OK\\r\\n");
    drop(m);
    let lines = finished(&dir.path().join("sim.1.jsonl"));
    for kind in ["radio", "timeout"] {
        assert!(
            lines.iter().any(|l| json(l)["kind"] == kind),
            "{kind} recorded"
        );
    }
    let (code, out, err) = replay(&dir.path().join("sim.1.jsonl"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("replay: identical ("), "{out}");
}
