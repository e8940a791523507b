//! The example configuration loads as shipped and with every optional section
//! uncommented, so the documented keys are the keys the daemon reads.
mod common;

use common::{config_file, run_with_input, stdio_command};
use std::process::Stdio;

const EXAMPLE: &str = include_str!("../../../examples/at7600.toml");

/// Uncomments the optional sections (`# [x]`, `# key = ...`, array rows).
fn uncommented() -> String {
    EXAMPLE
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest)
                if rest.starts_with('[')
                    || rest.starts_with("  {")
                    || rest.starts_with(']')
                    || rest.split_once(" = ").is_some_and(|(k, _)| {
                        k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    }) =>
            {
                rest.to_string()
            }
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `serve --stdio` with the config and an `ATI` on stdin; returns stdout.
fn answer_with(config: &str, extra: &[&str]) -> String {
    let file = config_file(config);
    let out = run_with_input(stdio_command(Some(file.path()), extra), b"ATI\r");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_example_config_loads_as_shipped() {
    let out = answer_with(EXAMPLE, &[]);
    assert!(out.contains("Model: AT7600\r\n"), "{out:?}");
}

#[test]
fn the_example_config_loads_with_every_section_uncommented() {
    let full = uncommented();
    assert!(full.contains("\n[[sim.host]]\n") && full.contains("\n[[fault]]\n"));
    let out = answer_with(&full, &["--network", "sim"]);
    assert!(out.contains("IMEI: 867584030012347\r\n"), "{out:?}");
}

#[test]
fn a_bad_config_is_a_clear_error_not_a_panic() {
    let file = config_file("[identity]\nimei = \"12\"\n");
    let out = stdio_command(Some(file.path()), &[])
        .stdin(Stdio::null())
        .output()
        .expect("daemon runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.to_lowercase().contains("imei") && !err.contains("panicked"),
        "{err}"
    );
}
