//! The stated minimum Rust is the true one: the workspace's `rust-version` is the
//! highest `rust-version` among the locked dependencies needed to build, every crate
//! inherits it, and the README names it and the (higher) one the tests need.
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// "1.85" or "1.85.0" as (1, 85).
fn minor(v: &str) -> (u32, u32) {
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// The highest rust-version among the packages the workspace needs, with or without
/// its members' dev-dependencies (build scripts' dependencies count: they are built).
fn needed(meta: &Value, with_dev: bool) -> (u32, u32) {
    let packages: HashMap<&str, &Value> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (p["id"].as_str().expect("id"), p))
        .collect();
    let nodes: HashMap<&str, &Value> = meta["resolve"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| (n["id"].as_str().expect("id"), n))
        .collect();
    let members: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = members.iter().copied().collect();
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        for dep in nodes[id]["deps"].as_array().expect("deps") {
            let only_dev = dep["dep_kinds"]
                .as_array()
                .expect("dep_kinds")
                .iter()
                .all(|k| k["kind"].as_str() == Some("dev"));
            // A dependency's own dev-dependencies are never built here.
            if only_dev && !(with_dev && members.contains(id)) {
                continue;
            }
            todo.push(dep["pkg"].as_str().expect("pkg"));
        }
    }
    seen.iter()
        .filter_map(|id| packages[id]["rust_version"].as_str())
        .map(minor)
        .max()
        .expect("some package states a rust-version")
}

#[test]
fn the_stated_minimum_rust_is_what_the_locked_dependencies_need() {
    // Only what this host builds: a fresh machine's cargo has fetched no other
    // platform's packages (UEFI, WASI), and --offline cannot read their manifests.
    let host = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc -vV runs");
    let host = String::from_utf8_lossy(&host.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .expect("rustc names its host");
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", &host])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let build = needed(&meta, false);
    let test = needed(&meta, true);
    for member in meta["packages"].as_array().expect("packages") {
        let is_member = meta["workspace_members"]
            .as_array()
            .expect("members")
            .contains(&member["id"]);
        if is_member {
            assert_eq!(
                member["rust_version"].as_str().map(minor),
                Some(build),
                "{} states the wrong rust-version (build needs {}.{})",
                member["name"],
                build.0,
                build.1
            );
        }
    }
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let (b, t) = (
        format!("Rust {}.{}", build.0, build.1),
        format!("Rust {}.{}", test.0, test.1),
    );
    assert!(
        readme.contains(&b) && readme.contains(&t),
        "README must name {b} (build) and {t} (tests)"
    );
}
