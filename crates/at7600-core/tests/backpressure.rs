//! Back-pressure instead of loss: a host that does not read, or a full receive buffer,
//! stops the network from being read; every byte arrives once the host catches up.
use at7600_core::{ConnId, Modem, ModemConfig, NetCommand, NetEvent};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

const T: Duration = Duration::ZERO;

fn peer() -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 1), 5253)
}

/// Takes every command the modem issued.
fn commands(m: &mut Modem) -> Vec<NetCommand> {
    std::iter::from_fn(|| m.poll_net()).collect()
}

/// Reads everything the modem printed.
fn read_all(m: &mut Modem) -> Vec<u8> {
    let mut out = Vec::new();
    while !m.host_output().is_empty() {
        let chunk = m.host_output().to_vec();
        m.consume_host_output(chunk.len());
        out.extend(chunk);
    }
    out
}

/// A modem with the network open and links opening (not yet answered).
fn modem_with(links: &[usize], setup: &str) -> (Modem, Vec<ConnId>) {
    let mut m = Modem::new(ModemConfig::default());
    m.handle_host(T, setup.as_bytes());
    m.handle_host(T, b"AT+NETOPEN\r");
    m.handle_net(
        T,
        NetEvent::Attached {
            ip: Ipv4Addr::new(10, 0, 0, 1),
        },
    );
    let mut conns = Vec::new();
    for i in links {
        m.handle_host(
            T,
            format!("AT+CIPOPEN={i},\"TCP\",\"127.0.0.1\",5253\r").as_bytes(),
        );
        for c in commands(&mut m) {
            if let NetCommand::Open { conn, .. } = c {
                conns.push(conn);
            }
        }
    }
    (m, conns)
}

fn data(conn: ConnId, n: usize, fill: u8) -> NetEvent {
    NetEvent::Data {
        conn,
        data: vec![fill; n],
    }
}

#[test]
fn a_host_that_does_not_read_pauses_the_links_and_loses_nothing() {
    let (mut m, conns) = modem_with(&[1], "ATE0;+CIPHEAD=0;+CIPSRIP=0\r");
    m.handle_net(
        T,
        NetEvent::Opened {
            conn: conns[0],
            remote: peer(),
            local_port: 1,
        },
    );
    read_all(&mut m);
    let limit = ModemConfig::default().limits.host_backlog;
    let mut sent = 0;
    let mut paused = false;
    for k in 0..100u8 {
        m.handle_net(T, data(conns[0], 4096, k));
        sent += 4096;
        if commands(&mut m).contains(&NetCommand::PauseRead { conn: conns[0] }) {
            paused = true;
            break;
        }
    }
    assert!(paused, "no PauseRead after {sent} bytes");
    assert!(sent > limit && sent <= limit + 4096);
    // Bytes already on their way when the pause was sent still count.
    m.handle_net(T, data(conns[0], 1000, 0xee));
    sent += 1000;
    let out = read_all(&mut m);
    assert_eq!(
        commands(&mut m),
        [NetCommand::ResumeRead { conn: conns[0] }]
    );
    assert_eq!(out.len(), sent, "every byte is delivered");
    assert!(out.ends_with(&[0xee; 1000]));
}

#[test]
fn a_link_that_finishes_connecting_during_a_pause_is_paused_too() {
    let (mut m, conns) = modem_with(&[1, 2], "ATE0;+CIPHEAD=0;+CIPSRIP=0\r");
    m.handle_net(
        T,
        NetEvent::Opened {
            conn: conns[0],
            remote: peer(),
            local_port: 1,
        },
    );
    read_all(&mut m);
    m.handle_net(T, data(conns[0], 70 * 1024, 1));
    assert!(commands(&mut m).contains(&NetCommand::PauseRead { conn: conns[0] }));
    m.handle_net(
        T,
        NetEvent::Opened {
            conn: conns[1],
            remote: peer(),
            local_port: 2,
        },
    );
    assert!(commands(&mut m).contains(&NetCommand::PauseRead { conn: conns[1] }));
    read_all(&mut m);
    let resumed = commands(&mut m);
    assert!(resumed.contains(&NetCommand::ResumeRead { conn: conns[0] }));
    assert!(resumed.contains(&NetCommand::ResumeRead { conn: conns[1] }));
}

#[test]
fn a_full_receive_buffer_pauses_its_link_until_half_is_read() {
    let (mut m, conns) = modem_with(&[1], "ATE0;+CIPRXGET=1\r");
    m.handle_net(
        T,
        NetEvent::Opened {
            conn: conns[0],
            remote: peer(),
            local_port: 1,
        },
    );
    read_all(&mut m);
    let limit = ModemConfig::default().limits.rx_buffer;
    m.handle_net(T, data(conns[0], limit, 7));
    assert_eq!(commands(&mut m), [NetCommand::PauseRead { conn: conns[0] }]);
    // Still buffered, not dropped: more that was in flight is kept as well.
    m.handle_net(T, data(conns[0], 10, 8));
    assert_eq!(read_all(&mut m), b"\r\n+CIPRXGET: 1,1\r\n");
    let mut total = 0;
    for _ in 0..100 {
        m.handle_host(T, b"AT+CIPRXGET=2,1,1500\r");
        let out = read_all(&mut m);
        if out.ends_with(b"ERROR\r\n") {
            break;
        }
        let header_end = out.windows(2).skip(2).position(|w| w == b"\r\n").unwrap() + 4;
        let header = std::str::from_utf8(&out[2..header_end - 2]).unwrap();
        let read: usize = header.split(',').nth(2).unwrap().parse().unwrap();
        total += read;
        if total >= limit / 2 && total < limit / 2 + 1500 {
            assert_eq!(
                commands(&mut m),
                [NetCommand::ResumeRead { conn: conns[0] }]
            );
        }
    }
    assert_eq!(total, limit + 10);
}

/// A host that types commands and never reads its answers: the modem stops taking
/// commands once its output backlog is full (and then stops wanting input), so it holds
/// a bounded amount; once the host reads, every command is answered.
#[test]
fn a_host_that_never_reads_its_answers_stops_the_commands_and_loses_none() {
    let mut m = Modem::new(ModemConfig::default());
    let limits = ModemConfig::default().limits;
    let command = b"AT+CIPOPEN?\r";
    let mut written = 0;
    for _ in 0..100_000 {
        if !m.wants_host_input() {
            break;
        }
        m.handle_host(T, command);
        written += 1;
    }
    assert!(!m.wants_host_input(), "the modem kept asking for input");
    assert!(written < 10_000, "{written} commands taken without a read");
    // Output: the limit plus at most one command's answer.
    assert!(m.host_output_contiguous().len() <= limits.host_backlog + 1024);
    let answers = read_all(&mut m);
    let oks = answers.windows(4).filter(|w| w == b"OK\r\n").count();
    assert_eq!(oks, written, "every command taken is answered once read");
    assert!(m.wants_host_input());
}
