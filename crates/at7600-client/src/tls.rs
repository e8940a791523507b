//! [`TlsStream`]: one session of the module's SSL socket set (`AT+CCH*`, ssl.md) as a
//! tokio byte stream; the SSL contexts (`AT+CSSLCFG`) and the certificate store
//! (`AT+CCERTDOWN`, `AT+CCERTLIST`, `AT+CCERTDELE`).

use crate::driver::Claim;
use crate::error::{CchCode, Error, Result};
use crate::modem::{Cmd, Inner, Modem};
use crate::state::{Phase, Which, SSL_CONTEXTS};
use crate::tcp::{close_cmd, ChunkWriter, OpenGuard};
use crate::urc::{parse_urc, Urc};
use std::sync::Arc;
use std::time::Duration;

/// Largest payload of one `AT+CCHSEND` (ssl.md §2).
pub(crate) const MAX_CCH_SEND: usize = 2048;

/// The factory `negotiatetime`, seconds.
const FACTORY_NEGOTIATE_SECS: u16 = 300;

/// `AT+CSSLCFG="sslversion"`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum SslVersion {
    /// 0: SSL 3.0 (every open fails with 15: no maintained library has it).
    Ssl3,
    /// 1: TLS 1.0 (fails with 15 likewise).
    Tls10,
    /// 2: TLS 1.1 (fails with 15 likewise).
    Tls11,
    /// 3: TLS 1.2 only.
    Tls12,
    /// 4: every version the module has (factory).
    #[default]
    All,
}

/// `AT+CSSLCFG="authmode"`: what is verified and presented (ssl.md §14.3).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum AuthMode {
    /// 0: nothing checked, no client certificate (factory).
    #[default]
    None,
    /// 1: the server's chain and name are verified against `cacert`.
    Server,
    /// 2: verified as 1, and `clientcert`/`clientkey` presented when asked (mutual TLS).
    Mutual,
    /// 3: the client certificate presented; the server not checked.
    ClientOnly,
}

/// One SSL context's settings (`AT+CSSLCFG`, contexts 0-9). `Default` is the factory
/// state; file names refer to the module's certificate store ([`Modem::cert_download`]);
/// an empty name leaves the setting unset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SslContext {
    /// `sslversion`.
    pub version: SslVersion,
    /// `authmode`.
    pub auth: AuthMode,
    /// `ignorelocaltime`: `true` (factory) does not check certificate dates.
    pub ignore_local_time: bool,
    /// `negotiatetime`: seconds the handshake may take, 10-300 (factory 300).
    pub negotiate_time: u16,
    /// `cacert`: the trusted CA certificate(s).
    pub ca_cert: String,
    /// `clientcert`: the client's certificate chain, leaf first.
    pub client_cert: String,
    /// `clientkey`: the client's private key.
    pub client_key: String,
    /// `keypwd`: the password of an encrypted client key; `None` leaves it alone.
    pub key_password: Option<String>,
    /// `enableSNI`: send the host name in the handshake (factory off; servers behind
    /// CDNs need it).
    pub sni: bool,
    /// `ciphersuites`: one IANA suite number; `None` is `0xFFFF`, every suite.
    pub cipher_suite: Option<u16>,
}

impl Default for SslContext {
    fn default() -> Self {
        SslContext {
            version: SslVersion::All,
            auth: AuthMode::None,
            ignore_local_time: true,
            negotiate_time: FACTORY_NEGOTIATE_SECS,
            ca_cert: String::new(),
            client_cert: String::new(),
            client_key: String::new(),
            key_password: None,
            sni: false,
            cipher_suite: None,
        }
    }
}

impl SslContext {
    /// The `AT+CSSLCFG` settings as (name, value as written on the line).
    fn settings(&self) -> Result<Vec<(&'static str, String)>> {
        let version = match self.version {
            SslVersion::Ssl3 => 0,
            SslVersion::Tls10 => 1,
            SslVersion::Tls11 => 2,
            SslVersion::Tls12 => 3,
            SslVersion::All => 4,
        };
        let auth = match self.auth {
            AuthMode::None => 0,
            AuthMode::Server => 1,
            AuthMode::Mutual => 2,
            AuthMode::ClientOnly => 3,
        };
        let mut out = vec![
            ("sslversion", version.to_string()),
            ("authmode", auth.to_string()),
            (
                "ignorelocaltime",
                u8::from(self.ignore_local_time).to_string(),
            ),
            ("negotiatetime", self.negotiate_time.to_string()),
            ("cacert", file_arg(&self.ca_cert)?),
            ("clientcert", file_arg(&self.client_cert)?),
            ("clientkey", file_arg(&self.client_key)?),
            ("enableSNI", u8::from(self.sni).to_string()),
            (
                "ciphersuites",
                format!("0x{:04X}", self.cipher_suite.unwrap_or(0xFFFF)),
            ),
        ];
        if let Some(pwd) = &self.key_password {
            out.push(("keypwd", quoted(pwd)?));
        }
        Ok(out)
    }
}

/// `"<text>"`, for text that cannot break the command line.
fn quoted(text: &str) -> Result<String> {
    if text.contains(['"', '\r', '\n', '\0']) {
        return Err(Error::Unsupported(
            "quotes or line ends inside a quoted parameter",
        ));
    }
    Ok(format!("\"{text}\""))
}

/// A certificate file name as a parameter: quoted, or `{non-ascii}"<hex>"` for names
/// beyond ASCII (ssl.md §3.1); empty clears the setting.
fn file_arg(name: &str) -> Result<String> {
    if name.is_ascii() {
        return quoted(name);
    }
    let hex: String = name.bytes().map(|b| format!("{b:02X}")).collect();
    Ok(format!("{{non-ascii}}\"{hex}\""))
}

/// A name as `AT+CCERTLIST` prints it: quotes removed, `&#x<HEX>;` decoded.
fn listed_name(text: &str) -> String {
    let text = text.trim().trim_matches('"');
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("&#x") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 3..];
        let decoded = after.split_once(';').and_then(|(hex, tail)| {
            let c = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)?;
            Some((c, tail))
        });
        match decoded {
            Some((c, tail)) => {
                out.push(c);
                rest = tail;
            }
            None => {
                out.push_str("&#x");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

impl Modem {
    /// `AT+CSSLCFG`: writes every setting of SSL context `context` (0-9). Applies to
    /// sessions opened afterwards.
    pub async fn ssl_configure(&self, context: u8, settings: &SslContext) -> Result<()> {
        if usize::from(context) >= SSL_CONTEXTS {
            return Err(Error::Unsupported("SSL contexts are 0-9"));
        }
        for (name, value) in settings.settings()? {
            self.command(&format!("AT+CSSLCFG=\"{name}\",{context},{value}"))
                .await?;
        }
        self.inner.shared.lock().negotiate_secs[usize::from(context)] = settings.negotiate_time;
        Ok(())
    }

    /// `AT+CCERTDOWN`: stores `contents` (1-10240 bytes: a PEM or DER certificate, a
    /// key, a password) as `name` (ending in `.pem` or `.der`) in the module's
    /// certificate store, replacing a file of that name.
    pub async fn cert_download(&self, name: &str, contents: &[u8]) -> Result<()> {
        let line = format!("AT+CCERTDOWN={},{}", file_arg(name)?, contents.len());
        // The bytes cross the serial line: allow the send timeout, not a quick command's.
        let cmd = Cmd::new(line, self.inner.config.cipsend_timeout).payload(contents.to_vec());
        self.inner.run(cmd).await.map(|_| ())
    }

    /// `AT+CCERTLIST`: the names in the certificate store, in the module's order.
    pub async fn cert_list(&self) -> Result<Vec<String>> {
        let ans = self.command("AT+CCERTLIST").await?;
        Ok(ans
            .lines
            .iter()
            .filter_map(|l| l.strip_prefix("+CCERTLIST:"))
            .map(listed_name)
            .collect())
    }

    /// `AT+CCERTDELE`: removes a file from the store ([`Error::Rejected`] when there
    /// is none of that name).
    pub async fn cert_delete(&self, name: &str) -> Result<()> {
        self.command(&format!("AT+CCERTDELE={}", file_arg(name)?))
            .await
            .map(|_| ())
    }

    /// `AT+CCHSTART`: starts the SSL service; returns after `+CCHSTART: 0`.
    /// [`TlsStream::connect`] starts it when needed, so this is rarely called directly.
    /// A module whose service already runs answers [`Error::Rejected`] (ssl.md §6);
    /// no network is [`Error::Cch`] with [`CchCode::NoNet`] (sim7600) or
    /// [`Error::Rejected`] (a76xx).
    pub async fn tls_start(&self) -> Result<()> {
        let command = "AT+CCHSTART";
        let t = self.inner.config.netopen_timeout;
        let ans = self
            .inner
            .run(Cmd::new(command, t).then(Claim::CchStart))
            .await?;
        match ans.urc {
            Some(Urc::CchStart(0)) => {
                self.inner.shared.lock().cch_started = true;
                Ok(())
            }
            Some(Urc::CchStart(err)) => Err(cch_error(command, err)),
            _ => Err(Error::Protocol {
                command: command.into(),
                answer: "no +CCHSTART report".into(),
            }),
        }
    }

    /// `AT+CCHSTOP`: stops the SSL service, closing both sessions (their streams then
    /// fail with [`Error::SessionClosed`]); returns after `+CCHSTOP: 0`. A stopped
    /// service answers [`Error::Rejected`].
    pub async fn tls_stop(&self) -> Result<()> {
        let command = "AT+CCHSTOP";
        let t = self.inner.config.cipopen_timeout;
        let result = self
            .inner
            .run(Cmd::new(command, t).then(Claim::CchStop))
            .await;
        self.inner.shared.lock().cch_started = false;
        match result?.urc {
            Some(Urc::CchStop(0)) => Ok(()),
            Some(Urc::CchStop(err)) => Err(cch_error(command, err)),
            _ => Err(Error::Protocol {
                command: command.into(),
                answer: "no +CCHSTOP report".into(),
            }),
        }
    }
}

/// The typed error for a non-zero `<err>` of the SSL set.
fn cch_error(command: &str, err: u8) -> Error {
    Error::Cch {
        command: command.to_string(),
        code: CchCode::from_code(err).unwrap_or(CchCode::Unknown),
    }
}

/// How [`TlsStream::connect`] opens its session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsOptions {
    /// The SSL context (0-9, [`Modem::ssl_configure`]) bound to the session.
    pub context: u8,
    /// TLS (client type 2, the default); `false` opens plain TCP through the same
    /// commands (client type 1).
    pub tls: bool,
    /// Manual receive mode (`AT+CCHSET=1,1`, the default; ssl.md §10.2): the module
    /// caches what the application has not read and TLS/TCP flow control holds the
    /// rest, so a slow reader loses nothing. `false` selects automatic mode, where
    /// the module pushes every byte at once (`+CCHRECV: DATA`) and the driver keeps
    /// what the application has not read yet, however much that is.
    pub manual_receive: bool,
    /// The local port (`<bind_port>`); `None` lets the module choose.
    pub bind_port: Option<u16>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            context: 0,
            tls: true,
            manual_receive: true,
            bind_port: None,
        }
    }
}

/// A TLS (or plain TCP) connection through one of the module's two SSL sessions: the
/// module runs TLS, the host sees plaintext.
///
/// Reads come from the session: in manual receive mode (the default) the driver reads
/// the module's cache with `AT+CCHRECV=<s>,2048` when `+CCHEVENT: <s>,RECV EVENT`
/// announces data, up to [`crate::Config::rx_window`] bytes ahead of the application;
/// beyond that the module and TLS/TCP flow control hold the rest. Writes go out in
/// `AT+CCHSEND` chunks of at most 2048 bytes, each complete at its
/// `+CCHSEND: <s>,0` report, which the module gives once the bytes are queued: a full
/// queue is back-pressure. A close by the server (`+CCH_PEER_CLOSED`) reads as EOF
/// after everything the module cached; writes then fail. Dropping the stream closes
/// the session (`AT+CCHCLOSE`). The module's transparent SSL mode (`AT+CCHMODE=1`) is
/// not used.
///
/// ```no_run
/// use at7600_client::{AuthMode, Modem, SslContext, TlsOptions, TlsStream};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// # async fn run(modem: Modem, ca_pem: &[u8]) -> at7600_client::Result<()> {
/// modem.cert_download("ca.pem", ca_pem).await?;
/// let verify = SslContext {
///     auth: AuthMode::Server,
///     ca_cert: "ca.pem".into(),
///     sni: true,
///     ..SslContext::default()
/// };
/// modem.ssl_configure(0, &verify).await?;
/// let mut s = TlsStream::connect(&modem, "example.com", 443, &TlsOptions::default()).await?;
/// s.write_all(b"GET / HTTP/1.0\r\nHost: example.com\r\n\r\n").await?;
/// let mut page = Vec::new();
/// s.read_to_end(&mut page).await?;
/// s.close().await?;
/// # Ok(())
/// # }
/// ```
pub struct TlsStream {
    inner: Arc<Inner>,
    session: u8,
    writer: ChunkWriter,
}

impl std::fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream")
            .field("session", &self.session)
            .finish()
    }
}

impl TlsStream {
    /// Opens the lowest free session to `host:port` (a DNS name or dotted IPv4
    /// address): `AT+CCHSET=1,<manual>`, `AT+CCHSTART` unless the service runs,
    /// `AT+CCHSSLCFG=<s>,<context>`, `AT+CCHOPEN`, and waits for `+CCHOPEN: <s>,0`.
    /// A failed open is [`Error::TlsConnect`] with the module's code: 15 for every
    /// handshake failure, 19 for certificate files the context's authmode needs but
    /// that are unset, missing or unusable, 13/14 for name and TCP.
    pub async fn connect(
        modem: &Modem,
        host: &str,
        port: u16,
        options: &TlsOptions,
    ) -> Result<TlsStream> {
        let inner = &modem.inner;
        let host = quoted(host)?;
        if usize::from(options.context) >= SSL_CONTEXTS {
            return Err(Error::Unsupported("SSL contexts are 0-9"));
        }
        let session = inner
            .shared
            .allocate_session(options.manual_receive)
            .ok_or(Error::NoFreeSession)?;
        let which = Which::Session(session);
        let mut guard = OpenGuard {
            inner,
            which,
            may_be_open: false,
            armed: true,
        };
        // Report 1: every send is confirmed, which is how a write knows its bytes
        // were taken. Accepted while the service runs; applies to the next open.
        let manual = u8::from(options.manual_receive);
        modem.command(&format!("AT+CCHSET=1,{manual}")).await?;
        if !inner.shared.lock().cch_started {
            match modem.tls_start().await {
                Ok(()) => {}
                // The service already runs (started before this driver took the line):
                // the module refuses a second start. Had the network been missing
                // instead, the open below says so with 17.
                Err(Error::Rejected { .. }) => inner.shared.lock().cch_started = true,
                Err(e) => return Err(e),
            }
        }
        let mut negotiate = 0;
        if options.tls {
            let ctx = options.context;
            modem
                .command(&format!("AT+CCHSSLCFG={session},{ctx}"))
                .await?;
            negotiate = match inner.shared.lock().negotiate_secs[usize::from(ctx)] {
                0 => FACTORY_NEGOTIATE_SECS,
                n => n,
            };
        }
        let kind = if options.tls { 2 } else { 1 };
        let mut command = format!("AT+CCHOPEN={session},{host},{port},{kind}");
        if let Some(bind) = options.bind_port {
            command.push_str(&format!(",{bind}"));
        }
        // TCP may take the module's 120 s, then the handshake its negotiatetime.
        let c = &inner.config;
        let timeout = c.cipopen_timeout + Duration::from_secs(negotiate.into()) + c.command_timeout;
        guard.may_be_open = true;
        let cmd = Cmd::new(command.clone(), timeout).then(Claim::CchOpen(session));
        let ans = match inner.run(cmd).await {
            Ok(ans) => ans,
            Err(e) => {
                // Refused outright: the session stayed free. A timeout leaves it
                // unknown, so close it to be sure.
                guard.may_be_open = matches!(e, Error::Timeout { .. });
                return Err(e);
            }
        };
        let report = ans
            .urc
            .clone()
            .or_else(|| ans.lines.iter().find_map(|l| parse_urc(l)));
        match report {
            Some(Urc::CchOpen { err: 0, .. }) => {
                guard.armed = false;
                Ok(TlsStream {
                    inner: inner.clone(),
                    session,
                    writer: ChunkWriter::default(),
                })
            }
            Some(Urc::CchOpen { err, .. }) => {
                guard.may_be_open = false;
                Err(Error::TlsConnect {
                    session,
                    code: CchCode::from_code(err).unwrap_or(CchCode::Unknown),
                })
            }
            _ => {
                // The service stopped before the report.
                guard.may_be_open = false;
                let mut st = inner.shared.lock();
                Err(which
                    .slot(&mut st)
                    .and_then(|l| which.failure(l))
                    .unwrap_or(Error::Protocol {
                        command,
                        answer: "no +CCHOPEN report".into(),
                    }))
            }
        }
    }

    /// The module's session number (0-1).
    pub fn session(&self) -> u8 {
        self.session
    }

    /// Closes the session (`AT+CCHCLOSE`, which sends TLS close_notify) and waits for
    /// `+CCHCLOSE: <s>,0`. A session the module already freed (the service stopped)
    /// closes without error.
    pub async fn close(mut self) -> Result<()> {
        self.writer.closed = true;
        let inner = self.inner.clone();
        let which = Which::Session(self.session);
        let gone = {
            let mut st = inner.shared.lock();
            which
                .slot(&mut st)
                .is_some_and(|l| matches!(l.phase, Phase::Failed(_) | Phase::NetworkLost))
        };
        let cmd = close_cmd(&inner, which);
        let command = format!("AT+CCHCLOSE={}", self.session);
        let result = inner.run(cmd).await;
        inner.shared.release_slot(which);
        match result {
            Err(Error::Rejected { .. }) if gone => Ok(()),
            Err(e) => Err(e),
            Ok(ans) => match ans.urc {
                Some(Urc::CchClose { err, .. }) if err != 0 => Err(cch_error(&command, err)),
                _ => Ok(()),
            },
        }
    }
}

/// One `AT+CCHSEND` of at most 2048 bytes, up to its `+CCHSEND: <s>,<err>` report.
async fn send_chunk(inner: Arc<Inner>, session: u8, data: Vec<u8>) -> Result<()> {
    let which = Which::Session(session);
    let not_open = |inner: &Inner| {
        let mut st = inner.shared.lock();
        which.slot(&mut st).and_then(|l| match l.phase {
            Phase::Open => None,
            _ => Some(which.not_open(l)),
        })
    };
    if let Some(e) = not_open(&inner) {
        return Err(e);
    }
    let command = format!("AT+CCHSEND={session},{}", data.len());
    let cmd = Cmd::new(command, inner.config.cchsend_timeout)
        .payload(data)
        .then(Claim::CchSend(session));
    match inner.run(cmd).await {
        Ok(ans) => match ans.urc {
            Some(Urc::CchSend { err: 0, .. }) => Ok(()),
            Some(Urc::CchSend { err, .. }) => Err(Error::SessionClosed {
                session,
                code: CchCode::from_code(err),
            }),
            // The session ended before the report.
            _ => Err(not_open(&inner).unwrap_or(Error::SessionClosed {
                session,
                code: None,
            })),
        },
        // Refused: the server closed (or the service stopped) since the check above.
        Err(Error::Rejected { command }) => {
            Err(not_open(&inner).unwrap_or(Error::Rejected { command }))
        }
        Err(e) => Err(e),
    }
}

crate::tcp::slot_stream!(TlsStream, session, Which::Session, MAX_CCH_SEND, send_chunk);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_quoted_or_hex() {
        assert_eq!(file_arg("ca.pem").ok(), Some("\"ca.pem\"".to_string()));
        assert_eq!(file_arg("").ok(), Some("\"\"".to_string()));
        assert_eq!(
            file_arg("中华.pem").ok(),
            Some("{non-ascii}\"E4B8ADE58D8E2E70656D\"".to_string())
        );
        assert!(file_arg("a\"b.pem").is_err());
    }

    #[test]
    fn listed_names_decode_entities() {
        assert_eq!(listed_name(" \"ca.pem\""), "ca.pem");
        assert_eq!(listed_name(" \"&#x4E2D;&#x534E;.pem\""), "中华.pem");
        assert_eq!(listed_name(" \"a&#xZZ;.pem\""), "a&#xZZ;.pem");
    }
}
