//! Link profiles: how slow, late and lossy the radio link between the modem and the
//! internet is. The figures and where they come from are in `docs/network.md`.

use serde::Deserialize;
use std::time::Duration;

/// The impairments of one radio link. Zero means "none" for every field (a zero
/// bandwidth is unlimited).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LinkProfile {
    /// Round-trip time between the modem and any internet host, in milliseconds.
    pub rtt_ms: u64,
    /// Extra one-way delay drawn uniformly from `0..=jitter_ms` per packet.
    pub jitter_ms: u64,
    /// Downlink (to the modem) bandwidth in kbit/s; 0 = unlimited.
    pub down_kbps: u64,
    /// Uplink (from the modem) bandwidth in kbit/s; 0 = unlimited.
    pub up_kbps: u64,
    /// Extra delay before a connection attempt leaves the modem (radio bearer setup).
    pub setup_ms: u64,
    /// Probability 0.0-1.0 that a packet is lost (TCP retransmits it; UDP drops it).
    pub loss: f64,
}

/// The profile names `--link` accepts.
pub const PROFILE_NAMES: [&str; 5] = ["none", "gprs", "3g", "lte-cat1", "lte-cat4"];

impl LinkProfile {
    /// A named profile: `none`, `gprs`, `3g`, `lte-cat1`, `lte-cat4`.
    pub fn named(name: &str) -> Option<Self> {
        let p = |rtt_ms, jitter_ms, down_kbps, up_kbps, setup_ms, loss| LinkProfile {
            rtt_ms,
            jitter_ms,
            down_kbps,
            up_kbps,
            setup_ms,
            loss,
        };
        Some(match name {
            "none" => LinkProfile::default(),
            // GPRS class 10 (4+1 slots, CS-2): ~54 kbit/s down, ~13 up.
            "gprs" => p(600, 150, 54, 13, 1000, 0.01),
            // WCDMA R99 uplink with HSDPA downlink, as commonly measured.
            "3g" => p(150, 40, 3_600, 384, 800, 0.005),
            // UE category 1 (3GPP TS 36.306): 10.3/5.2 Mbit/s peak.
            "lte-cat1" => p(60, 15, 10_300, 5_200, 100, 0.001),
            // UE category 4: 150/50 Mbit/s peak.
            "lte-cat4" => p(40, 10, 150_000, 50_000, 100, 0.001),
            _ => return None,
        })
    }

    /// Checks the values; a message says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=0.5).contains(&self.loss) {
            return Err(format!("loss must be 0.0-0.5, not {}", self.loss));
        }
        if self.rtt_ms > 60_000 || self.jitter_ms > 60_000 || self.setup_ms > 60_000 {
            return Err("rtt_ms, jitter_ms and setup_ms must be at most 60000".into());
        }
        Ok(())
    }

    /// Half the round trip.
    pub fn one_way(&self) -> Duration {
        Duration::from_millis(self.rtt_ms) / 2
    }

    /// The largest jitter.
    pub fn jitter(&self) -> Duration {
        Duration::from_millis(self.jitter_ms)
    }

    /// Radio bearer setup before a connect.
    pub fn setup(&self) -> Duration {
        Duration::from_millis(self.setup_ms)
    }

    /// How long `len` bytes occupy the uplink.
    pub fn up_time(&self, len: usize) -> Duration {
        serialise(len, self.up_kbps)
    }

    /// How long `len` bytes occupy the downlink.
    pub fn down_time(&self, len: usize) -> Duration {
        serialise(len, self.down_kbps)
    }

    /// TCP's retransmission timeout for a lost segment: twice the round trip, at least
    /// `min_rto` (RFC 6298 keeps it at least one second; modems use `AT+CIPCCFG`'s value).
    pub fn rto(&self, min_rto: Duration) -> Duration {
        (Duration::from_millis(self.rtt_ms) * 2).max(min_rto)
    }
}

fn serialise(len: usize, kbps: u64) -> Duration {
    if kbps == 0 {
        return Duration::ZERO;
    }
    // bits / (kbit/s) = ms; in nanoseconds to keep small packets exact.
    Duration::from_nanos((len as u64 * 8).saturating_mul(1_000_000) / kbps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_a_valid_profile() {
        for name in PROFILE_NAMES {
            let p = LinkProfile::named(name).unwrap();
            p.validate().unwrap();
        }
        assert!(LinkProfile::named("5g").is_none());
        // 1000 bytes at 8 kbit/s take one second.
        let p = LinkProfile {
            up_kbps: 8,
            ..Default::default()
        };
        assert_eq!(p.up_time(1000), Duration::from_secs(1));
        assert_eq!(p.down_time(1000), Duration::ZERO);
    }
}
