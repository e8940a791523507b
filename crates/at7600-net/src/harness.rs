//! [`Sim`]: a modem core wired to a [`SimNetwork`] through a [`FaultLayer`], on a
//! virtual clock. Every step jumps to the earliest thing due (the core's deadline, a
//! packet's arrival, a scheduled fault), so minutes of a session run in milliseconds
//! and every run with the same seed is identical.
//!
//! ```
//! use at7600_net::sim::SimConfig;
//! use at7600_net::{LinkProfile, Sim};
//! use std::time::Duration;
//!
//! let mut sim = Sim::new(Default::default(), SimConfig::default(), LinkProfile::named("3g").unwrap(), 1);
//! sim.host(b"ATE0\r");
//! sim.host(b"AT+NETOPEN\r");
//! assert!(sim.run_until("+NETOPEN: 0", Duration::from_secs(10)));
//! sim.host(b"AT+CIPOPEN=0,\"TCP\",\"echo.sim\",7\r");
//! assert!(sim.run_until("+CIPOPEN: 0,0", Duration::from_secs(10)));
//! ```

use crate::fault::{self, Fault, FaultLayer};
use crate::profile::LinkProfile;
use crate::sim::{SimConfig, SimNetwork};
use at7600_core::{Instant, Modem, ModemConfig, NetCommand};
use std::time::Duration;

/// Steps a single call may take before it gives up (a guard, never reached by a
/// sane session: each step is one deadline).
const MAX_STEPS: usize = 1_000_000;

/// A modem and its simulated network on one virtual clock. See the module docs.
#[derive(Debug)]
pub struct Sim {
    /// The modem core.
    pub modem: Modem,
    /// The simulated network.
    pub net: SimNetwork,
    /// Fault injection between the two.
    pub faults: FaultLayer,
    now: Instant,
    out: Vec<u8>,
    schedule: Vec<(Instant, Fault)>,
    /// Every command the modem issued, in order.
    pub commands: Vec<NetCommand>,
    /// Whether the host takes what the modem prints (see [`Sim::set_host_reading`]).
    host_reading: bool,
}

impl Sim {
    /// A powered-on modem on a fresh simulated network.
    pub fn new(modem: ModemConfig, net: SimConfig, profile: LinkProfile, seed: u64) -> Self {
        Sim {
            modem: Modem::new(modem),
            net: SimNetwork::new(net, profile, seed),
            faults: FaultLayer::new(),
            now: Duration::ZERO,
            out: Vec::new(),
            schedule: Vec::new(),
            commands: Vec::new(),
            host_reading: true,
        }
    }

    /// The virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The host writes `bytes` now.
    pub fn host(&mut self, bytes: impl AsRef<[u8]>) {
        self.modem.handle_host(self.now, bytes.as_ref());
        self.settle();
    }

    /// The host's DTR line changes now.
    pub fn dtr(&mut self, on: bool) {
        self.modem.handle_dtr(self.now, on);
        self.settle();
    }

    /// Carries out `fault` now. Errors as [`fault::apply`].
    pub fn inject(&mut self, fault: &Fault) -> Result<(), String> {
        let r = fault::apply(self.now, fault, &self.modem, &mut self.faults);
        let r = r.map(|input| {
            if let Some(input) = input {
                self.modem.handle(self.now, input);
            }
        });
        self.settle();
        r
    }

    /// Carries out `fault` at virtual time `at` (a fault that fails then is skipped).
    pub fn schedule(&mut self, at: Instant, fault: Fault) {
        self.schedule.push((at, fault));
        // Stable: faults at the same instant run in the order they were scheduled.
        self.schedule.sort_by_key(|(at, _)| *at);
    }

    /// Whether the host reads what the modem prints (it does by default). A host that
    /// stops reading leaves the output in the modem, whose back-pressure then pauses
    /// its links, as a real host that stops reading its serial port would.
    pub fn set_host_reading(&mut self, on: bool) {
        self.host_reading = on;
        self.settle();
    }

    /// Everything the modem printed so far, not yet taken.
    pub fn output(&self) -> &[u8] {
        &self.out
    }

    /// Takes what the modem printed so far, as text (bytes above 0x7E as `\xNN`).
    pub fn take_text(&mut self) -> String {
        let bytes = std::mem::take(&mut self.out);
        show(&bytes)
    }

    /// Takes what the modem printed so far, raw.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// The earliest deadline of the modem, the network and the fault schedule.
    pub fn next_deadline(&self) -> Option<Instant> {
        [
            self.modem.poll_timeout(),
            self.net.poll_timeout(),
            self.schedule.first().map(|(at, _)| *at),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs the earliest deadline if it is at or before `limit`; false if none was.
    pub fn step(&mut self, limit: Instant) -> bool {
        let Some(at) = self.next_deadline().filter(|at| *at <= limit) else {
            return false;
        };
        self.now = self.now.max(at);
        while self.schedule.first().is_some_and(|(t, _)| *t <= self.now) {
            let (_, f) = self.schedule.remove(0);
            // A scheduled fault on a link that is gone by then is simply not applied.
            if let Ok(Some(input)) = fault::apply(self.now, &f, &self.modem, &mut self.faults) {
                self.modem.handle(self.now, input);
            }
        }
        if self.net.poll_timeout().is_some_and(|t| t <= self.now) {
            self.net.handle_timeout(self.now);
        }
        if self.modem.poll_timeout().is_some_and(|t| t <= self.now) {
            self.modem.handle_timeout(self.now);
        }
        self.settle();
        true
    }

    /// Lets `d` of virtual time pass, running everything due on the way.
    pub fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        for _ in 0..MAX_STEPS {
            if !self.step(end) {
                break;
            }
        }
        self.now = self.now.max(end);
    }

    /// Runs until the untaken output contains `text`, or `max` of virtual time passed.
    /// Returns whether it appeared.
    pub fn run_until(&mut self, text: &str, max: Duration) -> bool {
        let end = self.now + max;
        let needle = text.as_bytes();
        let found = |out: &[u8]| out.windows(needle.len().max(1)).any(|w| w == needle);
        for _ in 0..MAX_STEPS {
            if found(&self.out) {
                return true;
            }
            if !self.step(end) {
                break;
            }
        }
        if found(&self.out) {
            return true;
        }
        self.now = self.now.max(end);
        false
    }

    /// Moves commands and events between the three parts until all are quiet.
    fn settle(&mut self) {
        for _ in 0..MAX_STEPS {
            let mut moved = false;
            let out = self.modem.host_output();
            if self.host_reading && !out.is_empty() {
                self.out.extend_from_slice(out);
                let n = out.len();
                self.modem.consume_host_output(n);
                moved = true;
            }
            if let Some(cmd) = self.modem.poll_net() {
                self.commands.push(cmd.clone());
                if let Some(cmd) = self.faults.to_net(self.now, cmd) {
                    self.net.handle(self.now, cmd);
                }
                moved = true;
            }
            // The layer's own answers first: they answer the command just passed.
            let event = match self.faults.poll_event() {
                Some(ev) => Some(ev),
                None => self.net.poll_event().and_then(|ev| self.faults.to_core(ev)),
            };
            if let Some(ev) = event {
                self.modem.handle_net(self.now, ev);
                moved = true;
            }
            if !moved && self.net.poll_timeout().is_some_and(|t| t <= self.now) {
                // Zero-latency answers are due now; carry them out before returning.
                self.net.handle_timeout(self.now);
                moved = true;
            }
            if !moved {
                return;
            }
        }
    }
}

/// Renders bytes as a C string (the core's [`c_string`](at7600_core::escape::c_string)).
pub use at7600_core::escape::c_string as show;
