//! The config file does what it says, refuses what would be ignored, and a mistake in it
//! is one line naming the file, the line and the key, in words a user knows.
mod common;

use common::{config_file, stdio_command};
use std::io::{BufRead, BufReader, Write};
use std::process::{Output, Stdio};
use std::time::Duration;

const EXAMPLE: &str = include_str!("../../../examples/at7600.toml");

/// `serve --stdio --config FILE EXTRA` with no host input; returns how it ended.
fn refused(config: &str, extra: &[&str]) -> (tempfile::NamedTempFile, Output) {
    let file = config_file(config);
    let out = stdio_command(Some(file.path()), extra)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .output()
        .expect("daemon runs");
    assert!(!out.status.success(), "{config:?} was accepted");
    (file, out)
}

/// The one line of error output, checked to name the file.
fn error_line(file: &tempfile::NamedTempFile, out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.contains(&file.path().display().to_string()),
        "the file is not named: {err}"
    );
    assert!(
        !err.contains("backtrace") && !err.contains("panicked") && !err.contains("Caused by"),
        "{err}"
    );
    err
}

#[test]
fn a_value_out_of_range_names_file_line_and_key_in_plain_words() {
    let (file, out) = refused("[identity]\nmodel = \"M\"\n\n[radio]\nrssi = 40\n", &[]);
    let err = error_line(&file, &out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("line 5, [radio] rssi"), "{err}");
    assert!(err.contains("a number from 0 to 31, or 99"), "{err}");
}

#[test]
fn a_value_of_the_wrong_type_is_in_plain_words_not_rust_types() {
    let (file, out) = refused("[radio]\nreg_status = 300\n", &[]);
    let err = error_line(&file, &out);
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("reg_status"), "{err}");
    assert!(err.contains("a whole number from 0 to 255"), "{err}");
    assert!(!err.contains("u8"), "{err}");
}

#[test]
fn a_sim_section_with_the_real_network_is_refused() {
    let (file, out) = refused("[escape]\nguard_ms = 50\n[sim]\nsend_queue_cap = 10\n", &[]);
    let err = error_line(&file, &out);
    assert!(
        err.contains("line 3") && err.contains("--network sim"),
        "{err}"
    );
}

#[test]
fn a_network_loss_without_for_ms_is_refused() {
    let config = "[[fault]]\nat_ms = 100\nkind = \"radio\"\nrssi = 3\n\n\
                  [[fault]]\nat_ms = 500\nkind = \"network-lost\"\n";
    let (file, out) = refused(config, &[]);
    let err = error_line(&file, &out);
    assert!(err.contains("line 7") && err.contains("for_ms"), "{err}");
}

#[test]
fn two_different_modem_addresses_are_refused() {
    let config = "[network]\nip_address = \"10.0.0.1\"\n[sim]\nmodem_ip = \"10.0.0.2\"\n";
    let (file, out) = refused(config, &["--network", "sim"]);
    let err = error_line(&file, &out);
    assert!(
        err.contains("ip_address") && err.contains("modem_ip"),
        "{err}"
    );
}

/// Runs `serve --stdio` with `config`: for each step, sends its input and waits for a
/// line holding its text. Returns the lines seen.
fn session(config: &str, extra: &[&str], steps: &[(&str, &str)]) -> String {
    let file = config_file(config);
    let mut child = stdio_command(Some(file.path()), extra)
        .stderr(Stdio::null())
        .spawn()
        .expect("daemon starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    for (input, until) in steps {
        stdin.write_all(input.as_bytes()).expect("write");
        loop {
            let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) else {
                let _ = child.kill();
                panic!("no {until:?} in time; got {seen:?}");
            };
            seen.push_str(&line);
            seen.push('\n');
            if line.contains(until) {
                break;
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    seen
}

#[test]
fn sim_modem_ip_is_what_ipaddr_reports() {
    let out = session(
        "[sim]\nmodem_ip = \"10.9.8.7\"\n",
        &["--network", "sim"],
        &[("AT+NETOPEN\r", "+NETOPEN: 0"), ("AT+IPADDR\r", "+IPADDR:")],
    );
    assert!(out.contains("+IPADDR: 10.9.8.7"), "{out:?}");
}

#[test]
fn the_example_config_lists_every_sim_key() {
    for key in [
        "modem_ip",
        "send_queue_cap",
        "[[sim.host]]",
        "[[sim.client]]",
    ] {
        assert!(EXAMPLE.contains(key), "examples/at7600.toml misses {key}");
    }
}

#[test]
fn a_bad_identity_names_its_line_or_its_flag() {
    let (file, out) = refused("[identity]\nmodel = \"M\"\nimei = \"12\"\n", &[]);
    let err = error_line(&file, &out);
    assert!(
        err.contains("line 3, [identity] imei: must be 15 digits"),
        "{err}"
    );
    let (file, out) = refused("[escape]\ngap_ms = 5\n", &["--escape-gap-ms", "0"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--escape-gap-ms: must be a number of milliseconds"),
        "{err}"
    );
    drop(file);
}
