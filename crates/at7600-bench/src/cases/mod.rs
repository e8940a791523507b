//! The cases. Each runs at7600 and its reference alternately (A B A B) in the same run
//! and returns one [`Metric`] per quantity, with one value per pair.

mod fleet;
mod latency;
mod stream;

use crate::procs::At7600;
use crate::report::Metric;
use anyhow::Result;
use indicatif::ProgressBar;
use std::path::PathBuf;
use std::time::Duration;

/// Longest a single run of one side of a case may take.
pub const RUN_TIME: Duration = Duration::from_secs(60);

/// What every case needs.
pub struct Ctx {
    /// How to start at7600.
    pub at7600: At7600,
    /// Where socat's symlinks go.
    pub dir: PathBuf,
    /// Pairs per case.
    pub pairs: usize,
    /// `--quick`: small sizes.
    pub quick: bool,
    /// Modems in a fleet.
    pub fleet: usize,
    /// The progress bar (one step per pair).
    pub bar: ProgressBar,
}

impl Ctx {
    /// Full size or quick size.
    pub fn size(&self, full: usize, quick: usize) -> usize {
        if self.quick {
            quick
        } else {
            full
        }
    }

    /// One pair is done.
    pub fn step(&self) {
        self.bar.inc(1);
    }
}

/// A case: its name, what it measures, how many progress steps it takes, and the code.
pub struct Case {
    /// The name for `--case`.
    pub name: &'static str,
    /// One line for `--list`.
    pub about: &'static str,
    /// Whether it runs once rather than once per pair (fleets).
    pub once: bool,
    /// Runs it.
    pub run: fn(&Ctx) -> Result<Vec<Metric>>,
}

/// Every case, in the order of the table.
pub const CASES: &[Case] = &[
    Case {
        name: "transparent-down",
        about: "transparent mode, peer -> host MB/s vs socat TCP -> PTY",
        once: false,
        run: stream::transparent_down,
    },
    Case {
        name: "transparent-up",
        about: "transparent mode, host -> peer MB/s vs socat PTY -> TCP",
        once: false,
        run: stream::transparent_up,
    },
    Case {
        name: "cipsend-lockstep",
        about: "AT+CIPSEND=1,1500, waiting for > and +CIPSEND each time, vs socat lock-step",
        once: false,
        run: stream::cipsend_lockstep,
    },
    Case {
        name: "ciprxget-drain",
        about: "buffer access mode, AT+CIPRXGET=2,1,1500 until drained, vs socat TCP -> PTY",
        once: false,
        run: stream::ciprxget_drain,
    },
    Case {
        name: "direct-push",
        about: "direct push (+IPD frames) MB/s vs socat TCP -> PTY",
        once: false,
        run: stream::direct_push,
    },
    Case {
        name: "at-rtt",
        about: "AT round trip (median, p99) vs a raw PTY round trip",
        once: false,
        run: latency::at_rtt,
    },
    Case {
        name: "urc-ipd",
        about: "peer write -> +IPD frame at the host, vs socat TCP -> PTY one way",
        once: false,
        run: latency::urc_ipd,
    },
    Case {
        name: "urc-ciprxget",
        about: "peer write -> +CIPRXGET: 1,1 at the host, vs socat TCP -> PTY one way",
        once: false,
        run: latency::urc_ciprxget,
    },
    Case {
        name: "churn",
        about: "AT+CIPOPEN + AT+CIPCLOSE cycles/s vs a bare connect + close loop",
        once: false,
        run: latency::churn,
    },
    Case {
        name: "idle",
        about: "CPU ticks in 5 s of a modem with its port and a link open, vs socat",
        once: false,
        run: fleet::idle,
    },
    Case {
        name: "fleet-pty",
        about: "N PTY modems in one process (--count): KiB/modem, idle ticks, AT p99",
        once: true,
        run: fleet::fleet_pty,
    },
    Case {
        name: "fleet-tcp",
        about: "N modems over serve --tcp: KiB/modem, idle ticks, 256 concurrent connects",
        once: true,
        run: fleet::fleet_tcp,
    },
];

/// Bytes per second in MB/s (10^6).
pub fn mbps(bytes: usize, elapsed: Duration) -> f64 {
    bytes as f64 / elapsed.as_secs_f64().max(1e-9) / 1e6
}
