//! Which identities (IMEI, ICCID, IMSI, MSISDN) a daemon's modems take, so that many
//! daemons — the pods of a StatefulSet, say — never hand out the same one.
//!
//! Identities are numbered: number `k` is the configured identity counted up `k` times
//! ([`at7600_core::config::Identity::nth`]). A daemon's range starts at
//! `--identity-offset`, plus the pod's ordinal times `--identity-block`.

use anyhow::{bail, Result};

/// The identity numbers of this daemon: modem `n` (from 0, in the front end's order)
/// takes number `first + n`, or `first + n % size` when the range is bounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdentityRange {
    /// The first modem's identity number.
    pub first: u64,
    /// How many numbers the range holds (`None`: unbounded).
    pub size: Option<u64>,
}

impl Default for IdentityRange {
    /// Every number from 0: a single daemon.
    fn default() -> Self {
        IdentityRange {
            first: 0,
            size: None,
        }
    }
}

impl IdentityRange {
    /// From `--identity-offset` and `--identity-block`, the ordinal read from
    /// `hostname` (called only with a block).
    pub fn new(
        offset: Option<u64>,
        block: Option<u64>,
        hostname: impl FnOnce() -> Result<String>,
    ) -> Result<Self> {
        let offset = offset.unwrap_or(0);
        let Some(size) = block else {
            return Ok(IdentityRange {
                first: offset,
                size: None,
            });
        };
        let name = hostname()?;
        let Some(ordinal) = ordinal(&name) else {
            bail!(
                "--identity-block needs a host name ending in -ORDINAL, as a StatefulSet's \
                 pods have (fleet-0, fleet-1, ...); this host is called {name:?}"
            );
        };
        let Some(first) = ordinal
            .checked_mul(size)
            .and_then(|start| start.checked_add(offset))
        else {
            bail!("--identity-block {size} for ordinal {ordinal}: the range is past the last identity number");
        };
        tracing::info!(
            ordinal,
            first,
            size,
            "identity range from the host name {name:?}"
        );
        Ok(IdentityRange {
            first,
            size: Some(size),
        })
    }

    /// Modem `n`'s identity number.
    pub fn nth(&self, n: u64) -> u64 {
        let n = match self.size {
            Some(size) if size > 0 => n % size,
            _ => n,
        };
        self.first.wrapping_add(n)
    }

    /// Refuses a fleet of `count` modems that does not fit the range (its modems would
    /// share identities, or take the next daemon's).
    pub fn check_count(&self, count: u64) -> Result<()> {
        match self.size {
            Some(size) if count > size => bail!(
                "--count {count} does not fit --identity-block {size}: the modems would take \
                 the next pod's identities"
            ),
            _ => Ok(()),
        }
    }
}

/// The ordinal at the end of a StatefulSet pod's name: `fleet-3` → 3. `None` for a
/// name without a `-` followed by digits only at its end.
pub fn ordinal(hostname: &str) -> Option<u64> {
    let (_, tail) = hostname.trim().rsplit_once('-')?;
    if tail.is_empty() || !tail.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    tail.parse().ok()
}

/// This machine's host name (a pod's name, in Kubernetes).
pub fn hostname() -> Result<String> {
    use anyhow::Context as _;
    let name = nix::unistd::gethostname().context("cannot read the host name")?;
    name.into_string()
        .map_err(|name| anyhow::anyhow!("the host name {name:?} is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinal_is_the_number_after_the_last_dash() {
        assert_eq!(ordinal("fleet-0"), Some(0));
        assert_eq!(ordinal("at7600-fleet-12"), Some(12));
        assert_eq!(ordinal("fleet"), None);
        assert_eq!(ordinal("fleet-"), None);
        assert_eq!(ordinal("fleet-7a"), None);
        assert_eq!(ordinal("fleet-+7"), None);
    }

    #[test]
    fn a_block_per_ordinal_wraps_within_itself() {
        let range = IdentityRange::new(Some(5), Some(100), || Ok("fleet-3".into())).unwrap();
        assert_eq!(range.first, 305);
        assert_eq!(range.nth(0), 305);
        assert_eq!(range.nth(99), 404);
        assert_eq!(range.nth(100), 305);
        assert!(range.check_count(100).is_ok());
        assert!(range.check_count(101).is_err());
    }

    #[test]
    fn a_host_without_an_ordinal_is_refused_with_its_name() {
        let e = IdentityRange::new(None, Some(10), || Ok("laptop".into())).unwrap_err();
        assert!(e.to_string().contains("\"laptop\""), "{e}");
    }

    #[test]
    fn an_offset_alone_is_unbounded() {
        let range = IdentityRange::new(Some(7), None, || unreachable!()).unwrap();
        assert_eq!(range.nth(1_000_000), 1_000_007);
    }
}
