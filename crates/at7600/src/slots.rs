//! Which identity number a `--tcp` host's modem takes: the lowest one no connected
//! modem holds. A host that reconnects finds its IMEI again (and with it its
//! certificate store, `[tls] cert_dir`), and a daemon never hands out more identities
//! than it has had modems at once, so nothing a host does by reconnecting in a loop
//! grows without bound.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// Slot numbers in use; `free` holds the returned ones below `next`.
#[derive(Debug, Default)]
struct Pool {
    next: u64,
    free: BTreeSet<u64>,
}

/// The slots of one front end, shared with its modems' tasks.
#[derive(Clone, Debug, Default)]
pub struct Slots(Arc<Mutex<Pool>>);

/// A slot held by a connected modem; given back when dropped.
#[derive(Debug)]
pub struct Slot {
    n: u64,
    pool: Slots,
}

impl Slot {
    /// The slot's number: 0 for the first modem, then the lowest free one.
    pub fn number(&self) -> u64 {
        self.n
    }
}

impl Slots {
    /// Takes the lowest free slot.
    pub fn take(&self) -> Slot {
        let mut pool = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = match pool.free.pop_first() {
            Some(n) => n,
            None => {
                pool.next += 1;
                pool.next - 1
            }
        };
        Slot {
            n,
            pool: self.clone(),
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut pool = self.pool.0.lock().unwrap_or_else(|e| e.into_inner());
        pool.free.insert(self.n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_returned_slot_is_taken_again_before_a_new_one() {
        let slots = Slots::default();
        let (a, b, c) = (slots.take(), slots.take(), slots.take());
        assert_eq!((a.number(), b.number(), c.number()), (0, 1, 2));
        drop(b);
        assert_eq!(slots.take().number(), 1);
        drop(a);
        drop(c);
        // Reconnecting in a loop: always slot 0, never a new number.
        for _ in 0..1000 {
            assert_eq!(slots.take().number(), 0);
        }
        let held: Vec<Slot> = (0..4).map(|_| slots.take()).collect();
        let numbers: Vec<u64> = held.iter().map(Slot::number).collect();
        assert_eq!(numbers, [0, 1, 2, 3], "the returned ones first, then a new one");
    }
}
