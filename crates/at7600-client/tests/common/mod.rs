//! What the driver's scripted tests share: a fake module on an in-memory line that
//! expects the host's exact bytes, step by step, and answers each step with the
//! module's exact bytes. Every wait is bounded.
#![allow(dead_code)]

use at7600_client::{Config, Modem};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::task::JoinHandle;

/// Longest wait for the host's next bytes.
pub const WAIT: Duration = Duration::from_secs(10);

/// A check run when its step's bytes have arrived, before the reply goes out.
pub type Check = Box<dyn FnOnce() -> Result<(), String> + Send>;

/// What the host must send next, and what the module answers.
pub struct Step {
    /// The host's exact bytes (a command line with its `\r`, or a payload).
    pub expect: Vec<u8>,
    /// The module's exact answer, URCs included.
    pub reply: Vec<u8>,
    /// Run before replying; an error fails the script.
    pub check: Option<Check>,
}

/// A step: `expect` from the host, then `reply`.
pub fn step(expect: impl AsRef<[u8]>, reply: impl AsRef<[u8]>) -> Step {
    Step {
        expect: expect.as_ref().to_vec(),
        reply: reply.as_ref().to_vec(),
        check: None,
    }
}

impl Step {
    /// Adds a check run when the host's bytes have arrived.
    pub fn check(mut self, f: impl FnOnce() -> Result<(), String> + Send + 'static) -> Step {
        self.check = Some(Box::new(f));
        self
    }
}

/// The exact initialisation `Modem::open` sends with `Config::default()`, answered as
/// a registered module with its SIM ready.
pub fn init_steps() -> Vec<Step> {
    vec![
        step("AT\r", "\r\nOK\r\n"),
        step("ATE0\r", "\r\nOK\r\n"),
        step("AT+CMEE=2\r", "\r\nOK\r\n"),
        step("AT+CPIN?\r", "\r\n+CPIN: READY\r\n\r\nOK\r\n"),
        step("AT+CREG?\r", "\r\n+CREG: 0,1\r\n\r\nOK\r\n"),
        step("AT+CIPMODE=0\r", "\r\nOK\r\n"),
        step("AT+CIPRXGET=1\r", "\r\nOK\r\n"),
    ]
}

/// Driver settings for scripts: no safety-net polling, whose timing would put
/// commands at unpredictable places in the exchange.
pub fn config() -> Config {
    Config {
        poll_interval: Duration::from_secs(3600),
        ..Config::default()
    }
}

/// Runs the module's side of `steps` on `line`. The outcome is an error naming the
/// first step whose bytes differed (or did not come), with what came instead.
pub fn scripted_module(line: DuplexStream, steps: Vec<Step>) -> JoinHandle<Result<(), String>> {
    tokio::spawn(async move {
        let (mut rx, mut tx) = tokio::io::split(line);
        let mut got: Vec<u8> = Vec::new();
        let mut buf = [0u8; 4096];
        let total = steps.len();
        for (i, st) in steps.into_iter().enumerate() {
            while got.len() < st.expect.len() && got.starts_with(&st.expect[..got.len()]) {
                let n = match tokio::time::timeout(WAIT, rx.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => 0,
                    Ok(Ok(n)) => n,
                    Err(_) => 0,
                };
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            if !got.starts_with(&st.expect) {
                return Err(format!(
                    "step {i} of {total}: expected {:?}, got {:?}",
                    st.expect.escape_ascii().to_string(),
                    got.escape_ascii().to_string()
                ));
            }
            got.drain(..st.expect.len());
            if let Some(check) = st.check {
                check().map_err(|e| format!("step {i}: {e}"))?;
            }
            if tx.write_all(&st.reply).await.is_err() {
                return Err(format!("step {i}: the host closed the line"));
            }
        }
        if got.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "after the script: {:?}",
                got.escape_ascii().to_string()
            ))
        }
    })
}

/// Longest a scripted exchange may take.
pub const LIMIT: Duration = Duration::from_secs(30);

/// Runs `host` on a modem (settings `config`) whose module follows `steps` after the
/// initialisation, bounded by [`LIMIT`]; then checks the module saw exactly the
/// script's bytes.
pub async fn scripted<F, Fut>(config: Config, steps: Vec<Step>, host: F)
where
    F: FnOnce(Modem) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (line, module) = tokio::io::duplex(64 * 1024);
    let mut all = init_steps();
    all.extend(steps);
    let script = scripted_module(module, all);
    let run = async {
        let modem = Modem::open(line, config).await.expect("modem initialises");
        host(modem).await;
    };
    tokio::time::timeout(LIMIT, run)
        .await
        .expect("within the time limit");
    script
        .await
        .expect("module task")
        .expect("exactly the script's bytes");
}

/// Seeded xorshift bytes.
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// `+CCHRECV: DATA,<s>,<k>` frames of at most 1024 bytes carrying `data` (ssl.md §10).
pub fn data_frames(session: u8, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in data.chunks(1024) {
        out.extend(format!("\r\n+CCHRECV: DATA,{session},{}\r\n", chunk.len()).bytes());
        out.extend_from_slice(chunk);
    }
    out
}

/// The whole answer of an `AT+CCHRECV` that serves `data` (ssl.md §10.2): `OK`, the
/// frames, the trailer.
pub fn recv_block(session: u8, data: &[u8]) -> Vec<u8> {
    let mut out = b"\r\nOK\r\n".to_vec();
    out.extend(data_frames(session, data));
    out.extend(format!("\r\n+CCHRECV: {session},0\r\n").bytes());
    out
}
