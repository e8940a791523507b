//! TLS sessions (`AT+CCHOPEN` client type 2, `ssl.md` §14) for both backends.
//!
//! The core hands the SSL context over with `NetCommand::Open { tls: Some(..) }`; the
//! backend does everything else:
//! - [`config::prepare`] turns the context into a rustls client configuration before any
//!   traffic: unusable files give `OpenFailed { Certificates }` at once;
//! - once TCP is up the backend says `Connected` and runs the handshake (the core owns
//!   the handshake timer); success is `Opened`, any failure `OpenFailed { Handshake }`
//!   with the library's exact reason logged at info level (§14.4);
//! - afterwards `Data`/`Send`/... carry plaintext exactly as for a TCP link, `Close`
//!   sends close_notify, and the peer's close_notify, fatal alert, FIN or reset is
//!   `PeerClosed` after every byte decrypted before it.
//!
//! The real network runs the session in [`session`]; the simulated one runs real rustls
//! in memory for the handshake (`crate::sim`).

pub(crate) mod config;
pub(crate) mod keys;
pub(crate) mod session;
pub(crate) mod verify;

pub(crate) use config::{prepare, Plan};
