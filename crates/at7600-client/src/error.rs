//! The driver's typed errors: every refusal the module can answer, and the line's own
//! failures. Codes are the core crate's tables, never a second copy.

use at7600_core::errors::{ErrCode, ErrInfo};
use std::io;

/// Why `+IPCLOSE: <link>,<reason>` closed a link (manual chapter 5).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CloseReason {
    /// 0: closed by the module itself.
    Local,
    /// 1: closed by the remote side.
    Remote,
    /// 2: sending timed out, or DTR went off.
    SendTimeout,
    /// Any other number the module printed.
    Other(u8),
}

impl CloseReason {
    /// The reason for a `+IPCLOSE` number.
    pub fn from_code(code: u8) -> CloseReason {
        match code {
            0 => CloseReason::Local,
            1 => CloseReason::Remote,
            2 => CloseReason::SendTimeout,
            n => CloseReason::Other(n),
        }
    }
}

/// Everything that can go wrong between the host and the module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing the serial line failed.
    #[error("serial line: {0}")]
    Io(#[from] io::Error),
    /// The serial line reached end of file, or the driver task ended.
    #[error("the modem's line is closed")]
    LineClosed,
    /// No answer to `AT` after the configured number of tries.
    #[error("the modem does not answer AT")]
    NoResponse,
    /// A command got no final result code (or its report) within its timeout.
    #[error("{command}: no answer within {timeout_ms} ms")]
    Timeout {
        /// The command line, without `\r`.
        command: String,
        /// The timeout that expired.
        timeout_ms: u64,
    },
    /// A plain `ERROR` with no more detail.
    #[error("{command}: ERROR")]
    Rejected {
        /// The command line.
        command: String,
    },
    /// `+CME ERROR: <text>`.
    #[error("{command}: +CME ERROR: {text}")]
    Cme {
        /// The command line.
        command: String,
        /// The error's text or number as printed.
        text: String,
    },
    /// `+IP ERROR: <err_info>` (chapter 3).
    #[error("{command}: +IP ERROR: {}", info.text())]
    Ip {
        /// The command line.
        command: String,
        /// The decoded error.
        info: ErrInfo,
    },
    /// An `<err>` result (chapter 4) from `+CIPERROR`, `+CIPOPEN`, `+NETOPEN`,
    /// `+NETCLOSE`, `+CIPCLOSE` or `+SERVERSTOP`.
    #[error("{command}: {}", code.text())]
    Code {
        /// The command line.
        command: String,
        /// The decoded result.
        code: ErrCode,
    },
    /// A TCP connect accepted with `OK` failed later (`+CIPOPEN: <n>,<err>`).
    #[error("connect on link {link} failed: {}", code.text())]
    Connect {
        /// The link.
        link: u8,
        /// The module's reason.
        code: ErrCode,
    },
    /// `AT+CDNSGIP` found no address (`+CDNSGIP: 0,<code>`).
    #[error("cannot resolve {name:?} (DNS error {code})")]
    Dns {
        /// The name looked up.
        name: String,
        /// The module's DNS error code (10: general error).
        code: u32,
    },
    /// `+CIPSEND: <n>,<req>,<cnf>` with `cnf != req`: the link cannot be used further.
    #[error("link {link}: sent {cnf} of {req} bytes")]
    SendIncomplete {
        /// The link.
        link: u8,
        /// Bytes requested.
        req: usize,
        /// Bytes confirmed (-1: disconnected, 0: buffer full).
        cnf: i64,
    },
    /// `+IPCLOSE` closed the link for a reason other than a clean remote close, or a
    /// write was attempted after any close.
    #[error("link {link} closed ({reason:?})")]
    LinkClosed {
        /// The link.
        link: u8,
        /// Why.
        reason: CloseReason,
    },
    /// `+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY`.
    #[error("network closed unexpectedly")]
    NetworkLost,
    /// All ten links are in use.
    #[error("no free link (the module has 10)")]
    NoFreeLink,
    /// `AT+CPIN?` did not answer `READY`.
    #[error("SIM not ready: {0}")]
    SimNotReady(String),
    /// `AT+CREG?` reports neither home (1) nor roaming (5) registration.
    #[error("not registered (status {0})")]
    NotRegistered(u8),
    /// The operation needs a different mode (transparent vs. command mode).
    #[error("wrong mode: {0}")]
    Mode(&'static str),
    /// Something the module cannot do (IPv6, reverse name lookups).
    #[error("not supported by the module: {0}")]
    Unsupported(&'static str),
    /// The module answered something this driver cannot interpret.
    #[error("unexpected answer to {command}: {answer:?}")]
    Protocol {
        /// The command line.
        command: String,
        /// What came back.
        answer: String,
    },
}

impl Error {
    /// The error as an `io::Error` for the `AsyncRead`/`AsyncWrite` impls.
    pub(crate) fn into_io(self) -> io::Error {
        let kind = match &self {
            Error::Io(e) => e.kind(),
            Error::LinkClosed { .. } | Error::NetworkLost | Error::SendIncomplete { .. } => {
                io::ErrorKind::ConnectionReset
            }
            Error::Timeout { .. } => io::ErrorKind::TimedOut,
            Error::LineClosed => io::ErrorKind::BrokenPipe,
            Error::Connect { .. } => io::ErrorKind::ConnectionRefused,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, self)
    }
}

/// The driver's result type.
pub type Result<T> = std::result::Result<T, Error>;
