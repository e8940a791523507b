//! What a PTY modem costs while its host does nothing, or does the wrong thing: CPU
//! while the port is held open and idle, memory while the host writes and never reads.
//! Resource bounds, not timings. Every wait is bounded.
mod common;

use common::{cpu_ticks, Port, PtyDaemon};
use std::net::TcpListener;
use std::thread;
use std::time::Duration;

/// A modem whose host holds the port open (as picocom or a driver does), with the
/// network open and one link up, and then idles: it must not spin. Before the fix the
/// PTY master's hang-up readiness, seen once at start-up, stayed set and the read loop
/// retried EAGAIN at a whole core's pace (about 100 ticks per second).
#[test]
fn idle_modem_with_port_and_link_open_uses_no_cpu() {
    let d = PtyDaemon::start(&[]);
    let peer = TcpListener::bind("127.0.0.1:0").expect("peer");
    let p = peer.local_addr().expect("addr").port();
    let port = Port::open(&d.link);
    port.cmd("AT+NETOPEN\r", "+NETOPEN: 0\\r\\n");
    port.cmd(
        &format!("AT+CIPOPEN=1,\"TCP\",\"127.0.0.1\",{p}\r"),
        "+CIPOPEN: 1,0\\r\\n",
    );
    let _conn = peer.accept().expect("peer accepts");
    // Let start-up work settle, then count a second of idling.
    thread::sleep(Duration::from_millis(200));
    let before = cpu_ticks(d.pid());
    thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(d.pid()) - before;
    assert!(used <= 3, "an idle modem used {used} ticks in 1 s");
    // Still alive and answering.
    assert_eq!(port.cmd("AT\r", "OK\\r\\n"), "AT\\r\\r\\nOK\\r\\n");
}

/// The same after the host closed the port and opened it again (the master's hang-up
/// is seen again on every close).
#[test]
fn idle_modem_after_the_port_was_reopened_uses_no_cpu() {
    let d = PtyDaemon::start(&[]);
    let port = Port::open(&d.link);
    port.cmd("AT\r", "OK\\r\\n");
    drop(port);
    thread::sleep(Duration::from_millis(300));
    let port = Port::open(&d.link);
    port.cmd("AT\r", "OK\\r\\n");
    thread::sleep(Duration::from_millis(200));
    let before = cpu_ticks(d.pid());
    thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(d.pid()) - before;
    assert!(used <= 3, "an idle modem used {used} ticks in 1 s");
}
