//! `at7600 probe` as CI tools read it: each step shown as it runs, in 100 columns, and
//! the run as JSON or as a JUnit XML file. Against a peer that refuses, so that steps
//! fail and the failure reports are exercised.
mod common;

use common::Daemon;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A loopback port with nothing listening (bound, then released).
fn refusing_peer() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    format!("127.0.0.1:{port}")
}

fn probe(daemon: &Daemon, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_at7600"))
        .args(["probe", "--tcp", &daemon.addr, "--peer", &refusing_peer()])
        .args(["--wait-ms", "300", "--guard-ms", "300"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("probe starts")
}

/// Waits (bounded) for the probe to end; its exit code.
fn finish(child: &mut Child) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code().expect("an exit code");
        }
        assert!(Instant::now() < deadline, "probe took too long");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn steps_stream_in_100_columns_and_junit_lists_every_step() {
    let daemon = Daemon::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let xml_path = dir.path().join("probe.xml");
    let mut child = probe(
        &daemon,
        &[
            "--format",
            "junit",
            "--output",
            xml_path.to_str().expect("utf-8"),
        ],
    );
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("text");
    // The first step is on the screen while the run goes on.
    assert!(child.try_wait().expect("wait").is_none(), "{first}");
    assert!(first.starts_with("setup"), "{first}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(finish(&mut child), 1, "a refusing peer fails steps");
    for line in std::iter::once(&first).chain(&rest) {
        assert!(
            line.chars().count() <= 100,
            "{} columns: {line}",
            line.len()
        );
    }
    let summary = rest.last().expect("a summary");
    let fails = rest.iter().filter(|l| l.ends_with(" FAIL")).count();
    assert!(fails > 0, "{rest:?}");
    assert!(
        summary.contains(&format!(" passed, {fails} failed, 2 skipped")),
        "{summary}"
    );

    let xml = std::fs::read_to_string(&xml_path).expect("the JUnit file");
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("failures=\"{fails}\" skipped=\"2\">")),
        "{xml}"
    );
    assert_eq!(xml.matches("<failure ").count(), fails, "{xml}");
    assert_eq!(xml.matches("<skipped ").count(), 2, "{xml}");
    assert!(xml.contains("<testsuite name=\"6.1\" "), "{xml}");
    assert!(xml.contains("name=\"01 AT+CSQ\\r\""), "{xml}");
    // Quotes in what was sent are escaped, never raw inside an attribute.
    assert!(xml.contains("AT+CIPOPEN=1,&quot;TCP&quot;"), "{xml}");
    assert_eq!(
        xml.matches("<testsuite ").count(),
        xml.matches("</testsuite>").count()
    );
    assert!(xml.trim_end().ends_with("</testsuites>"), "{xml}");
}

#[test]
fn json_holds_the_counts_and_every_step() {
    let daemon = Daemon::start(&[]);
    let mut child = probe(&daemon, &["--format", "json"]);
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("stdout"), &mut out)
        .expect("output");
    assert_eq!(finish(&mut child), 1);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    let steps = doc["steps"].as_array().expect("steps");
    let count = |r: &str| steps.iter().filter(|s| s["result"] == r).count() as u64;
    assert_eq!(doc["passed"], count("pass"));
    assert_eq!(doc["failed"], count("fail"));
    assert_eq!(doc["skipped"], count("skip"));
    assert!(count("fail") > 0 && count("pass") > 0, "{out}");
    assert_eq!(steps[0]["section"], "setup");
    assert_eq!(steps[4]["sent"], "AT+CSQ\\r");
}
