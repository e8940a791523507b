//! The torture mode (`docs/timing.md`): seeded, reproducible choices, each within what
//! the manual allows, that real modules make now and then and that drivers must
//! survive: the output cut at any byte with small pauses between the pieces (a
//! response, a prompt, a URC split across reads), and URCs either at the earliest
//! moment (right behind the final result, back to back) or held back. Every choice is
//! logged with the time it was made ([`Modem::take_torture_log`]).

use super::{Instant, Modem};
use crate::config::Torture;
use crate::rng::Rng;
use std::collections::VecDeque;
use std::time::Duration;

/// Choices kept for the runtime to log; older ones are dropped beyond this.
const LOG_CAP: usize = 4096;

/// One choice the torture mode made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TortureChoice {
    /// `len` more output bytes were released, then a pause.
    Piece {
        /// Bytes in the piece.
        len: usize,
        /// The pause before the next piece.
        pause: Duration,
    },
    /// A URC was held back this long (zero: the earliest moment).
    UrcDelay {
        /// How long.
        delay: Duration,
    },
}

/// The torture mode's state.
#[derive(Debug)]
pub(super) struct TortureState {
    params: Torture,
    rng: Rng,
    /// Output bytes released to the host so far (from the front of the output).
    released: usize,
    /// The next piece may go from then on.
    next: Instant,
    log: VecDeque<(Instant, TortureChoice)>,
}

impl TortureState {
    pub fn new(params: Torture) -> Self {
        TortureState {
            params,
            rng: Rng::new(params.seed),
            released: 0,
            next: Duration::ZERO,
            log: VecDeque::new(),
        }
    }

    fn record(&mut self, at: Instant, choice: TortureChoice) {
        if self.log.len() == LOG_CAP {
            self.log.pop_front();
        }
        self.log.push_back((at, choice));
    }
}

impl Modem {
    /// Releases the pieces due at `now` of what the line has carried.
    pub(super) fn torture_advance(&mut self) {
        let available = self.line_released();
        let now = self.now;
        let Some(t) = self.torture.as_mut() else {
            return;
        };
        t.released = t.released.min(available);
        for _ in 0..available {
            if t.released >= available || t.next > now {
                break;
            }
            let max_piece = t.params.max_piece.max(1) as u64;
            let len = (t.rng.range(1, max_piece) as usize).min(available - t.released);
            let pause = Duration::from_millis(t.rng.range(1, t.params.max_pause_ms.max(1)));
            t.released += len;
            t.next = now + pause;
            t.record(now, TortureChoice::Piece { len, pause });
        }
    }

    /// How much of the output the torture mode lets the host have.
    pub(super) fn torture_released(&self, line: usize) -> usize {
        self.torture.as_ref().map_or(line, |t| t.released.min(line))
    }

    /// The host took `n` released bytes.
    pub(super) fn torture_consumed(&mut self, n: usize) {
        if let Some(t) = self.torture.as_mut() {
            t.released = t.released.saturating_sub(n);
        }
    }

    /// When the next piece is due, if output is waiting.
    pub(super) fn torture_deadline(&self) -> Option<Instant> {
        let t = self.torture.as_ref()?;
        (t.released < self.line_released()).then(|| t.next.max(self.now))
    }

    /// When a URC queued at `at` is released: at once, or held back.
    pub(super) fn torture_urc_at(&mut self, at: Instant) -> Instant {
        let Some(t) = self.torture.as_mut() else {
            return at;
        };
        let delay = if t.rng.chance(0.5) {
            Duration::ZERO
        } else {
            Duration::from_millis(t.rng.range(1, t.params.max_urc_delay_ms.max(1)))
        };
        t.record(at, TortureChoice::UrcDelay { delay });
        at + delay
    }

    /// The torture mode's choices since the last call, each with the time it was made
    /// (for the runtime's log: a failing driver run is replayed with the same seed).
    pub fn take_torture_log(&mut self) -> Vec<(Instant, TortureChoice)> {
        self.torture
            .as_mut()
            .map(|t| t.log.drain(..).collect())
            .unwrap_or_default()
    }
}
