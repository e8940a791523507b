//! The processes a case starts: the at7600 daemon and socat. Each is ended when its
//! handle is dropped (SIGTERM, then SIGKILL if it lingers).

use anyhow::{anyhow, bail, Context, Result};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Longest wait for a process to come up.
const START: Duration = Duration::from_secs(20);

/// A child process, ended when dropped.
pub struct Proc {
    child: Child,
    /// Lines it printed on stdout, read on a thread of their own.
    lines: mpsc::Receiver<String>,
    /// Its stderr, for error messages.
    log: PathBuf,
}

impl Proc {
    fn spawn(mut cmd: Command, log: PathBuf) -> Result<Self> {
        let stderr = std::fs::File::create(&log).context("log file")?;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("cannot start {:?}", cmd.get_program()))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Proc { child, lines, log })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it wrote on stderr so far (the end of it).
    fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let from = text.len().saturating_sub(600);
        text.get(from..).unwrap_or_default().trim().to_string()
    }

    /// Fails with its stderr if it has exited.
    fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("exited ({status}): {}", self.stderr_tail());
        }
        Ok(())
    }

    /// The next stdout line, within `START`.
    fn ready_line(&mut self) -> Result<String> {
        let deadline = Instant::now() + START;
        while Instant::now() < deadline {
            match self.lines.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => return Ok(line),
                Err(mpsc::RecvTimeoutError::Timeout) => self.check_alive()?,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.check_alive()?;
                    bail!("closed stdout: {}", self.stderr_tail());
                }
            }
        }
        bail!("no ready line within {START:?}")
    }

    /// Waits until every path in `paths` exists (a symlink that a process creates).
    fn wait_paths(&mut self, paths: &[PathBuf]) -> Result<()> {
        let deadline = Instant::now() + START + Duration::from_millis(paths.len() as u64 * 5);
        let mut next = 0;
        while next < paths.len() {
            if paths[next].symlink_metadata().is_ok() {
                next += 1;
                continue;
            }
            self.check_alive()?;
            if Instant::now() > deadline {
                bail!("{} did not appear", paths[next].display());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let pid = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        }
        for _ in 0..300 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a case starts at7600.
#[derive(Clone)]
pub struct At7600 {
    /// The binary.
    pub bin: PathBuf,
    /// Where symlinks and logs go.
    pub dir: PathBuf,
}

/// A daemon offering one modem on a PTY.
pub struct PtyDaemon {
    /// The process.
    pub proc: Proc,
    /// The symlink to its PTY.
    pub link: PathBuf,
}

/// A daemon offering modems over TCP.
pub struct TcpDaemon {
    /// The process.
    pub proc: Proc,
    /// Where to connect.
    pub addr: String,
}

/// The result of asking for a PTY fleet.
pub enum Fleet {
    /// The daemon with its modems' symlinks.
    Ready(Proc, Vec<PathBuf>),
    /// The binary does not know `--count`.
    Unsupported,
}

impl At7600 {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        // Info logs cost a write per connection; the bench measures the modem.
        cmd.args(["serve", "--log-level", "warn"]);
        cmd
    }

    fn log(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.log"))
    }

    /// `serve --pty DIR/NAME` on the real network.
    pub fn pty(&self, name: &str) -> Result<PtyDaemon> {
        let link = self.dir.join(name);
        remove_stale(&link);
        let mut cmd = self.command();
        cmd.arg("--pty").arg(&link);
        let mut proc = Proc::spawn(cmd, self.log(name))?;
        let line = proc.ready_line().context("at7600 serve --pty")?;
        if !line.contains("ready") {
            bail!("unexpected ready line {line:?}");
        }
        proc.wait_paths(std::slice::from_ref(&link))?;
        Ok(PtyDaemon { proc, link })
    }

    /// `serve --tcp 127.0.0.1:0`.
    pub fn tcp(&self) -> Result<TcpDaemon> {
        let mut cmd = self.command();
        cmd.args(["--tcp", "127.0.0.1:0"]);
        let mut proc = Proc::spawn(cmd, self.log("tcp"))?;
        let line = proc.ready_line().context("at7600 serve --tcp")?;
        let addr = line
            .split_whitespace()
            .last()
            .filter(|a| a.contains(':'))
            .ok_or_else(|| anyhow!("no address in {line:?}"))?
            .to_string();
        Ok(TcpDaemon { proc, addr })
    }

    /// `serve --pty 'DIR/ttyAT{n}' --count N`: one process, `n` PTY modems.
    pub fn pty_fleet(&self, n: usize) -> Result<Fleet> {
        let pattern = self.dir.join("fleet-ttyAT{n}");
        let links: Vec<PathBuf> = (0..n)
            .map(|i| self.dir.join(format!("fleet-ttyAT{i}")))
            .collect();
        links.iter().for_each(|l| remove_stale(l));
        let mut cmd = self.command();
        cmd.arg("--pty")
            .arg(&pattern)
            .arg("--count")
            .arg(n.to_string());
        let mut proc = Proc::spawn(cmd, self.log("fleet"))?;
        // The ready line(s) may say anything; the symlinks are what counts.
        match proc.wait_paths(&links) {
            Ok(()) => Ok(Fleet::Ready(proc, links)),
            Err(e) => {
                let text = format!("{e:#}");
                if text.contains("--count") || text.contains("unexpected argument") {
                    Ok(Fleet::Unsupported)
                } else {
                    Err(e.context("at7600 serve --pty --count"))
                }
            }
        }
    }
}

/// socat relaying a PTY (symlinked at `link`) and a TCP connection to `port`.
pub fn socat(dir: &Path, name: &str, port: u16) -> Result<(Proc, PathBuf)> {
    let link = dir.join(name);
    remove_stale(&link);
    let mut cmd = Command::new("socat");
    cmd.arg(format!("PTY,link={},raw,echo=0", link.display()))
        .arg(format!("TCP:127.0.0.1:{port}"));
    let mut proc = Proc::spawn(cmd, dir.join(format!("{name}.log")))?;
    proc.wait_paths(std::slice::from_ref(&link))
        .context("socat")?;
    Ok((proc, link))
}

/// Removes a symlink left by an earlier process, so that waiting for it to appear
/// waits for the new one.
fn remove_stale(link: &Path) {
    if link
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        let _ = std::fs::remove_file(link);
    }
}

/// Makes sure socat is installed, with apt-get if it is not.
pub fn ensure_socat() -> Result<()> {
    let found = |name: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if found("socat") {
        return Ok(());
    }
    eprintln!("socat is missing; installing it with apt-get");
    for args in [
        &["update", "-qq"][..],
        &["install", "-y", "-qq", "socat"][..],
    ] {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("apt-get")?;
        if !status.success() {
            bail!("apt-get {} failed ({status})", args.join(" "));
        }
    }
    if !found("socat") {
        bail!("socat still missing after apt-get install");
    }
    Ok(())
}
