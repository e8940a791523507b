//! [`Modem`]: initialisation, the network, DNS, and the plumbing every socket uses to
//! send a command and read its answer.

use crate::config::Config;
use crate::driver::{self, Claim, Reply, Request};
use crate::error::{Error, Result};
use crate::state::Shared;
use crate::urc::{Final, Urc};
use at7600_core::errors::{ErrCode, ErrInfo};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};

/// What sockets hold: the way to the driver task and the shared state.
pub(crate) struct Inner {
    pub tx: mpsc::UnboundedSender<Request>,
    pub raw_tx: mpsc::UnboundedSender<Vec<u8>>,
    pub shared: Arc<Shared>,
    pub config: Config,
}

/// How a command is sent; built with [`Cmd::new`] and its setters.
pub(crate) struct Cmd {
    req_line: String,
    payload: Option<Vec<u8>>,
    claim: Option<Claim>,
    then: Option<Claim>,
    then_send: Option<u8>,
    timeout: Duration,
}

impl Cmd {
    pub fn new(line: impl Into<String>, timeout: Duration) -> Cmd {
        Cmd {
            req_line: line.into(),
            payload: None,
            claim: None,
            then: None,
            then_send: None,
            timeout,
        }
    }
    /// URC-shaped lines of this kind are part of the response.
    pub fn claim(mut self, c: Claim) -> Cmd {
        self.claim = Some(c);
        self
    }
    /// After `OK`, wait for this URC.
    pub fn then(mut self, c: Claim) -> Cmd {
        self.claim = Some(c);
        self.then = Some(c);
        self
    }
    /// Bytes to write after the `>` prompt.
    pub fn payload(mut self, payload: Vec<u8>) -> Cmd {
        self.payload = Some(payload);
        self
    }
    /// Payload after the prompt, then wait for `+CIPSEND: <link>,...`.
    pub fn send(mut self, link: u8, payload: Vec<u8>) -> Cmd {
        self.payload = Some(payload);
        self.then_send = Some(link);
        self
    }
}

/// An answer whose final result code was `OK` (or `CONNECT`).
#[derive(Debug)]
pub(crate) struct Answer {
    pub lines: Vec<String>,
    pub urc: Option<Urc>,
}

impl Answer {
    /// The value after `<prefix>` on the first line that has it.
    pub fn value(&self, prefix: &str) -> Option<&str> {
        self.lines
            .iter()
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::trim)
    }
}

impl Inner {
    /// Sends one command and waits for its final result code (and its URC).
    pub async fn run(&self, cmd: Cmd) -> Result<Answer> {
        let (reply_tx, reply_rx) = oneshot::channel();
        let command = cmd.req_line.clone();
        let timeout = cmd.timeout;
        let req = Request {
            line: cmd.req_line,
            payload: cmd.payload,
            claim: cmd.claim,
            then: cmd.then,
            then_send: cmd.then_send,
            hold: false,
            timeout,
            reply: reply_tx,
        };
        self.tx.send(req).map_err(|_| Error::LineClosed)?;
        // The driver bounds the response; this bounds the response plus its URC.
        let reply: Reply = match tokio::time::timeout(timeout, reply_rx).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(_)) => return Err(Error::LineClosed),
            Err(_) => return Err(timed_out(&command, timeout)),
        };
        interpret(command, timeout, reply)
    }

    /// Fire and forget (used from `Drop`).
    pub fn run_detached(&self, cmd: Cmd) {
        let req = Request {
            line: cmd.req_line,
            payload: cmd.payload,
            claim: cmd.claim,
            then: cmd.then,
            then_send: cmd.then_send,
            hold: false,
            timeout: cmd.timeout,
            reply: oneshot::channel().0,
        };
        let _ = self.tx.send(req);
    }
}

fn timed_out(command: &str, timeout: Duration) -> Error {
    Error::Timeout {
        command: command.to_string(),
        timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
    }
}

/// Turns a reply into `Ok` or the typed error its lines describe.
fn interpret(command: String, timeout: Duration, reply: Reply) -> Result<Answer> {
    if reply.line_closed {
        return Err(Error::LineClosed);
    }
    match reply.fin {
        None => Err(timed_out(&command, timeout)),
        Some(Final::Ok) | Some(Final::Connect) => Ok(Answer {
            lines: reply.lines,
            urc: reply.urc,
        }),
        Some(Final::Cme(text)) => Err(Error::Cme { command, text }),
        Some(Final::NoConnect(text)) => Err(Error::Protocol {
            command,
            answer: text,
        }),
        Some(Final::Error) => Err(error_from_lines(command, &reply.lines)),
    }
}

/// The most specific error the lines before `ERROR` give.
fn error_from_lines(command: String, lines: &[String]) -> Error {
    for line in lines {
        if let Some(info) = line.strip_prefix("+IP ERROR:") {
            let info = info.trim();
            let known =
                ErrInfo::from_text(info).or_else(|| info.parse().ok().and_then(ErrInfo::from_code));
            return match known {
                Some(info) => Error::Ip { command, info },
                None => Error::Protocol {
                    command,
                    answer: line.clone(),
                },
            };
        }
        if let Some(v) = line.strip_prefix("+CDNSGIP: 0,") {
            let name = command.split('"').nth(1).unwrap_or("").to_string();
            let code = v.trim().parse().unwrap_or(0);
            return Error::Dns { name, code };
        }
        let code = match line.split_once(": ") {
            Some(("+CIPERROR", v)) | Some(("+NETCLOSE", v)) => v.trim().parse().ok(),
            Some(("+CIPOPEN", v)) | Some(("+CIPCLOSE", v)) | Some(("+SERVERSTOP", v)) => {
                v.split(',').nth(1).and_then(|v| v.trim().parse().ok())
            }
            _ => None,
        };
        if let Some(code) = code.and_then(ErrCode::from_code) {
            return Error::Code { command, code };
        }
    }
    Error::Rejected { command }
}

/// Checks an `<err>` number from a URC.
pub(crate) fn check_code(command: &str, err: u8) -> Result<()> {
    match ErrCode::from_code(err) {
        Some(ErrCode::Success) => Ok(()),
        Some(code) => Err(Error::Code {
            command: command.to_string(),
            code,
        }),
        None => Err(Error::Protocol {
            command: command.to_string(),
            answer: format!("error {err}"),
        }),
    }
}

/// A handle on the module. Cheap to clone; the serial line is owned by a background
/// task that ends when the `Modem` and every socket made from it are dropped.
#[derive(Clone)]
pub struct Modem {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Modem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Modem").finish_non_exhaustive()
    }
}

impl Modem {
    /// Takes over the line `io` (a serial port, a PTY, a TCP connection to
    /// `at7600 serve --tcp`) and initialises the module: `AT` until it answers,
    /// `ATE0`, `AT+CMEE=2`, `AT+CPIN?` (must be `READY`), `AT+CREG?` (must be
    /// registered), the APN, `AT+CIPMODE`, `AT+CIPRXGET=1` (buffer access mode) or
    /// `AT+CIPCCFG` headers with the link number (direct push).
    ///
    /// Must be called inside a tokio runtime: the line's task is spawned on it.
    pub async fn open<IO>(io: IO, config: Config) -> Result<Modem>
    where
        IO: AsyncRead + AsyncWrite + Send + 'static,
    {
        let shared = Arc::new(Shared::default());
        let handle = driver::spawn(io, config.clone(), shared.clone());
        let modem = Modem {
            inner: Arc::new(Inner {
                tx: handle.tx,
                raw_tx: handle.raw_tx,
                shared,
                config,
            }),
        };
        modem.init().await?;
        Ok(modem)
    }

    async fn init(&self) -> Result<()> {
        let c = &self.inner.config;
        let mut synced = false;
        for _ in 0..c.sync_tries.max(1) {
            match self.inner.run(Cmd::new("AT", c.sync_timeout)).await {
                Ok(_) => {
                    synced = true;
                    break;
                }
                Err(Error::Timeout { .. }) | Err(Error::Rejected { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        if !synced {
            return Err(Error::NoResponse);
        }
        self.command("ATE0").await?;
        self.command("AT+CMEE=2").await?;
        let cpin = self.command("AT+CPIN?").await?;
        let sim = cpin.value("+CPIN:").unwrap_or("").to_string();
        if sim != "READY" {
            return Err(Error::SimNotReady(sim));
        }
        let creg = self.command("AT+CREG?").await?;
        let stat = creg
            .value("+CREG:")
            .and_then(|v| v.split(',').nth(1))
            .and_then(|v| v.trim().parse::<u8>().ok())
            .unwrap_or(0);
        if stat != 1 && stat != 5 {
            return Err(Error::NotRegistered(stat));
        }
        if let Some(apn) = &c.apn {
            self.command(&format!("AT+CGDCONT=1,\"IP\",\"{apn}\""))
                .await?;
        }
        self.command(&format!("AT+CIPMODE={}", u8::from(c.transparent)))
            .await?;
        let (retries, rto) = c.tcp_tuning.unwrap_or((10, 500));
        if c.buffer_mode {
            self.command("AT+CIPRXGET=1").await?;
            if c.tcp_tuning.is_some() {
                self.command(&format!("AT+CIPCCFG={retries},0,0,1,0,0,{rto}"))
                    .await?;
            }
        } else {
            // Direct push: `+RECEIVE,<link>,<len>` tells the links apart, and
            // `RECV FROM` gives UDP senders.
            self.command("AT+CIPRXGET=0").await?;
            self.command(&format!("AT+CIPCCFG={retries},0,0,1,1,0,{rto}"))
                .await?;
            self.command("AT+CIPSRIP=1").await?;
            self.command("AT+CIPHEAD=1").await?;
        }
        Ok(())
    }

    /// Runs one command with the quick-command timeout and returns its information
    /// lines (without the final `OK`).
    pub async fn command_lines(&self, line: &str) -> Result<Vec<String>> {
        Ok(self.command(line).await?.lines)
    }

    pub(crate) async fn command(&self, line: &str) -> Result<Answer> {
        self.inner
            .run(Cmd::new(line, self.inner.config.command_timeout))
            .await
    }

    /// `AT+NETOPEN`: activates the PDP context; returns after `+NETOPEN: 0`.
    pub async fn net_open(&self) -> Result<()> {
        self.pdp_command("AT+NETOPEN", Claim::NetOpen).await
    }

    /// `AT+NETCLOSE`: deactivates the context (closing every link).
    pub async fn net_close(&self) -> Result<()> {
        self.pdp_command("AT+NETCLOSE", Claim::NetClose).await
    }

    /// `AT+NETOPEN` / `AT+NETCLOSE`: `OK`, then the report `claim` waits for.
    async fn pdp_command(&self, cmd: &str, claim: Claim) -> Result<()> {
        let t = self.inner.config.netopen_timeout;
        let ans = self.inner.run(Cmd::new(cmd, t).then(claim)).await?;
        match ans.urc {
            Some(Urc::NetOpen(err) | Urc::NetClose(err)) => check_code(cmd, err),
            _ => Err(Error::Protocol {
                command: cmd.into(),
                answer: format!("no {} report", cmd.trim_start_matches("AT")),
            }),
        }
    }

    /// `AT+NETOPEN?`: whether the context is active.
    pub async fn is_net_open(&self) -> Result<bool> {
        let t = self.inner.config.command_timeout;
        let cmd = Cmd::new("AT+NETOPEN?", t).claim(Claim::NetOpen);
        let ans = self.inner.run(cmd).await?;
        Ok(ans.value("+NETOPEN:") == Some("1"))
    }

    /// `AT+CDNSGIP="<name>"`: the name's IPv4 address.
    pub async fn resolve(&self, name: &str) -> Result<Ipv4Addr> {
        let cmd = format!("AT+CDNSGIP=\"{name}\"");
        let t = self.inner.config.dns_timeout;
        let ans = self.inner.run(Cmd::new(cmd.clone(), t)).await?;
        let v = ans.value("+CDNSGIP:").unwrap_or("");
        // 1,"<name>","<ip>"
        let ip = v.rsplit(',').next().unwrap_or("").trim_matches('"');
        ip.parse().map_err(|_| Error::Protocol {
            command: cmd,
            answer: v.to_string(),
        })
    }

    /// `AT+IPADDR`: the address of the active context.
    pub async fn ip_address(&self) -> Result<Ipv4Addr> {
        let cmd = "AT+IPADDR";
        let ans = self.command(cmd).await?;
        let v = ans.value("+IPADDR:").unwrap_or("");
        v.parse().map_err(|_| Error::Protocol {
            command: cmd.into(),
            answer: v.to_string(),
        })
    }
}
