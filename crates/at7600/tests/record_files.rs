//! `serve --record`: the recording's file name is predictable, so whatever is planted
//! there (a symlink to a file of someone else's, or an existing file) is never
//! followed nor overwritten. Loopback only; every wait bounded.
mod common;

use common::{run_at7600, Daemon};
use std::path::Path;

const PRECIOUS: &str = "precious, not a recording\n";

fn plant_victim(dir: &Path) -> std::path::PathBuf {
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, PRECIOUS).expect("write the victim");
    victim
}

#[test]
fn a_symlink_planted_at_a_modems_recording_name_is_not_followed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let victim = plant_victim(dir.path());
    // With --tcp, modem 1 records to run.1.jsonl: plant a link there.
    let planted = dir.path().join("run.1.jsonl");
    std::os::unix::fs::symlink(&victim, &planted).expect("plant the symlink");
    let record = dir.path().join("run.jsonl");
    let d = Daemon::start(&["--record", record.to_str().expect("utf-8 path")]);
    // The modem is still served (only its recording is refused).
    let mut m = d.modem();
    m.send("AT\r", "OK\\r\\n");
    drop(m);
    // The next modem's name is free: it is recorded as usual.
    let mut m = d.modem();
    m.send("AT\r", "OK\\r\\n");
    drop(m);
    drop(d);
    assert_eq!(std::fs::read_to_string(&victim).expect("victim"), PRECIOUS);
    assert!(std::fs::symlink_metadata(&planted)
        .expect("the link is still there")
        .file_type()
        .is_symlink());
    let second = std::fs::read_to_string(dir.path().join("run.2.jsonl")).expect("modem 2");
    assert!(second.starts_with("{\"kind\":\"header\""), "{second}");
}

#[test]
fn an_existing_recording_file_is_not_overwritten() {
    let dir = tempfile::tempdir().expect("temp dir");
    let existing = plant_victim(dir.path());
    let (code, _, err) = run_at7600(&[
        "serve".as_ref(),
        "--stdio".as_ref(),
        "--record".as_ref(),
        existing.as_os_str(),
    ]);
    assert_ne!(code, Some(0), "{err}");
    assert!(
        err.contains(&existing.display().to_string()) && err.contains("already exists"),
        "the error names the file: {err}"
    );
    assert_eq!(std::fs::read_to_string(&existing).expect("file"), PRECIOUS);
}

#[test]
fn a_dangling_symlink_is_not_followed_either() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("would-be-created.txt");
    let planted = dir.path().join("run.jsonl");
    std::os::unix::fs::symlink(&target, &planted).expect("plant the symlink");
    let (code, _, err) = run_at7600(&[
        "serve".as_ref(),
        "--stdio".as_ref(),
        "--record".as_ref(),
        planted.as_os_str(),
    ]);
    assert_ne!(code, Some(0), "{err}");
    assert!(!target.exists(), "the link's target was created");
}
