//! What is on the line and in the log: `--trace` shows host bytes both ways as C
//! strings; logs carry no colour codes off a terminal, can be JSON, and read as words.
mod common;

use common::{run_with_input, stdio_command};
use std::process::Stdio;

/// `serve --stdio EXTRA` given `input` then end of input; returns standard error.
fn log_of(extra: &[&str], input: &[u8]) -> String {
    let mut command = stdio_command(None, extra);
    command.stdout(Stdio::null());
    String::from_utf8_lossy(&run_with_input(command, input).stderr).into_owned()
}

#[test]
fn trace_shows_the_host_bytes_both_ways_as_c_strings() {
    let log = log_of(&["--trace"], b"AT+CSQ\r");
    assert!(log.contains(r#"at7600::trace: > "AT+CSQ\r""#), "{log}");
    assert!(
        log.contains(r#"at7600::trace: < "AT+CSQ\r\r\n+CSQ: 25,99\r\n\r\nOK\r\n""#),
        "{log}"
    );
}

#[test]
fn without_trace_no_host_bytes_are_logged() {
    let log = log_of(&[], b"AT+CSQ\r");
    assert!(!log.contains("CSQ"), "{log}");
}

#[test]
fn logs_to_a_pipe_have_no_colour_codes() {
    let log = log_of(&["--trace"], b"AT\r");
    assert!(!log.contains('\x1b'), "{log:?}");
}

#[test]
fn json_logs_are_one_object_per_line() {
    let log = log_of(&["--log-format", "json", "--trace"], b"AT\r");
    let mut trace = 0;
    for line in log.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        assert!(v["level"].is_string(), "{line}");
        trace += usize::from(v["target"] == "at7600::trace");
    }
    assert_eq!(trace, 2, "{log}");
}

#[test]
fn info_lines_are_words_not_rust_debug_dumps() {
    let log = log_of(&["--link", "gprs"], b"AT\r");
    assert!(log.contains("link profile round trip 600 ms"), "{log}");
    for dump in ["LinkProfile", "rtt_ms:", "Real", "Some("] {
        assert!(!log.contains(dump), "{dump} in {log}");
    }
}

#[test]
fn the_readmes_trace_sample_is_what_trace_prints() {
    let readme = include_str!("../../../README.md");
    let at = readme
        .find("## Seeing what is on the line")
        .expect("section");
    let sample: Vec<&str> = readme[at..]
        .lines()
        .filter(|l| l.contains(" at7600::trace: "))
        .collect();
    assert_eq!(sample.len(), 2, "{sample:?}");
    let log = log_of(&["--trace"], b"AT+CSQ\r");
    // Everything after the timestamp is as shown.
    let after_time = |l: &str| l.split_once(' ').map(|(_, rest)| rest.to_string());
    let printed: Vec<Option<String>> = log
        .lines()
        .filter(|l| l.contains(" at7600::trace: "))
        .map(after_time)
        .collect();
    let shown: Vec<Option<String>> = sample.into_iter().map(after_time).collect();
    assert_eq!(printed, shown);
}
