//! The simulated network keeps cause before effect and pushes back like the real one:
//! a send's report comes before the peer's answer to it, and a peer or a host that
//! does not read stops the other side within a window. Virtual time, no sockets.

use std::time::Duration;

mod common;

use common::sim;

const S: Duration = Duration::from_secs(1);

/// §2.2 `AT+CIPSENDMODE=1`: the report waits for the peer's ACK; the peer's echo
/// carries that ACK, so the report still comes before the echo, on every profile.
#[test]
fn cipsendmode_1_report_comes_before_the_echo() {
    for profile in at7600_net::PROFILE_NAMES {
        for seed in 1..=5 {
            let mut sim = sim(profile, seed);
            sim.host("AT+CIPSENDMODE=1\r");
            sim.host("AT+CIPOPEN=0,\"TCP\",\"echo.sim\",7\r");
            assert!(sim.run_until("+CIPOPEN: 0,0", 30 * S), "{profile}/{seed}");
            sim.host("AT+CIPSEND=0,5\r");
            sim.host("hello");
            assert!(sim.run_until("hello", 30 * S), "{profile}/{seed}: no echo");
            sim.run_for(S);
            let out = sim.take_text();
            let report = out.find("+CIPSEND: 0,5,5");
            let echo = out.find("+IPD5");
            assert!(
                matches!((report, echo), (Some(r), Some(e)) if r < e),
                "{profile}/{seed}: {out}"
            );
        }
    }
}
