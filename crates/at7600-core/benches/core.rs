//! Micro-benchmarks of the sans-IO core: command-line parsing throughput and the cost
//! of single commands and data paths, with the scripted network of the tests answering
//! at once. Run with `cargo bench -p at7600-core`; the end-to-end suite is
//! `cargo run --release -p at7600-bench` (docs/performance.md).
#![allow(missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use at7600_core::parser::parse_line;
use at7600_core::{ConnId, NetEvent};
use common::Bench;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;

/// Command bodies (the text after `AT`) a driver sends, long and short.
const BODIES: &[&[u8]] = &[
    b"",
    b"+CSQ",
    b"+CIPOPEN?",
    b"+NETOPEN",
    b"+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253",
    b"+CIPSEND=1,1500",
    b"+CIPRXGET=2,1,1500",
    b"+CIPCLOSE=1",
    b"E0V1&D2",
    b"+CMEE=2;+CREG?;+CGREG?;+CEREG?",
    b"+CGDCONT=1,\"IP\",\"CMNET\"",
    b"+CDNSGIP=\"www.baidu.com\"",
];

fn parser(c: &mut Criterion) {
    let bytes: usize = BODIES.iter().map(|b| b.len()).sum();
    let mut group = c.benchmark_group("parser");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("parse_line, 12 typical bodies", |b| {
        b.iter(|| {
            for body in BODIES {
                let _ = black_box(parse_line(black_box(body)));
            }
        })
    });
    group.finish();
}

/// Feeds `input` to the modem and answers its network commands until it is quiet, as
/// the tests' bench does, without writing a transcript. Returns the bytes for the host.
fn exchange(bench: &mut Bench, input: &[u8]) -> usize {
    bench.modem.handle_host(bench.now, input);
    settle(bench)
}

/// Answers the modem's network commands and takes its output until it is quiet.
fn settle(bench: &mut Bench) -> usize {
    let mut out = 0;
    for _ in 0..1000 {
        let n = bench.modem.host_output().len();
        bench.modem.consume_host_output(n);
        out += n;
        match bench.modem.poll_net() {
            Some(cmd) => {
                if let Some(ev) = bench.answer(&cmd) {
                    bench.modem.handle_net(bench.now, ev);
                }
            }
            None if bench.modem.host_output().is_empty() => break,
            None => {}
        }
    }
    out
}

/// Bytes from the peer on `conn` (built outside the timed part).
fn data_event(conn: ConnId, payload: &[u8]) -> NetEvent {
    NetEvent::Data {
        conn,
        data: payload.to_vec(),
    }
}

/// The network delivers `event`; returns the bytes for the host.
fn receive(bench: &mut Bench, event: NetEvent) -> usize {
    bench.modem.handle_net(bench.now, event);
    settle(bench)
}

/// A modem with echo off, the network open and TCP link 1 to the manual's peer.
fn with_link() -> (Bench, ConnId) {
    let mut bench = Bench::quiet();
    bench.netopen();
    let conn = bench.open_tcp(1);
    (bench, conn)
}

fn commands(c: &mut Criterion) {
    let mut group = c.benchmark_group("command");
    for line in [
        &b"AT\r"[..],
        b"AT+CSQ\r",
        b"AT+CIPOPEN?\r",
        b"AT+CIPMODE?\r",
    ] {
        let name = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
        let (mut bench, _) = with_link();
        group.throughput(Throughput::Bytes(line.len() as u64));
        group.bench_function(name, |b| b.iter(|| exchange(&mut bench, black_box(line))));
    }
    // Many command lines in one read: bytes/s through the line discipline, the parser
    // and the commands.
    let mut batch = Vec::new();
    for _ in 0..64 {
        batch.extend_from_slice(b"AT+CSQ\rAT\rAT+CREG?\rAT+CIPOPEN?\r");
    }
    let (mut bench, _) = with_link();
    group.throughput(Throughput::Bytes(batch.len() as u64));
    group.bench_function("256 lines in one read", |b| {
        b.iter(|| exchange(&mut bench, black_box(&batch)))
    });
    group.finish();
}

fn data(c: &mut Criterion) {
    let payload: Vec<u8> = (0..1500u32).map(|i| (i * 7 % 256) as u8).collect();
    let mut group = c.benchmark_group("data");
    group.throughput(Throughput::Bytes(payload.len() as u64));

    let (mut bench, _) = with_link();
    // What is timed below must be the manual's exchange, not an error.
    assert_eq!(bench.host("AT+CIPSEND=1,1500\r\n"), r"\r\n>");
    let report = bench.host(&payload);
    assert!(report.ends_with(r"+CIPSEND: 1,1500,1500\r\n"), "{report}");
    group.bench_function("CIPSEND 1500, prompt to report", |b| {
        b.iter(|| {
            exchange(&mut bench, b"AT+CIPSEND=1,1500\r\n");
            exchange(&mut bench, black_box(&payload))
        })
    });

    let (mut bench, conn) = with_link();
    assert!(bench.data(conn, &payload).contains(r"+IPD1500\r\n"));
    group.bench_function("direct push 1500 (+IPD)", |b| {
        b.iter_batched(
            || data_event(conn, &payload),
            |event| receive(&mut bench, event),
            BatchSize::SmallInput,
        )
    });

    let (mut bench, conn) = with_link();
    bench.host("AT+CIPRXGET=1\r");
    assert_eq!(bench.data(conn, &payload), r"\r\n+CIPRXGET: 1,1\r\n");
    let read = bench.host("AT+CIPRXGET=2,1,1500\r");
    assert!(read.starts_with(r"\r\n+CIPRXGET: 2,1,1500,0\r\n"), "{read}");
    group.bench_function("CIPRXGET buffer 1500 + read", |b| {
        b.iter_batched(
            || data_event(conn, &payload),
            |event| {
                receive(&mut bench, event);
                exchange(&mut bench, b"AT+CIPRXGET=2,1,1500\r")
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn churn(c: &mut Criterion) {
    let (mut bench, _) = with_link();
    assert!(bench
        .host("AT+CIPCLOSE=1\r")
        .ends_with(r"+CIPCLOSE: 1,0\r\n"));
    bench.open_tcp(1);
    assert!(bench
        .host("AT+CIPCLOSE=1\r")
        .ends_with(r"+CIPCLOSE: 1,0\r\n"));
    c.bench_function("CIPOPEN + CIPCLOSE cycle", |b| {
        b.iter(|| {
            exchange(
                &mut bench,
                b"AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r",
            );
            exchange(&mut bench, b"AT+CIPCLOSE=1\r")
        })
    });
}

criterion_group!(benches, parser, commands, data, churn);
criterion_main!(benches);
