//! The AT7600 modem daemon as a library: its front ends, config, control API, recording
//! and probe. The `at7600` binary is a thin `main` over it; the library exists so that
//! fuzz targets, benchmarks and tests can reach the same code the binary runs.
#![warn(missing_docs)]

pub mod certstore;
pub mod cli;
pub mod config;
pub mod control;
pub mod ctl;
pub mod driver;
pub mod fdio;
pub mod identity;
pub mod lines;
pub mod netstack;
pub mod probe;
pub mod pty;
pub mod record;
pub mod replay;
pub mod serial;
pub mod service;
pub mod slots;
pub mod stdio;
pub mod tcp;
pub mod trace;
pub mod workers;
