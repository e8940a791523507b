//! `ssl.md` §4.5: with `[tls] cert_dir`, certificate files live in `<cert_dir>/<imei>/`
//! and a restarted daemon still has them.

mod common;
use common::{config_file, run_with_input, stdio_command, Port, PtyDaemon, WAIT};
use std::time::{Duration, Instant};

#[test]
fn a_restarted_daemon_still_lists_the_file() {
    let certs = tempfile::tempdir().expect("temp dir");
    let config = config_file(&format!(
        "[tls]\ncert_dir = {:?}\n",
        certs.path().display().to_string()
    ));
    let first = run_with_input(
        stdio_command(Some(config.path()), &[]),
        b"ATE0\rAT+CCERTDOWN=\"ca.pem\",7\r\x1a\x1bca\r\nXAT+CCERTDOWN=\"old.pem\",3\rabcAT+CCERTDELE=\"old.pem\"\r",
    );
    let out = String::from_utf8_lossy(&first.stdout);
    assert_eq!(out.matches("\r\nOK\r\n").count(), 4, "{out}");
    let stored = certs.path().join("867584030012347").join("ca.pem");
    assert_eq!(std::fs::read(&stored).expect("stored"), b"\x1a\x1bca\r\nX");
    let files: Vec<_> = std::fs::read_dir(stored.parent().expect("dir"))
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(files, ["ca.pem"], "deleted and temporary files are gone");

    // The restarted daemon records its session: the store it loaded is an input.
    let recording = certs.path().join("session.jsonl");
    let record = recording.to_str().expect("utf-8 path");
    let second = run_with_input(
        stdio_command(Some(config.path()), &["--record", record]),
        b"ATE0\rAT+CCERTLIST\r",
    );
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(
        out.ends_with("\r\n+CCERTLIST: \"ca.pem\"\r\n\r\nOK\r\n"),
        "{out}"
    );
    let lines = std::fs::read_to_string(&recording).expect("recording");
    assert!(lines.contains(r#""kind":"cert_store""#), "{lines}");
    // Replayed without the directory, the modem answers the same.
    std::fs::remove_dir_all(stored.parent().expect("dir")).expect("remove");
    let (code, _, err) = common::run_at7600(&["replay".as_ref(), recording.as_os_str()]);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn tls_section_rejects_unknown_keys() {
    let config = config_file("[tls]\ncertdir = \"/nowhere\"\n");
    let out = stdio_command(Some(config.path()), &[])
        .output()
        .expect("at7600 runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("certdir"));
}

/// Bytes the threads of process `pid` wrote (`wchar` of each `/proc/PID/task/*/io`),
/// leaving out the threads named `skip`.
fn bytes_written_by_threads(pid: u32, skip: &str) -> u64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the daemon's threads");
    let mut total = 0;
    for task in tasks.flatten().take(1000) {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() == skip {
            continue;
        }
        let io = std::fs::read_to_string(task.path().join("io")).unwrap_or_default();
        total += io
            .lines()
            .find_map(|l| l.strip_prefix("wchar: "))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
}

/// A PTY modem keeping its certificate store under a fresh `cert_dir`.
struct StoredModem {
    certs: tempfile::TempDir,
    _config: tempfile::NamedTempFile,
    daemon: PtyDaemon,
    port: Port,
}

impl StoredModem {
    fn start() -> StoredModem {
        let certs = tempfile::tempdir().expect("temp dir");
        let config = config_file(&format!(
            "[tls]\ncert_dir = {:?}\n",
            certs.path().display().to_string()
        ));
        let path = config.path().to_str().expect("utf-8 path");
        let daemon = PtyDaemon::start(&["--config", path, "--log-level", "error"]);
        let port = Port::open(&daemon.link);
        port.cmd("ATE0\r", "OK\\r\\n");
        StoredModem {
            certs,
            _config: config,
            daemon,
            port,
        }
    }

    /// `AT+CCERTDOWN` of `data` as `name`: its prompt, the bytes, `OK`.
    fn download(&self, name: &str, data: &[u8]) {
        let len = data.len();
        self.port
            .cmd(&format!("AT+CCERTDOWN=\"{name}\",{len}\r"), "\\r\\n>");
        self.port.write(data);
        self.port.read_until("\\r\\nOK\\r\\n");
    }

    /// The files in the modem's directory and their sizes, in name order.
    fn on_disk(&self) -> Vec<(String, u64)> {
        let dir = self.certs.path().join("867584030012347");
        let mut files: Vec<(String, u64)> = std::fs::read_dir(dir)
            .map(|d| {
                (d.flatten())
                    .take(1000)
                    .map(|e| {
                        let len = e.metadata().map_or(0, |m| m.len());
                        (e.file_name().to_string_lossy().into_owned(), len)
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }

    /// The host closes the port (DTR OFF) and opens it again once the daemon has seen
    /// it closed (it looks every 100 ms).
    fn hang_up_and_reopen(&mut self) {
        let null = std::fs::File::open("/dev/null").expect("/dev/null");
        drop(std::mem::replace(&mut self.port, Port(null.into())));
        std::thread::sleep(Duration::from_millis(300));
        self.port = Port::open(&self.daemon.link);
    }

    /// Waits (bounded) until the directory holds `count` files of `len` bytes.
    fn wait_on_disk(&self, count: usize, len: u64) -> Vec<(String, u64)> {
        let deadline = Instant::now() + WAIT;
        loop {
            let files = self.on_disk();
            let full = files.iter().filter(|(_, l)| *l == len).count();
            if full == count || Instant::now() >= deadline {
                return files;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn downloads_in_a_loop_are_written_off_the_modems_thread() {
    // §4.5: 40 files of 10240 bytes. Their writes (each with an fsync) go to the store's
    // own writer thread, so a host downloading in a loop cannot stall the runtime its
    // neighbours share: the other threads write only the modem's answers.
    const FILES: usize = 40;
    let m = StoredModem::start();
    for n in 0..FILES {
        m.download(&format!("f{n}.pem"), &[b'c'; 10240]);
    }
    assert_eq!(
        m.wait_on_disk(FILES, 10240).len(),
        FILES,
        "every file is on disk"
    );
    let elsewhere = bytes_written_by_threads(m.daemon.pid(), "cert-store");
    assert!(
        elsewhere < (FILES as u64 * 10240) / 4,
        "{elsewhere} bytes written by the modem's threads"
    );
}

#[test]
fn a_hostile_host_fills_the_store_and_drops_dtr_mid_payload() {
    // §4.1, §4.5: 64 files of 10240 bytes fill the store; the next download is refused
    // without a prompt; a payload cut off by DTR OFF (the port closed) stores nothing;
    // names that leave the directory are refused; nothing but the 64 files is on disk.
    let mut m = StoredModem::start();
    for n in 0..64 {
        m.download(&format!("f{n:02}.pem"), &[b'c'; 10240]);
    }
    m.port
        .cmd("AT+CCERTDOWN=\"more.pem\",1\r", "\\r\\nERROR\\r\\n");
    for name in ["../x.pem", "/tmp/x.pem", "{non-ascii}\"2E2E2F782E70656D\""] {
        let arg = if name.starts_with('{') {
            name.to_string()
        } else {
            format!("\"{name}\"")
        };
        m.port.cmd(
            &format!("AT+CCERTDELE=\"f00.pem\";+CCERTDOWN={arg},1\r"),
            "\\r\\nERROR\\r\\n",
        );
        m.download("f00.pem", &[b'c'; 10240]);
    }
    // Half a payload, then the host lets go of the port.
    m.port.cmd("AT+CCERTDELE=\"f63.pem\"\r", "OK\\r\\n");
    m.port.cmd("AT+CCERTDOWN=\"half.pem\",10240\r", "\\r\\n>");
    m.port.write(&[b'h'; 5000]);
    m.hang_up_and_reopen();
    let list = m.port.cmd("AT+CCERTLIST\r", "OK\\r\\n");
    assert!(!list.contains("half.pem"), "{list}");
    assert_eq!(list.matches("+CCERTLIST: ").count(), 63, "{list}");
    let files = m.wait_on_disk(63, 10240);
    assert_eq!(files.len(), 63, "{files:?}");
    assert!(files
        .iter()
        .all(|(n, l)| n.ends_with(".pem") && *l == 10240));
    assert!(!m.certs.path().join("x.pem").exists());
}

#[test]
fn a_cert_dir_the_daemon_cannot_write_stops_it_at_start() {
    // §4.5: a download is answered OK before it is written; a directory that cannot
    // take files would lose every certificate, so the daemon says so and does not start.
    let parent = tempfile::tempdir().expect("temp dir");
    let file = parent.path().join("a-file");
    std::fs::write(&file, b"not a directory").expect("a file");
    let config = config_file(&format!(
        "[tls]\ncert_dir = {:?}\n",
        file.join("certs").display().to_string()
    ));
    let out = stdio_command(Some(config.path()), &[])
        .output()
        .expect("at7600 runs");
    assert!(!out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cert_dir") && err.contains("cannot create"),
        "{err}"
    );
}
