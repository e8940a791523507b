//! The fuzz targets' bodies, as plain functions of the input bytes, so that the
//! `fuzz_targets/` binaries stay one line each and a crash input can be run again
//! from a test or a debugger without libFuzzer.
//!
//! Every function must never panic on any input: a panic is the bug report.

pub mod session;

use at7600_core::{Modem, ModemConfig};
use std::io::Cursor;
use std::time::Duration;

/// The command-line parser on arbitrary bytes, then the same bytes as one command line
/// to a fresh modem (whose answer, whatever it is, must come without a panic and with
/// bounded output).
pub fn line_parser(data: &[u8]) {
    if let Ok(commands) = at7600_core::parser::parse_line(data) {
        for c in &commands {
            assert!(!c.name.is_empty(), "a parsed command has a name");
        }
    }
    let mut modem = Modem::new(ModemConfig::default());
    let mut line = b"AT".to_vec();
    line.extend(data.iter().copied().filter(|&b| b != b'\r'));
    line.push(b'\r');
    modem.handle_host(Duration::ZERO, &line);
    // Let every timer of the command run out (a command waiting for the network, which
    // never answers here, ends with its own timeout).
    for _ in 0..64 {
        let Some(at) = modem.poll_timeout() else {
            break;
        };
        modem.handle_timeout(at);
        while modem.poll_net().is_some() {}
    }
    // Bounded by the line: the largest answer per byte of a line is `ATI`'s (a chain
    // `ATIII...` prints the identification once per `I`, about 100 bytes each).
    let out = modem.host_output().len();
    assert!(
        out <= 64 * 1024 + 128 * line.len(),
        "one line produced {out} bytes of output"
    );
}

/// A recording file (JSON lines) through the replay reader, and when it reads, through
/// replay itself: arbitrary inputs in a modem, whatever order they come in.
pub fn recording(data: &[u8]) {
    if let Ok(records) = at7600::replay::read("fuzz", Cursor::new(data)) {
        let _ = at7600::replay::replay(&records);
    }
}

/// A config file through the daemon's loader and validation, and when it is accepted,
/// a short session on the simulated network it describes (faults, link, hosts).
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = toml::from_str::<at7600::config::FileConfig>(text) else {
        return;
    };
    let flags = at7600::cli::SettingsArgs::default();
    let Ok(settings) = at7600::config::resolve(file, &flags) else {
        return;
    };
    let mut sim = at7600_net::Sim::new(settings.modem, settings.sim, settings.link, settings.seed);
    for f in settings.faults {
        sim.schedule(Duration::from_millis(f.at_ms.min(60_000)), f.fault);
    }
    sim.host(b"AT+NETOPEN\r");
    sim.run_for(Duration::from_secs(5));
    sim.host(b"AT+CIPOPEN=0,\"TCP\",\"echo.sim\",7\r");
    sim.run_for(Duration::from_secs(5));
    sim.host(b"AT+CIPSEND=0,5\rhello");
    sim.run_for(Duration::from_secs(60));
}

/// A control API request body (`POST /modems/{id}/fault`) as the API parses it, and
/// when it parses, carried out on a modem with a network and two links open.
pub fn control_body(data: &[u8]) {
    let Ok(fault) = serde_json::from_slice::<at7600_net::Fault>(data) else {
        return;
    };
    let mut sim = session::sim_with_links();
    let _ = sim.inject(&fault);
    sim.host(b"AT+CIPOPEN?\r");
    sim.host(b"AT+CIPSEND=0,3\rabc");
    sim.run_for(Duration::from_secs(130));
    sim.host(b"AT+NETCLOSE\r");
    sim.run_for(Duration::from_secs(10));
}
