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

/// An `<err>` of the SSL socket set (`+CCHOPEN`, `+CCHSEND`, `+CCHRECV`, ...; ssl.md
/// §13). The numbers differ from the TCP/IP set's [`ErrCode`], so they have their own
/// type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CchCode {
    /// 1: alerting state.
    Alerting,
    /// 2: unknown error.
    Unknown,
    /// 3: busy.
    Busy,
    /// 4: the peer closed the session.
    PeerClosed,
    /// 5: operation timeout.
    Timeout,
    /// 6: transfer failed.
    TransferFailed,
    /// 7: memory error.
    Memory,
    /// 8: invalid parameter.
    InvalidParameter,
    /// 9: network error (the network went while bytes were queued).
    Network,
    /// 10: open session error.
    OpenSession,
    /// 11: state error (nothing to read, or automatic receive mode).
    State,
    /// 12: create socket error (the bind port is taken).
    CreateSocket,
    /// 13: the host name did not resolve.
    Dns,
    /// 14: TCP refused, unreachable or timed out.
    ConnectSocket,
    /// 15: the TLS handshake failed (unknown CA, wrong host name, expired certificate,
    /// rejected client certificate, no common version or suite, handshake timeout).
    Handshake,
    /// 16: close socket error.
    CloseSocket,
    /// 17: no network (PDP context 1 not active).
    NoNet,
    /// 18: the send queue stayed full for the session's send timeout; the bytes were
    /// dropped.
    SendTimeout,
    /// 19: a certificate or key file the authmode needs is unset, missing or unusable.
    NoCertificates,
    /// Any other number the module printed.
    Other(u8),
}

impl CchCode {
    /// The code for a non-zero `<err>`; `None` for 0 (success).
    pub fn from_code(code: u8) -> Option<CchCode> {
        Some(match code {
            0 => return None,
            1 => CchCode::Alerting,
            2 => CchCode::Unknown,
            3 => CchCode::Busy,
            4 => CchCode::PeerClosed,
            5 => CchCode::Timeout,
            6 => CchCode::TransferFailed,
            7 => CchCode::Memory,
            8 => CchCode::InvalidParameter,
            9 => CchCode::Network,
            10 => CchCode::OpenSession,
            11 => CchCode::State,
            12 => CchCode::CreateSocket,
            13 => CchCode::Dns,
            14 => CchCode::ConnectSocket,
            15 => CchCode::Handshake,
            16 => CchCode::CloseSocket,
            17 => CchCode::NoNet,
            18 => CchCode::SendTimeout,
            19 => CchCode::NoCertificates,
            n => CchCode::Other(n),
        })
    }

    /// The number the module prints.
    pub fn code(self) -> u8 {
        match self {
            CchCode::Alerting => 1,
            CchCode::Unknown => 2,
            CchCode::Busy => 3,
            CchCode::PeerClosed => 4,
            CchCode::Timeout => 5,
            CchCode::TransferFailed => 6,
            CchCode::Memory => 7,
            CchCode::InvalidParameter => 8,
            CchCode::Network => 9,
            CchCode::OpenSession => 10,
            CchCode::State => 11,
            CchCode::CreateSocket => 12,
            CchCode::Dns => 13,
            CchCode::ConnectSocket => 14,
            CchCode::Handshake => 15,
            CchCode::CloseSocket => 16,
            CchCode::NoNet => 17,
            CchCode::SendTimeout => 18,
            CchCode::NoCertificates => 19,
            CchCode::Other(n) => n,
        }
    }

    /// The manuals' wording.
    pub fn text(self) -> &'static str {
        match self {
            CchCode::Alerting => "alerting state",
            CchCode::Unknown => "unknown error",
            CchCode::Busy => "busy",
            CchCode::PeerClosed => "peer closed",
            CchCode::Timeout => "operation timeout",
            CchCode::TransferFailed => "transfer failed",
            CchCode::Memory => "memory error",
            CchCode::InvalidParameter => "invalid parameter",
            CchCode::Network => "network error",
            CchCode::OpenSession => "open session error",
            CchCode::State => "state error",
            CchCode::CreateSocket => "create socket error",
            CchCode::Dns => "get DNS error",
            CchCode::ConnectSocket => "connect socket error",
            CchCode::Handshake => "handshake error",
            CchCode::CloseSocket => "close socket error",
            CchCode::NoNet => "no net",
            CchCode::SendTimeout => "send data timeout",
            CchCode::NoCertificates => "not set certificates",
            CchCode::Other(_) => "unknown code",
        }
    }
}

impl std::fmt::Display for CchCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.text(), self.code())
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
    /// An `<err>` of the SSL socket set for a command (`+CCHSTART: 17`,
    /// `+CCHCLOSE: <s>,<err>`, ...).
    #[error("{command}: {code}")]
    Cch {
        /// The command line.
        command: String,
        /// The decoded result.
        code: CchCode,
    },
    /// `AT+CCHOPEN` was accepted with `OK`, then `+CCHOPEN: <s>,<err>` reported a
    /// failure: 15 for any handshake failure, 19 for missing or unusable certificate
    /// files, 13/14/12/17 for name, TCP, bind port and network.
    #[error("SSL session {session}: open failed: {code}")]
    TlsConnect {
        /// The session (0-1).
        session: u8,
        /// The module's reason.
        code: CchCode,
    },
    /// An SSL session cannot carry the operation: a send was dropped
    /// (`+CCHSEND: <s>,18`), a write came after the server closed (4), or
    /// `AT+CCHSTOP` closed the session (no code).
    #[error("SSL session {session} closed{}", code.map(|c| format!(": {c}")).unwrap_or_default())]
    SessionClosed {
        /// The session.
        session: u8,
        /// The module's reason; `None` when the service was stopped.
        code: Option<CchCode>,
    },
    /// Both SSL sessions are in use.
    #[error("no free SSL session (the module has 2)")]
    NoFreeSession,
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
            Error::LinkClosed { .. }
            | Error::NetworkLost
            | Error::SendIncomplete { .. }
            | Error::SessionClosed { .. } => io::ErrorKind::ConnectionReset,
            Error::Timeout { .. } => io::ErrorKind::TimedOut,
            Error::LineClosed => io::ErrorKind::BrokenPipe,
            Error::Connect { .. } | Error::TlsConnect { .. } => io::ErrorKind::ConnectionRefused,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, self)
    }
}

/// The driver's result type.
pub type Result<T> = std::result::Result<T, Error>;
