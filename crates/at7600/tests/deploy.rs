//! docs/deploy.md: the container, systemd and Kubernetes files hold command lines and
//! config files this daemon accepts, and pass their own tools' checks
//! (.ci/validate-deploy: systemd-analyze verify, hadolint, kubernetes-validate).
use at7600::cli::{Cli, Command};
use clap::Parser;
use std::io::Write;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `at7600 ARGS` as the binary parses it; a `serve` command's config file (relative to
/// the repository, standing in for where the deployment mounts it) loads and resolves.
fn accepted(args: &[String], config: Option<&str>) {
    let cli = Cli::try_parse_from(std::iter::once("at7600".to_string()).chain(args.to_vec()))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let Command::Serve(serve) = cli.command else {
        panic!("{args:?} is not serve");
    };
    if let Some(text) = config {
        let mut saved = tempfile::NamedTempFile::new().expect("temp file");
        saved.write_all(text.as_bytes()).expect("config written");
        let file = at7600::config::FileConfig::load(saved.path())
            .unwrap_or_else(|e| panic!("{args:?}: config: {e:#}"));
        at7600::config::resolve(file, &serve.settings)
            .unwrap_or_else(|e| panic!("{args:?}: config: {e:#}"));
    }
}

#[test]
fn the_systemd_unit_runs_a_command_line_serve_accepts_with_its_example_config() {
    let unit = read("deploy/systemd/at7600.service");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart=/usr/local/bin/at7600 "))
        .expect("ExecStart= runs /usr/local/bin/at7600");
    let args: Vec<String> = exec.split_whitespace().map(String::from).collect();
    assert!(args.contains(&"/etc/at7600/at7600.toml".to_string()));
    accepted(&args, Some(&read("deploy/systemd/at7600.toml")));
    assert!(unit.contains("\nConfigurationDirectory=at7600\n"));
    assert!(unit.contains("\nType=notify\n"), "readiness by sd_notify");
    assert!(unit.contains("\nExecReload=/bin/kill -HUP $MAINPID\n"));
}

#[test]
fn the_statefulset_runs_a_command_line_serve_accepts_with_the_configmap() {
    let set = read("deploy/k8s/statefulset.yaml");
    // The container's args: the "- " items after "args:", at one indentation.
    let mut lines = set.lines().skip_while(|l| l.trim() != "args:").skip(1);
    let first = lines.next().expect("args: has items");
    let indent = first.len() - first.trim_start().len();
    let args: Vec<String> = std::iter::once(first)
        .chain(lines.take_while(|l| {
            l.len() - l.trim_start().len() == indent && l.trim_start().starts_with("- ")
        }))
        .map(|l| l.trim_start()[2..].trim_matches('"').to_string())
        .collect();
    assert_eq!(args[0], "serve", "{args:?}");
    assert!(args.contains(&"--identity-block".to_string()), "{args:?}");

    // The ConfigMap's at7600.toml: the block after "at7600.toml: |", dedented.
    let map = read("deploy/k8s/configmap.yaml");
    let mut lines = map
        .lines()
        .skip_while(|l| l.trim() != "at7600.toml: |")
        .skip(1);
    let first = lines.next().expect("at7600.toml has lines");
    let indent = first.len() - first.trim_start().len();
    let toml: String = std::iter::once(first)
        .chain(lines.take_while(|l| l.trim().is_empty() || l.starts_with(&" ".repeat(indent))))
        .map(|l| format!("{}\n", l.get(indent..).unwrap_or("")))
        .collect();
    accepted(&args, Some(&toml));
}

#[test]
fn the_container_runs_a_command_line_serve_accepts() {
    let docker = read("Dockerfile");
    let cmd = docker
        .lines()
        .find_map(|l| l.strip_prefix("CMD "))
        .expect("a CMD line");
    let args: Vec<String> = serde_json::from_str(cmd).expect("CMD in exec form");
    accepted(&args, None);
    assert!(docker.contains("CMD [\"at7600\", \"ctl\", \"health\"]"));
}

#[test]
fn the_gitlab_service_container_runs_a_command_line_serve_accepts() {
    let job = read("deploy/ci/gitlab-ci.yml");
    let command = job
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("command: "))
        .expect("the service's command");
    let args: Vec<String> = serde_json::from_str(command).expect("a JSON-style list");
    accepted(&args, None);
}

/// Runs .ci/validate-deploy where its tools are (`.ci/validate-deploy --install-tools`
/// installs them; .ci/run does). Without them the test says so and passes, except in
/// CI, where they must be there.
#[test]
fn deploy_files_pass_systemd_analyze_hadolint_and_kubernetes_validate() {
    let out = std::process::Command::new(repo().join(".ci/validate-deploy"))
        .env("AT7600_BIN", env!("CARGO_BIN_EXE_at7600"))
        .output()
        .expect("validate-deploy runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.code() == Some(3) && std::env::var_os("CI").is_none() {
        eprintln!("skipped: {text}");
        return;
    }
    assert!(out.status.success(), "{text}");
}
