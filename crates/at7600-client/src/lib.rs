//! Host-side driver for the AT7600 (SIM7600-class) LTE module's TCP/IP AT command set.
//!
//! [`Modem::open`] takes any `AsyncRead + AsyncWrite` line to the module — a serial
//! port, a PTY, or a TCP connection to `at7600 serve --tcp` — and initialises it. One
//! background task owns the line: it sends one command at a time, demultiplexes the
//! responses and the unsolicited result codes, and reads the links' receive buffers.
//! On top of it, up to the module's ten links at once, each usable from its own task:
//! [`TcpStream`] (tokio `AsyncRead`/`AsyncWrite`), [`UdpSocket`], [`TcpListener`], and
//! [`TransparentStream`] for link 0 in data mode. Besides them, the module's SSL
//! socket set (`AT+CCH*`): two [`TlsStream`]s, TLS done by the module, with its
//! certificate store ([`Modem::cert_download`]) and SSL contexts
//! ([`Modem::ssl_configure`]).
//!
//! Receiving uses buffer access mode (`AT+CIPRXGET=1`) by default, so a slow
//! application loses nothing: the module and TCP flow control hold what the host has
//! not read yet. Every command has a timeout (the manual's 120 s for the network
//! commands); nothing is retried silently; every refusal is a typed [`Error`].
//!
//! ```
//! use at7600_client::{Config, Modem};
//! use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A stand-in module on an in-memory line: it answers what `Modem::open`,
//! // `net_open` and `ip_address` send.
//! let (host, module) = tokio::io::duplex(1024);
//! tokio::spawn(async move {
//!     let (rx, mut tx) = tokio::io::split(module);
//!     let mut lines = BufReader::new(rx).split(b'\r');
//!     while let Ok(Some(line)) = lines.next_segment().await {
//!         let reply: &[u8] = match line.trim_ascii() {
//!             b"AT+CPIN?" => b"\r\n+CPIN: READY\r\n\r\nOK\r\n",
//!             b"AT+CREG?" => b"\r\n+CREG: 0,1\r\n\r\nOK\r\n",
//!             b"AT+NETOPEN" => b"\r\nOK\r\n\r\n+NETOPEN: 0\r\n",
//!             b"AT+IPADDR" => b"\r\n+IPADDR: 10.148.0.17\r\n\r\nOK\r\n",
//!             _ => b"\r\nOK\r\n",
//!         };
//!         tx.write_all(reply).await.ok();
//!     }
//! });
//!
//! let modem = Modem::open(host, Config::default()).await?;
//! modem.net_open().await?;
//! assert_eq!(modem.ip_address().await?.to_string(), "10.148.0.17");
//! # Ok(())
//! # }
//! ```
//!
//! Against the real thing (`at7600 serve --tcp 127.0.0.1:7700`, or a serial port):
//!
//! ```no_run
//! use at7600_client::{Config, Modem, TcpStream};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let line = tokio::net::TcpStream::connect("127.0.0.1:7700").await?;
//! let modem = Modem::open(line, Config::default()).await?;
//! modem.net_open().await?;
//! let mut stream = TcpStream::connect(&modem, "127.0.0.1", 8080).await?;
//! stream.write_all(b"GET / HTTP/1.0\r\n\r\n").await?;
//! let mut page = Vec::new();
//! stream.read_to_end(&mut page).await?;
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod config;
mod driver;
#[cfg(feature = "embedded-nal-async")]
pub mod embedded;
mod error;
mod listener;
mod modem;
mod parse;
mod state;
mod tcp;
mod tls;
mod transparent;
mod udp;
mod urc;

pub use config::Config;
pub use error::{CchCode, CloseReason, Error, Result};
pub use listener::TcpListener;
pub use modem::Modem;
pub use tcp::TcpStream;
pub use tls::{AuthMode, SslContext, SslVersion, TlsOptions, TlsStream};
pub use transparent::TransparentStream;
pub use udp::UdpSocket;

/// The module's error tables, re-exported from the core crate.
pub use at7600_core::errors::{ErrCode, ErrInfo};

/// The response splitter, public for tools that read a module's raw output
/// (`at7600 probe`) and for tests.
pub mod frames {
    pub use crate::parse::{Frame, Parser};
    pub use crate::urc::{final_code, parse_urc, Final, Urc};
}
