//! The timing profile (docs/timing.md) under virtual time: the UART's pace at the
//! AT+IPR baud rate both ways, the per-command processing time, AT+NETOPEN's and
//! AT+CIPOPEN's own time, and the module profile's figures.
mod common;
use at7600_core::config::Timing;
use at7600_core::{ModemConfig, NetCommand};
use common::Bench;
use std::time::Duration;

fn with(timing: Timing) -> Bench {
    Bench::new(ModemConfig {
        timing,
        ..Default::default()
    })
}

fn uart() -> Bench {
    with(Timing {
        uart: true,
        ..Default::default()
    })
}

/// One 8N1 byte (10 bits) at 115200 baud, in nanoseconds (rounded down).
const BYTE_115200: u64 = 10_000_000_000 / 115_200;

fn ns(n: u64) -> Duration {
    Duration::from_nanos(n)
}

/// How many bytes the host has at `t` (taking none).
fn out_at(b: &mut Bench, t: Duration) -> usize {
    b.modem.handle_timeout(t);
    b.modem.host_output_contiguous().len()
}

#[test]
fn the_uart_carries_10_bits_a_byte_both_ways_at_115200() {
    let mut b = uart();
    b.modem.handle_host(Duration::ZERO, b"AT\r");
    assert_eq!(
        b.modem.host_output(),
        b"",
        "nothing before the bytes arrive"
    );
    // The `\r` arrives after 3 byte times; the answer then leaves a byte at a time.
    assert_eq!(out_at(&mut b, ns(3 * BYTE_115200 - 1)), 0);
    assert_eq!(out_at(&mut b, ns(3 * BYTE_115200)), 0);
    assert_eq!(out_at(&mut b, ns(4 * BYTE_115200)), 1);
    assert_eq!(out_at(&mut b, ns(11 * BYTE_115200)), 8);
    assert_eq!(out_at(&mut b, ns(12 * BYTE_115200)), 9);
    assert_eq!(b.modem.host_output_contiguous(), b"AT\r\r\nOK\r\n");
}

#[test]
fn a_paced_answer_arrives_in_order_through_the_runtimes_deadlines() {
    let mut b = uart();
    b.host("ATI\r");
    let all = b.advance(Duration::from_millis(50));
    assert_eq!(
        all,
        r"ATI\r\r\nManufacturer: SUNSEA AIOT\r\nModel: AT7600\r\nRevision: AT7600M21_V1.0\r\nIMEI: 867584030012347\r\n+GCAP: +CGSM\r\n\r\nOK\r\n"
    );
}

#[test]
fn ipr_changes_the_pace_11_52_kb_s_at_115200_and_0_96_at_9600() {
    let mut b = uart();
    b.modem.handle_host(Duration::ZERO, b"ATE0\r");
    // The runtime is woken when the line's bytes have arrived (up to 32 at a time);
    // the echo and the answer then leave a byte at a time.
    assert_eq!(b.modem.poll_timeout(), Some(ns(5 * BYTE_115200)));
    assert_eq!(out_at(&mut b, ns(5 * BYTE_115200)), 0);
    assert_eq!(out_at(&mut b, ns(15 * BYTE_115200)), 10);
    assert_eq!(out_at(&mut b, ns(16 * BYTE_115200)), 11);
    b.modem.consume_host_output(11);
    let t = ns(20 * BYTE_115200);
    b.modem.handle_host(t, b"AT+IPR=9600\r");
    let arrived = t + ns(12 * BYTE_115200);
    // The answer to AT+IPR goes out at the new rate: one byte per 1.0416 ms.
    let byte_9600 = 10_000_000_000 / 9600;
    assert_eq!(b.modem.poll_timeout(), Some(arrived));
    assert_eq!(out_at(&mut b, arrived), 0);
    assert_eq!(out_at(&mut b, arrived + ns(byte_9600) - ns(1)), 0);
    assert_eq!(out_at(&mut b, arrived + ns(byte_9600)), 1);
    assert_eq!(out_at(&mut b, arrived + ns(6 * byte_9600)), 6);
    assert_eq!(
        BYTE_115200 * 1152 / 1_000_000,
        99,
        "ms, rounded down: 11.52 KB/s"
    );
}

#[test]
fn each_command_line_takes_its_processing_time() {
    let mut b = with(Timing {
        command_ms: 20,
        ..Default::default()
    });
    assert_eq!(b.host("AT\r"), r"AT\r", "echo at once, as a module does");
    assert_eq!(b.advance(Duration::from_millis(19)), "");
    assert_eq!(b.advance(Duration::from_millis(1)), r"\r\nOK\r\n");
    // Typed-ahead lines wait their turn, each its own time.
    assert_eq!(b.host("ATE0\rAT\r"), r"ATE0\r");
    assert_eq!(b.advance(Duration::from_millis(20)), r"\r\nOK\r\n");
    assert_eq!(b.advance(Duration::from_millis(20)), r"\r\nOK\r\n");
}

#[test]
fn netopen_and_cipopen_take_their_own_time_before_the_network_is_asked() {
    let mut b = with(Timing {
        netopen_ms: 1500,
        cipopen_ms: 300,
        ..Default::default()
    });
    b.host("ATE0\r");
    assert_eq!(b.host("AT+NETOPEN\r"), r"\r\nOK\r\n");
    assert!(!b.log.contains(&NetCommand::Attach));
    assert_eq!(b.advance(Duration::from_millis(1499)), "");
    assert_eq!(b.advance(Duration::from_millis(1)), r"\r\n+NETOPEN: 0\r\n");
    assert_eq!(
        b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r"),
        r"\r\nOK\r\n"
    );
    assert_eq!(b.advance(Duration::from_millis(299)), "");
    assert_eq!(
        b.advance(Duration::from_millis(1)),
        r"\r\n+CIPOPEN: 1,0\r\n"
    );
}

#[test]
fn the_module_profiles_figures() {
    let t = Timing::module();
    assert_eq!(
        (t.uart, t.command_ms, t.netopen_ms, t.cipopen_ms),
        (true, 20, 50, 300)
    );
    let mut b = with(t);
    b.host("AT\r");
    // 3 bytes in (260 µs), 20 ms processing, 9 bytes out (781 µs).
    let out = b.advance(Duration::from_micros(260 + 20_000 + 781));
    assert_eq!(out, r"AT\r\r\nOK\r\n");
}

#[test]
fn the_default_is_instant() {
    let mut b = Bench::default();
    assert_eq!(b.host("AT\r"), r"AT\r\r\nOK\r\n");
}
