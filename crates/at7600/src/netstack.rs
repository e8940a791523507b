//! What stands between one modem core and the network: the backend (the host's real
//! network or the simulated one), link shaping for the real network, and fault
//! injection for both. Sans-IO apart from the real backend's event channel, so the
//! driver stays a plain select loop.

use crate::record::Core;
use crate::service::Schedule;
use at7600_core::{Instant, NetEvent};
use at7600_net::sim::{SimConfig, SimNetwork};
use at7600_net::{fault, Fault, FaultLayer, LinkProfile, NetEvents, NetHandle, RealNetwork};
use at7600_net::{ScheduledFault, Shaper};
use std::time::Duration;
use tokio::sync::watch;

/// Which network the modems of this process use (cloned into each modem).
#[derive(Clone, Debug)]
pub enum Backend {
    /// The host's network, through tokio sockets.
    Real(RealNetwork),
    /// A simulated network per modem, its virtual time following real time.
    Sim(SimConfig),
}

/// Everything a modem's network stack is built from.
#[derive(Clone, Debug)]
pub struct NetSpec {
    /// Real or simulated.
    pub backend: Backend,
    /// The radio link's impairments.
    pub link: LinkProfile,
    /// Seed of the simulated network and of the shaper's jitter and loss.
    pub seed: u64,
    /// Faults from the config file, at times of the modem's clock; a new schedule
    /// arrives here when SIGHUP reloads the file ([`crate::service`]).
    pub faults: watch::Receiver<Schedule>,
    /// Where modems register for the control API, if it runs.
    pub control: Option<std::sync::Arc<crate::control::Registry>>,
    /// The front end's name, for the control API (`pty`, `stdio`, `tcp`).
    pub front_end: &'static str,
}

enum Net {
    Real {
        handle: NetHandle,
        events: NetEvents,
        /// `None` for the `none` profile: nothing is delayed.
        shaper: Option<Shaper>,
    },
    Sim(SimNetwork),
}

/// One modem's network. See the module docs.
pub struct NetStack {
    net: Net,
    faults: FaultLayer,
    /// Pending scheduled faults, latest first (popped from the end).
    schedule: Vec<(Instant, Fault)>,
}

/// The faults of `faults` after `after` (all of them for a new modem: at_ms 0 is due at
/// once), latest first.
fn pending_faults(faults: &[ScheduledFault], after: Instant) -> Vec<(Instant, Fault)> {
    let mut schedule: Vec<(Instant, Fault)> = faults
        .iter()
        .map(|f| (Duration::from_millis(f.at_ms), f.fault.clone()))
        .filter(|(at, _)| after.is_zero() || *at > after)
        .collect();
    schedule.sort_by_key(|f| std::cmp::Reverse(f.0));
    schedule
}

/// Moves between core and network per call at most this often (a guard; each move is
/// one command or one event).
const MAX_MOVES: usize = 100_000;

impl NetStack {
    /// A stack for a new modem that follows the fault schedule `faults` (normally
    /// `spec.faults`' current one). Must run inside the tokio runtime (the real backend
    /// spawns its tasks there).
    pub fn new(spec: &NetSpec, faults: &[ScheduledFault]) -> Self {
        let net = match &spec.backend {
            Backend::Real(network) => {
                let (handle, events) = network.modem();
                let shaper = Shaper::new(spec.link, spec.seed);
                Net::Real {
                    handle,
                    events,
                    shaper: (!shaper.is_transparent()).then_some(shaper),
                }
            }
            Backend::Sim(config) => Net::Sim(SimNetwork::new(config.clone(), spec.link, spec.seed)),
        };
        NetStack {
            net,
            faults: FaultLayer::new(),
            schedule: pending_faults(faults, Duration::ZERO),
        }
    }

    /// Replaces the faults still to come with `faults` (a reloaded config file's), of
    /// which those later than `now` on this modem's clock are kept: the times are the
    /// modem's age, as at startup, and a time already past is not made up for.
    pub fn reload_schedule(&mut self, now: Instant, faults: &[ScheduledFault]) {
        self.schedule = pending_faults(faults, now);
        tracing::debug!(pending = self.schedule.len(), "fault schedule reloaded");
    }

    /// Moves the core's commands out and every event that is ready in, until quiet.
    pub fn exchange(&mut self, now: Instant, modem: &mut Core) {
        for _ in 0..MAX_MOVES {
            let mut moved = false;
            if let Some(cmd) = modem.poll_net(now) {
                tracing::trace!(?cmd, "net command");
                if let Some(cmd) = self.faults.to_net(now, cmd) {
                    match &mut self.net {
                        Net::Real {
                            handle,
                            shaper: Some(s),
                            ..
                        } => {
                            s.command(now, cmd);
                            while let Some(cmd) = s.poll_command(now) {
                                handle.execute(cmd);
                            }
                        }
                        Net::Real { handle, .. } => handle.execute(cmd),
                        Net::Sim(sim) => sim.handle(now, cmd),
                    }
                }
                moved = true;
            }
            let event = match self.faults.poll_event() {
                Some(ev) => Some(ev),
                None => self.ready_event(now),
            };
            if let Some(ev) = event {
                tracing::trace!(?ev, "net event");
                modem.handle_net(now, ev);
                moved = true;
            }
            if !moved {
                return;
            }
        }
    }

    /// An event from the backend that is due now, through the fault layer.
    fn ready_event(&mut self, now: Instant) -> Option<NetEvent> {
        for _ in 0..MAX_MOVES {
            let ev = match &mut self.net {
                Net::Real {
                    shaper: Some(s), ..
                } => s.poll_event(now)?,
                Net::Real { .. } => return None,
                Net::Sim(sim) => sim.poll_event()?,
            };
            if let Some(ev) = self.faults.to_core(ev) {
                return Some(ev);
            }
        }
        None
    }

    /// The next instant the stack needs [`NetStack::on_timeout`].
    pub fn deadline(&self) -> Option<Instant> {
        let net = match &self.net {
            Net::Real { shaper, .. } => shaper.as_ref().and_then(Shaper::poll_timeout),
            Net::Sim(sim) => sim.poll_timeout(),
        };
        net.into_iter()
            .chain(self.schedule.last().map(|(at, _)| *at))
            .min()
    }

    /// Runs what is due at `now`: scheduled faults, the sim's arrivals, the shaper's
    /// releases.
    pub fn on_timeout(&mut self, now: Instant, modem: &mut Core) {
        while self.schedule.last().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, f)) = self.schedule.pop() {
                match fault::apply(now, &f, modem, &mut self.faults) {
                    Err(e) => {
                        tracing::warn!(error = %e, "scheduled fault {} not applied", crate::trace::describe_fault(&f))
                    }
                    Ok(input) => {
                        tracing::info!("scheduled fault: {}", crate::trace::describe_fault(&f));
                        if let Some(input) = input {
                            modem.handle(now, input);
                        }
                    }
                }
            }
        }
        match &mut self.net {
            Net::Real {
                handle,
                shaper: Some(s),
                ..
            } => {
                while let Some(cmd) = s.poll_command(now) {
                    handle.execute(cmd);
                }
            }
            Net::Real { .. } => {}
            Net::Sim(sim) => sim.handle_timeout(now),
        }
        self.exchange(now, modem);
    }

    /// Waits for the real backend's next event (never, for the simulated network, nor
    /// while the shaper's line is full: the backend then stops reading, and TCP's
    /// window holds the peers back). Cancel-safe.
    pub async fn recv(&mut self) -> Option<NetEvent> {
        match &mut self.net {
            Net::Real {
                shaper: Some(s), ..
            } if s.is_backed_up() => std::future::pending().await,
            Net::Real { events, .. } => events.recv().await,
            Net::Sim(_) => std::future::pending().await,
        }
    }

    /// The real backend's next event if one is waiting (never for the simulated
    /// network, whose events come out of [`NetStack::exchange`]).
    pub fn try_recv(&mut self) -> Option<NetEvent> {
        match &mut self.net {
            Net::Real { events, .. } => events.try_recv(),
            Net::Sim(_) => None,
        }
    }

    /// An event from the real backend: shaped, filtered, handed to the core.
    pub fn on_event(&mut self, now: Instant, event: NetEvent, modem: &mut Core) {
        match &mut self.net {
            Net::Real {
                shaper: Some(s), ..
            } => s.event(now, event),
            _ => {
                if let Some(ev) = self.faults.to_core(event) {
                    tracing::trace!(?ev, "net event");
                    modem.handle_net(now, ev);
                }
            }
        }
        self.exchange(now, modem);
    }

    /// Faults carried out so far.
    pub fn faults_injected(&self) -> u64 {
        self.faults.injected_count
    }

    /// Carries out a fault now.
    pub fn inject(&mut self, now: Instant, f: &Fault, modem: &mut Core) -> Result<(), String> {
        let r = fault::apply(now, f, modem, &mut self.faults).map(|input| {
            if let Some(input) = input {
                modem.handle(now, input);
            }
        });
        self.exchange(now, modem);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: &[u64]) -> Vec<ScheduledFault> {
        ms.iter()
            .map(|&at_ms| ScheduledFault {
                at_ms,
                fault: Fault::RefuseOpen,
            })
            .collect()
    }

    fn times(schedule: &[(Instant, Fault)]) -> Vec<u64> {
        schedule.iter().map(|(t, _)| t.as_millis() as u64).collect()
    }

    #[test]
    fn a_new_modem_takes_every_fault_latest_first() {
        assert_eq!(
            times(&pending_faults(&at(&[500, 0, 9000]), Duration::ZERO)),
            [9000, 500, 0]
        );
    }

    #[test]
    fn a_reload_keeps_only_the_faults_ahead_of_the_modems_clock() {
        let now = Duration::from_millis(1000);
        assert_eq!(
            times(&pending_faults(&at(&[0, 999, 1000, 1001, 5000]), now)),
            [5000, 1001]
        );
    }
}
