//! The command line explains itself: grouped help with every default, ctl that takes
//! its address anywhere, from the environment or as a host name, one-line errors, and
//! completions and a man page made from the same definition.
mod common;

use at7600_core::ModemConfig;
use common::Daemon;
use std::process::{Command, Output};

fn at7600(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_at7600"));
    command.args(args).env_remove("AT7600_CONTROL");
    command
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn serve_help_groups_options_and_shows_every_default() {
    let help = stdout(&at7600(&["serve", "--help"]).output().expect("runs"));
    for heading in [
        "Front end:",
        "Network:",
        "Identity:",
        "Radio:",
        "Data mode:",
        "Control:",
        "Logging:",
    ] {
        assert!(help.contains(&format!("\n{heading}\n")), "no {heading}");
    }
    let id = ModemConfig::default().identity;
    let radio = ModemConfig::default().radio;
    for default in [
        id.manufacturer,
        id.model,
        id.revision,
        id.imei,
        id.iccid,
        radio.operator,
        format!("[default: {}]", radio.rssi),
        "[default: 10.148.0.17]".into(),
        "[default: 127.0.0.1]".into(),
        "127.0.0.1:7600".into(),
        "[default: ./ttyAT0]".into(),
    ] {
        assert!(
            help.contains(&default),
            "help misses the default {default:?}"
        );
    }
}

#[test]
fn no_help_text_shows_markdown_or_points_to_files_a_binary_user_lacks() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["ctl", "--help"],
        &["ctl", "fault", "--help"],
        &["probe", "--help"],
        &["replay", "--help"],
        &["generate", "--help"],
    ] {
        let help = stdout(&at7600(args).output().expect("runs"));
        assert!(!help.contains('`'), "{args:?}: raw Markdown in\n{help}");
        assert!(
            !help.contains("docs/"),
            "{args:?}: points to docs/ in\n{help}"
        );
    }
}

#[test]
fn ctl_fault_help_lists_every_fault_kind() {
    let help = stdout(&at7600(&["ctl", "fault", "--help"]).output().expect("runs"));
    // serde names every kind when it refuses an unknown one.
    let refusal = serde_json::from_str::<at7600_net::Fault>(r#"{"kind":"no-such"}"#)
        .expect_err("unknown kind");
    let kinds: Vec<String> = refusal
        .to_string()
        .split('`')
        .skip(3)
        .step_by(2)
        .map(str::to_string)
        .collect();
    assert!(kinds.len() >= 8, "{refusal}");
    for kind in kinds {
        assert!(
            help.contains(&format!("\"kind\":\"{kind}\"")),
            "{kind} missing"
        );
    }
}

#[test]
fn ctl_takes_its_address_after_the_action_from_the_environment_or_as_a_host_name() {
    let (_daemon, control) = Daemon::start_with_control(&[]);
    let port = control.rsplit_once(':').expect("port").1;
    let by_name = format!("localhost:{port}");
    let after = stdout(
        &at7600(&["ctl", "list", "--control", &by_name])
            .output()
            .expect("runs"),
    );
    // The daemon answers (no modem yet: nobody connected).
    assert!(
        serde_json::from_str::<serde_json::Value>(&after).is_ok_and(|v| v.is_array()),
        "{after}"
    );
    let from_env = stdout(
        &at7600(&["ctl", "list"])
            .env("AT7600_CONTROL", &control)
            .output()
            .expect("runs"),
    );
    assert_eq!(after, from_env);
}

#[test]
fn a_user_error_is_one_line_without_a_backtrace() {
    // Port 1 on loopback: nothing listens there.
    let out = at7600(&["ctl", "list", "--control", "127.0.0.1:1"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.starts_with("at7600: cannot reach the control API at 127.0.0.1:1"),
        "{err}"
    );
}

#[test]
fn completions_and_the_man_page_come_from_the_cli_definition() {
    let bash = stdout(
        &at7600(&["generate", "completions", "bash"])
            .output()
            .expect("runs"),
    );
    assert!(bash.contains("--trace") && bash.contains("serve"), "{bash}");
    let zsh = stdout(
        &at7600(&["generate", "completions", "zsh"])
            .output()
            .expect("runs"),
    );
    assert!(zsh.contains("#compdef at7600"), "{zsh}");
    let man = stdout(&at7600(&["generate", "man"]).output().expect("runs"));
    assert!(
        man.starts_with(".ie") || man.contains(".TH at7600"),
        "{man}"
    );
    assert!(man.contains("serve"), "{man}");
}
