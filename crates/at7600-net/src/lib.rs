//! Network backends for the AT7600 modem core: the host's real network
//! ([`RealNetwork`]) and a deterministic simulated one ([`sim::SimNetwork`], driven in
//! tests by [`Sim`]), with link profiles ([`LinkProfile`]) and fault injection
//! ([`FaultLayer`]) for both.
//!
//! [`RealNetwork`] carries out a [`at7600_core::Modem`]'s [`at7600_core::NetCommand`]s
//! on the host's own network with tokio, and reports [`at7600_core::NetEvent`]s back.
//! It is built for many modems per process: every connection and server is one tokio
//! task that sleeps until its socket or its modem has something for it; read buffers
//! are allocated per read and cut to size; send queues hold the core's chunks and free
//! them as the kernel takes them.
//!
//! Back-pressure, both ways:
//! - towards the peers: received payloads take read credit from their modem
//!   ([`NetConfig::read_credit`]) that comes back when the driver takes the event from
//!   [`NetEvents`]; `PauseRead` stops reading a socket altogether. A socket not read
//!   fills its kernel buffer and TCP's window closes.
//! - towards the core: each connection queues at most [`NetConfig::send_queue_cap`]
//!   bytes the kernel has not taken; a send beyond that answers `Full`.
//!
//! ```no_run
//! # async fn demo() {
//! use at7600_core::NetCommand;
//! use at7600_net::{NetConfig, RealNetwork};
//!
//! let network = RealNetwork::new(NetConfig::default());
//! let (mut net, mut events) = network.modem();
//! net.execute(NetCommand::Attach);
//! let attached = events.recv().await;
//! # }
//! ```

mod backoff;
mod config;
mod conn;
mod events;
mod handle;
mod keepalive;
mod ping;
mod resolve;
mod server;
mod sys;
mod task;
mod tcp;
mod tls;
mod udp;

pub mod fault;
mod harness;
pub mod policy;
mod profile;
/// The seeded generator, shared with the core's torture mode.
pub use at7600_core::rng;
pub mod shape;
pub mod sim;

pub use backoff::AcceptBackoff;
pub use config::NetConfig;
pub use events::NetEvents;
pub use fault::{Fault, FaultLayer, ScheduledFault};
pub use handle::{NetHandle, RealNetwork};
pub use harness::{show, Sim};
pub use policy::{OwnListeners, Policy, Rule};
pub use profile::{LinkProfile, PROFILE_NAMES};
pub use shape::Shaper;
