//! The AT7600 LTE module's TCP/IP AT command set as a deterministic, sans-IO state machine.
//!
//! A [`Modem`] never touches a socket, a file descriptor or a clock. Feed it host bytes,
//! network events and timeouts, each with the `now` at which they happened; after every
//! input drain the bytes for the host ([`Modem::host_output`]), the commands for the
//! network ([`Modem::poll_net`]) and the next deadline ([`Modem::poll_timeout`]).
//!
//! ```
//! use at7600_core::{Modem, ModemConfig};
//! use std::time::Duration;
//!
//! let mut modem = Modem::new(ModemConfig::default());
//! modem.handle_host(Duration::ZERO, b"AT\r");
//! assert_eq!(modem.host_output(), b"AT\r\r\nOK\r\n");
//! ```
#![warn(missing_docs)]

pub mod config;
pub mod errors;
pub mod escape;
pub mod io;
pub mod link;
mod modem;
pub mod parser;
pub mod rng;

pub use config::ModemConfig;
pub use io::{
    CertFile, ConnId, Input, Instant, Keepalive, NetCommand, NetEvent, OpenError, Protocol,
    SendOutcome, SocketOptions, StoreChange, TlsAuth, TlsParams,
};
pub use link::LinkState;
pub use modem::{Histogram, LinkStatus, Metrics, Modem, Status, TortureChoice, LATENCY_BOUNDS_MS};
