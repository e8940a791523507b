//! The modem's boundary: what goes in, what comes out.
//!
//! The core never touches a socket, a file descriptor or a clock. A runtime feeds it
//! [`Input`]s (each with the `now` at which it happened) and drains, after every input,
//! the bytes for the host, the [`NetCommand`]s for the network backend and the next
//! deadline. A recording of a session is simply the list of `(now, Input)`; with the
//! `serde` feature every type here is (de)serializable, byte payloads as C strings
//! ([`crate::escape`]).

use crate::config::Radio;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

/// A point on the modem's clock: time elapsed since an epoch chosen by the runtime
/// (process start for the real network, zero for a simulated one). It only moves forward.
pub type Instant = Duration;

/// Identifies one network connection (or UDP socket, or pending accept) for its whole
/// life. Link numbers 0-9 are reused by the host; a `ConnId` never is, so an event that
/// arrives late for a connection that no longer exists is recognised and dropped.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ConnId(pub u64);

impl ConnId {
    /// The bit that marks identifiers allocated by the backend for accepted sockets, so
    /// that the core's and the backend's identifiers never collide.
    pub const ACCEPTED_BIT: u64 = 1 << 63;

    /// An identifier for the `n`-th socket a backend accepted.
    pub fn accepted(n: u64) -> Self {
        ConnId(n | Self::ACCEPTED_BIT)
    }
}

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 & Self::ACCEPTED_BIT != 0 {
            write!(f, "a{}", self.0 & !Self::ACCEPTED_BIT)
        } else {
            write!(f, "c{}", self.0)
        }
    }
}

/// Everything that can happen to a modem.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Input {
    /// Bytes written by the host on the serial line.
    Host(#[cfg_attr(feature = "serde", serde(with = "crate::escape::serde_c_string"))] Vec<u8>),
    /// The host's DTR line changed (`true` = asserted/ON). A host that closes a PTY or a
    /// TCP connection counts as DTR OFF.
    Dtr(bool),
    /// The network backend reports something.
    Net(NetEvent),
    /// The deadline returned by `poll_timeout` has passed.
    Timeout,
    /// The radio values changed (signal fading, registration lost): see
    /// [`crate::Modem::set_radio`].
    Radio(Radio),
    /// Power comes back after `AT+CPOF` (the control interface's power key): see
    /// [`crate::Modem::power_on`].
    PowerOn,
    /// The host's wall clock at this instant, in milliseconds since the Unix epoch
    /// (UTC): the network time of `AT+CCLK?`, NITZ and `AT+CNTP` from now on. The core
    /// never reads a clock; a runtime sends this when a modem starts.
    WallClock(u64),
    /// The certificate store as the runtime kept it (`ssl.md` §4.5): replaces the
    /// modem's store. A runtime that persists the store sends this when a modem starts;
    /// files that break the store's limits or naming rules are left out.
    CertStore(Vec<CertFile>),
}

/// One file of the certificate store (`AT+CCERTDOWN`, `ssl.md` §4).
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CertFile {
    /// The name it was downloaded under (UTF-8; never contains `/`, `\` or NUL, and is
    /// never `.` or `..`), so it is a safe file name on any host.
    pub name: String,
    /// The content, byte for byte.
    #[cfg_attr(feature = "serde", serde(with = "crate::escape::serde_c_string"))]
    pub data: Vec<u8>,
}

/// A change of the certificate store the runtime should persist, drained with
/// [`crate::Modem::poll_store`]. Persisting is I/O, so the core only reports it.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename_all = "snake_case"))]
pub enum StoreChange {
    /// A file was downloaded (a file of the same name is replaced).
    Put(CertFile),
    /// A file was deleted (`AT+CCERTDELE`).
    Delete {
        /// Its name.
        name: String,
    },
}

/// How a connection attempt failed; each maps to the manual's `<err>` in
/// `+CIPOPEN: <n>,<err>` (see `clarifications.md` §9).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum OpenError {
    /// Refused or unreachable: `<err>` 1 (Network failure).
    Refused,
    /// The host name does not resolve: `<err>` 11 (DNS parse failed).
    Dns,
    /// The local port could not be bound: `<err>` 6 (Failed to bind socket).
    Bind,
    /// The socket could not be created: `<err>` 5.
    Socket,
    /// A TLS open only: the certificate, key or password files the authentication mode
    /// needs do not parse, the key does not match the certificate, or the password is
    /// wrong. Found before any traffic: `+CCHOPEN: <s>,19` (`ssl.md` §8.3).
    Certificates,
    /// A TLS open only: the handshake failed after TCP was up (unknown CA, expired or
    /// mismatched certificate, no common version or suite, alert, peer closed):
    /// `+CCHOPEN: <s>,15` (`ssl.md` §14.4). The backend logs the library's reason.
    Handshake,
}

/// What became of one [`NetCommand::Send`] / [`NetCommand::SendTo`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum SendOutcome {
    /// All bytes were taken by the network stack (`<cnfSendLength>` = requested).
    Accepted,
    /// The send buffer or the peer's window was full; nothing was taken
    /// (`<cnfSendLength>` 0).
    Full,
    /// The connection is gone (`<cnfSendLength>` -1).
    Disconnected,
}

/// Events from the network backend to the core.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename_all = "snake_case"))]
pub enum NetEvent {
    /// The PDP context is active; `ip` is the address `AT+IPADDR` reports.
    Attached {
        /// The modem's own address on the mobile network.
        ip: Ipv4Addr,
    },
    /// Activating the PDP context failed.
    AttachFailed,
    /// The PDP context was deactivated after [`NetCommand::Detach`].
    Detached,
    /// The network was lost without being asked (`+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY`).
    NetworkLost,
    /// A TCP connection is established, or a UDP socket is bound.
    Opened {
        /// The connection.
        conn: ConnId,
        /// The peer's address (TCP), or the fixed remote of a UDP socket if one was given
        /// (otherwise `0.0.0.0:0`).
        remote: SocketAddrV4,
        /// The local port that was bound.
        local_port: u16,
    },
    /// A TLS open only ([`NetCommand::Open`] with `tls`): TCP is up and the handshake
    /// begins. The core then stops the connect timer and starts the handshake timer
    /// (`negotiatetime`), so it owns both waits. `Opened` follows when the handshake has
    /// finished; `OpenFailed` with [`OpenError::Handshake`] when it failed.
    Connected {
        /// The connection.
        conn: ConnId,
    },
    /// A connection attempt failed.
    OpenFailed {
        /// The connection.
        conn: ConnId,
        /// Why.
        error: OpenError,
    },
    /// Bytes arrived on a TCP connection, or on the fixed remote of a transparent UDP link.
    Data {
        /// The connection.
        conn: ConnId,
        /// The bytes, in order.
        #[cfg_attr(feature = "serde", serde(with = "crate::escape::serde_c_string"))]
        data: Vec<u8>,
    },
    /// A datagram arrived on a UDP socket.
    Datagram {
        /// The socket.
        conn: ConnId,
        /// Who sent it.
        from: SocketAddrV4,
        /// Its payload (boundaries are kept).
        #[cfg_attr(feature = "serde", serde(with = "crate::escape::serde_c_string"))]
        data: Vec<u8>,
    },
    /// The outcome of a send, in the order the sends were issued on that connection.
    SendDone {
        /// The connection.
        conn: ConnId,
        /// What the stack made of it.
        outcome: SendOutcome,
    },
    /// A connection that answered a send with [`SendOutcome::Full`] has room again (its
    /// queue drained). Sent once per `Full`, so a stalled stream costs no polling.
    Writable {
        /// The connection.
        conn: ConnId,
    },
    /// The answer to [`NetCommand::QueryAck`]: bytes acknowledged by the peer since open.
    AckStatus {
        /// The connection.
        conn: ConnId,
        /// Total bytes acknowledged by the peer.
        acked: u64,
    },
    /// The peer closed the connection (TCP FIN or reset).
    PeerClosed {
        /// The connection.
        conn: ConnId,
    },
    /// A [`NetCommand::Close`] has completed; the backend has forgotten the connection.
    Closed {
        /// The connection.
        conn: ConnId,
    },
    /// A server socket is listening after [`NetCommand::Listen`].
    Listening {
        /// The server index 0-3.
        server: u8,
    },
    /// [`NetCommand::Listen`] failed (port taken, say).
    ListenFailed {
        /// The server index 0-3.
        server: u8,
    },
    /// A server accepted a connection; the backend allocated `conn` with
    /// [`ConnId::accepted`].
    Accepted {
        /// The server index 0-3.
        server: u8,
        /// The new connection.
        conn: ConnId,
        /// The client's address.
        peer: SocketAddrV4,
    },
    /// The answer to [`NetCommand::Resolve`].
    Resolved {
        /// The query's identifier.
        query: u64,
        /// The IPv4 address, or `None` if the name does not resolve.
        addr: Option<Ipv4Addr>,
    },
    /// The host answered [`NetCommand::Ping`] (`AT+CPING`). No answer is sent when
    /// none came: the core owns the wait.
    PingReply {
        /// The probe's identifier.
        id: u64,
        /// The reply's TTL, when the backend knows it.
        ttl: Option<u8>,
    },
}

/// The transport protocol of a link.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// Socket options the host configured with `AT+CIPCCFG` and `AT+CTCPKA`, applied where
/// the host OS allows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SocketOptions {
    /// `<NmRetry>`: retransmissions of an IP packet (applied to TCP SYN retries).
    pub retries: u8,
    /// `<TimeoutVal>`: minimum retransmission timeout.
    pub min_rto: Duration,
    /// TCP keepalive (`AT+CTCPKA`), for TCP connections only; `None` = off.
    #[cfg_attr(feature = "serde", serde(default))]
    pub keepalive: Option<Keepalive>,
    /// The name servers the host chose with `AT+CDNSCFG` (primary, secondary), for the
    /// name this open resolves; `None` = the network's own resolver.
    #[cfg_attr(feature = "serde", serde(default))]
    pub dns: Option<[Ipv4Addr; 2]>,
}

/// `AT+CTCPKA=<keepalive>,<keepidle>,<keepcount>,<keepinterval>`: TCP keepalive with
/// idle time and interval in minutes (`more-commands.md` §5.7).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Keepalive {
    /// Whether keepalive is on.
    pub enabled: bool,
    /// Idle minutes before the first probe, 1-120.
    pub idle_min: u8,
    /// Unanswered probes before the connection is dropped, 1-10.
    pub count: u8,
    /// Minutes between probes, 1-100.
    pub interval_min: u8,
}

impl Default for Keepalive {
    /// The manual's example values, off.
    fn default() -> Self {
        Keepalive {
            enabled: false,
            idle_min: 2,
            count: 5,
            interval_min: 1,
        }
    }
}

/// `authmode` of `AT+CSSLCFG` (`ssl.md` §14.3).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum TlsAuth {
    /// 0: the server's certificate is not checked; no client certificate.
    None,
    /// 1: the server's chain is verified against `ca`; no client certificate.
    Server,
    /// 2: verified, and the client certificate is presented when the server asks.
    Mutual,
    /// 3: not verified, but the client certificate is presented when the server asks.
    ClientOnly,
}

/// Everything the backend needs for one TLS session, taken from the SSL context bound
/// to the session when `AT+CCHOPEN` ran. Files are passed by content (PEM or DER, as
/// downloaded with `AT+CCERTDOWN`), so the backend never reads the certificate store;
/// the core has already checked that each file the mode needs is set and present.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TlsParams {
    /// `sslversion`: 0 SSL 3.0, 1 TLS 1.0, 2 TLS 1.1, 3 TLS 1.2, 4 all (`ssl.md` §14.2).
    pub version: u8,
    /// Whether `sslversion` 4 includes TLS 1.3 (`[tls] tls13`).
    pub allow_tls13: bool,
    /// `authmode`.
    pub auth: TlsAuth,
    /// The host of `AT+CCHOPEN` as given (a DNS name or an IPv4 literal): what the
    /// server's certificate must name when it is verified.
    pub server_name: String,
    /// Send SNI with `server_name` (`enableSNI` is 1 and the host is a DNS name).
    pub sni: bool,
    /// `ignorelocaltime` 0: check every certificate's validity at this instant, the
    /// module's clock in seconds since the Unix epoch (UTC). `None`: dates not checked.
    pub verify_time: Option<u64>,
    /// `ciphersuites`: one IANA code, or `None` for all (`0xFFFF`).
    pub cipher_suite: Option<u16>,
    /// The `cacert` file's content (authmodes 1 and 2), else empty.
    #[cfg_attr(feature = "serde", serde(with = "crate::escape::serde_c_string"))]
    pub ca: Vec<u8>,
    /// The `clientcert` file's content (authmodes 2 and 3), else empty.
    #[cfg_attr(feature = "serde", serde(with = "crate::escape::serde_c_string"))]
    pub client_cert: Vec<u8>,
    /// The `clientkey` file's content (authmodes 2 and 3), else empty.
    #[cfg_attr(feature = "serde", serde(with = "crate::escape::serde_c_string"))]
    pub client_key: Vec<u8>,
    /// The password of an encrypted client key: `keypwd`, or the first line of the
    /// `password` file. `None` when neither is set.
    pub key_password: Option<String>,
}

/// Requests from the core to the network backend.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename_all = "snake_case"))]
pub enum NetCommand {
    /// Activate the PDP context; answer with `Attached` or `AttachFailed`.
    Attach,
    /// Deactivate it (all connections have been closed first); answer with `Detached`.
    Detach,
    /// Open a connection: TCP connect, or bind a UDP socket. Answer with `Opened` or
    /// `OpenFailed`. The core owns the timeout and sends `Close` when it expires.
    Open {
        /// The new connection.
        conn: ConnId,
        /// TCP or UDP.
        protocol: Protocol,
        /// The remote host (an IPv4 literal or a name to resolve) and port; for UDP
        /// optional (then datagrams go where each `SendTo` says).
        remote: Option<(String, u16)>,
        /// The local port to bind; `None` lets the stack choose.
        local_port: Option<u16>,
        /// Options set with `AT+CIPCCFG`.
        options: SocketOptions,
        /// TLS over the TCP connection (`AT+CCHOPEN` client type 2): `Data` and `Send`
        /// then carry plaintext, `Close` sends close_notify first, and a close_notify or
        /// fatal alert from the peer is `PeerClosed`. `None` for plain TCP and UDP.
        #[cfg_attr(feature = "serde", serde(default))]
        tls: Option<Box<TlsParams>>,
    },
    /// Send bytes on a TCP connection or to the fixed remote of a UDP socket.
    Send {
        /// The connection.
        conn: ConnId,
        /// The bytes.
        #[cfg_attr(feature = "serde", serde(with = "crate::escape::serde_c_string"))]
        data: Vec<u8>,
    },
    /// Send one datagram on a UDP socket.
    SendTo {
        /// The socket.
        conn: ConnId,
        /// The destination.
        to: SocketAddrV4,
        /// The datagram.
        #[cfg_attr(feature = "serde", serde(with = "crate::escape::serde_c_string"))]
        data: Vec<u8>,
    },
    /// Close a connection (or abandon a connection attempt); answer with `Closed`.
    Close {
        /// The connection.
        conn: ConnId,
    },
    /// Ask how many bytes the peer has acknowledged; answer with `AckStatus`.
    QueryAck {
        /// The connection.
        conn: ConnId,
    },
    /// Stop reading from this connection until `ResumeRead` (back-pressure: the host
    /// or the link's receive buffer is full).
    PauseRead {
        /// The connection.
        conn: ConnId,
    },
    /// Read from this connection again.
    ResumeRead {
        /// The connection.
        conn: ConnId,
    },
    /// Start a TCP server; answer with `Listening` or `ListenFailed`.
    Listen {
        /// The server index 0-3.
        server: u8,
        /// The port.
        port: u16,
        /// The listen backlog 1-3.
        backlog: u8,
        /// TCP keepalive (`AT+CTCPKA`) in force when the server started, applied to
        /// every connection it accepts; `None` = off.
        #[cfg_attr(feature = "serde", serde(default))]
        keepalive: Option<Keepalive>,
    },
    /// Stop a TCP server; no answer.
    Unlisten {
        /// The server index 0-3.
        server: u8,
    },
    /// Resolve a host name to an IPv4 address; answer with `Resolved`.
    Resolve {
        /// An identifier to echo in the answer.
        query: u64,
        /// The name.
        name: String,
        /// The name servers the host chose with `AT+CDNSCFG` (primary, secondary);
        /// `None` = the network's own resolver.
        #[cfg_attr(feature = "serde", serde(default))]
        servers: Option<[Ipv4Addr; 2]>,
    },
    /// Send one echo probe (`AT+CPING`): ICMP where the host allows it, else a TCP
    /// probe; answer with `PingReply` if the host answers within `wait`.
    Ping {
        /// An identifier to echo in the answer.
        id: u64,
        /// Whom to probe.
        addr: Ipv4Addr,
        /// Payload bytes.
        size: u16,
        /// The request's TTL.
        ttl: u8,
        /// How long the core waits for the answer.
        wait: Duration,
    },
}
