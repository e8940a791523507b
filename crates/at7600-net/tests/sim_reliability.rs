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

/// Bytes in `n`-th position of what the host writes, so order is checked too.
fn stream_byte(n: usize) -> u8 {
    (n % 251) as u8
}

/// Issue 9 item 5, data mode (clarifications §2): a host that writes to an echo peer
/// and never reads. Its output stops the modem reading, the window stops the echo, the
/// echo stops reading the modem's bytes, the modem's sends are refused and the host's
/// writes are held back: every queue stays bounded. Once the host reads again, it gets
/// every byte it wrote, in order.
#[test]
fn a_host_that_does_not_read_stops_the_echo_and_its_own_writes() {
    let mut sim = sim("lte-cat1", 3);
    // Transparent mode is chosen before the network opens.
    sim.host("AT+NETCLOSE\r");
    assert!(sim.run_until("+NETCLOSE: 0", 10 * S));
    sim.host("AT+CIPMODE=1\r");
    sim.host("AT+NETOPEN\r");
    assert!(sim.run_until("+NETOPEN: 0", 10 * S));
    sim.host("AT+CIPOPEN=0,\"TCP\",\"echo.sim\",7\r");
    assert!(sim.run_until("CONNECT 115200\r\n", 30 * S));
    sim.take_output();
    sim.set_host_reading(false);
    let mut written = 0usize;
    let mut most_queued = 0;
    // 20 s of a host writing 1 KiB whenever the modem takes input.
    for _ in 0..2000 {
        if sim.modem.wants_host_input() {
            let chunk: Vec<u8> = (written..written + 1024).map(stream_byte).collect();
            sim.host(&chunk);
            written += chunk.len();
        }
        sim.run_for(Duration::from_millis(10));
        most_queued = most_queued.max(sim.net.queued_bytes());
    }
    let window = at7600_net::sim::WINDOW + at7600_net::sim::PEER_BUFFER;
    let cap = sim.net.config().send_queue_cap;
    assert!(
        most_queued <= window + cap + 1400,
        "the simulated network held {most_queued} bytes"
    );
    assert!(
        sim.net.stats().bytes_up < 1024 * 1024,
        "{} bytes sent to a peer that could not answer",
        sim.net.stats().bytes_up
    );
    sim.set_host_reading(true);
    sim.run_for(60 * S);
    let out = sim.take_output();
    assert_eq!(out.len(), written, "bytes lost or invented");
    assert!(
        out.iter().enumerate().all(|(i, &b)| b == stream_byte(i)),
        "bytes reordered"
    );
}
