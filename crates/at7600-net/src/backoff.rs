//! Waiting out a listener that cannot accept (out of descriptors, say): the wait grows
//! while the failures go on, and the failure is logged once per episode, not once per
//! try.

use std::time::Duration;

/// The first wait after a failed accept.
const FIRST: Duration = Duration::from_millis(100);
/// The longest wait between tries.
const LONGEST: Duration = Duration::from_secs(2);

/// One listener's accept failures. See the module docs.
#[derive(Debug, Default)]
pub struct AcceptBackoff {
    /// The wait before the next try; zero while accepts succeed.
    wait: Duration,
    /// Failures in the current episode.
    failures: u64,
}

impl AcceptBackoff {
    /// A listener that has not failed.
    pub fn new() -> Self {
        AcceptBackoff::default()
    }

    /// An accept failed: logs it if it starts an episode, and returns how long to wait
    /// before trying again (doubling from 100 ms up to 2 s).
    pub fn failed(&mut self, what: &str, error: &std::io::Error) -> Duration {
        if self.failures == 0 {
            tracing::warn!(
                listener = what,
                %error,
                "accept failed; retrying quietly with back-off until it works again"
            );
        }
        self.failures += 1;
        self.wait = if self.wait.is_zero() {
            FIRST
        } else {
            (self.wait * 2).min(LONGEST)
        };
        self.wait
    }

    /// An accept succeeded: ends an episode of failures (logged with its count).
    pub fn succeeded(&mut self, what: &str) {
        if self.failures > 0 {
            tracing::info!(listener = what, failures = self.failures, "accepting again");
        }
        *self = AcceptBackoff::default();
    }

    /// Whether the listener is in an episode of failures.
    pub fn is_failing(&self) -> bool {
        self.failures > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emfile() -> std::io::Error {
        std::io::Error::from_raw_os_error(libc::EMFILE)
    }

    #[test]
    fn the_wait_doubles_up_to_two_seconds_and_resets_on_success() {
        let mut b = AcceptBackoff::new();
        let waits: Vec<u64> = (0..8)
            .map(|_| b.failed("test", &emfile()).as_millis() as u64)
            .collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600, 2000, 2000, 2000]);
        assert!(b.is_failing());
        b.succeeded("test");
        assert!(!b.is_failing());
        assert_eq!(b.failed("test", &emfile()), FIRST);
    }
}
