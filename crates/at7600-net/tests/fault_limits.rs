//! Faults with values out of bounds are refused with a message saying which bound,
//! through [`at7600_net::fault::apply`] (the control API's path) and on the simulated
//! network's harness alike.

mod common;

use at7600_net::Fault;
use common::sim;

/// Issue 9 (minor): `network-lost` with a `for_ms` of u64::MAX was taken (and the
/// network stayed down for half a billion years).
#[test]
fn network_lost_for_longer_than_a_day_is_refused() {
    let mut sim = sim("none", 1);
    let err = sim
        .inject(&Fault::NetworkLost { for_ms: u64::MAX })
        .expect_err("u64::MAX ms taken");
    assert!(err.contains("for_ms") && err.contains("86400000"), "{err}");
    // At the bound it is taken.
    sim.inject(&Fault::NetworkLost { for_ms: 86_400_000 })
        .expect("a day is fine");
}
