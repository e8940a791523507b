//! Properties of the host byte stream: however a host's bytes are split into reads, the
//! modem prints the same bytes; and random bytes never panic the modem, which still
//! answers `AT` after a `\r\n` resync.
mod common;
use at7600_core::{Modem, ModemConfig, NetCommand, NetEvent, SendOutcome};
use common::Bench;
use proptest::prelude::*;

/// A realistic session on links opened beforehand: settings, queries, sends of every
/// kind (binary, escaped, cancelled, fixed length with CR/LF inside), buffer reads,
/// errors, editing, and a repeat.
fn script() -> Vec<u8> {
    let mut s: Vec<u8> = Vec::new();
    s.extend(b"\x1a\nAT\r\nATE1V1\r\nat+csq\r");
    s.extend(b"AT+CIPHEAD?;+CIPSRIP=1\r\n");
    s.extend(b"AT+CIPSEND=1,8\r\n\x00\x01\r\n\x1a\x1b\x03\xff");
    s.extend(b"AT+CIPSEND=1\r\nHELLO\x03\x1aWORLD\x03\x03\x03\x1b!\x1a");
    s.extend(b"AT+CIPSEND=1\rcancel me\x1b");
    s.extend(b"AT+CIPSEND=2,5,\"117.131.85.139\",5254\r\nABCDE");
    s.extend(b"AT+CIPRXGET=2,1,7\r\nAT+CIPRXGET=3,1,4\r\nAT+CIPRXGET=4,1\r\n");
    s.extend(b"AT+CIPRXGET=2,2,3\r\nAT+CIPRXGET=2,2\r\nAT+CIPRXGET=2,2\r\n");
    s.extend(b"AT+CIPOPEN?\r\nAT+CIPCLOSE?\r\n");
    s.extend(b"AT+BOGUS\r\nAT+CIPSEND=1,1501\r\nAT+CIPSEND=7,3\r\n");
    s.extend(b"AT+CSX\x08Q\r\nA/");
    let binary: Vec<u8> = (0..=255u8).rev().collect();
    s.extend(b"AT+CIPSEND=1,256\r");
    s.extend(&binary);
    s.extend(b"ATE0\rAT+CIPSEND=1,3\r\nabcAT+CGMR\r\n");
    s
}

/// Network open; TCP link 1 with data buffered; UDP link 2 with two datagrams. The
/// network then stays silent (no answers) so that only the host's bytes drive output.
fn prepared() -> Bench {
    let mut b = Bench::default();
    b.host("ATE0\r");
    b.netopen();
    b.host("AT+CIPRXGET=1\r");
    let tcp = b.open_tcp(1);
    let udp = b.open_udp(2);
    b.data(tcp, b"data from server, and more");
    b.datagram(udp, b"one");
    b.datagram(udp, b"two!");
    b.host("ATE1\r");
    b.auto = false;
    b
}

/// Feeds the script in the given pieces; then answers every send; returns all output.
fn run(pieces: &[&[u8]]) -> Vec<u8> {
    let mut b = prepared();
    let mut out = Vec::new();
    let mut drain = |m: &mut Modem| loop {
        let o = m.host_output().to_vec();
        if o.is_empty() {
            break;
        }
        m.consume_host_output(o.len());
        out.extend(o);
    };
    for p in pieces {
        b.modem.handle_host(b.now, p);
        drain(&mut b.modem);
    }
    let mut sends = Vec::new();
    while let Some(cmd) = b.modem.poll_net() {
        if let NetCommand::Send { conn, .. } | NetCommand::SendTo { conn, .. } = cmd {
            sends.push(conn);
        }
    }
    for conn in sends {
        b.modem.handle_net(
            b.now,
            NetEvent::SendDone {
                conn,
                outcome: SendOutcome::Accepted,
            },
        );
        drain(&mut b.modem);
    }
    out
}

fn split_at(data: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut pieces = Vec::new();
    let mut start = 0;
    for c in cuts {
        pieces.push(data[start..c].to_vec());
        start = c;
    }
    pieces.push(data[start..].to_vec());
    pieces
}

#[test]
fn the_script_in_one_read_is_what_the_manual_says() {
    let out = run(&[&script()]);
    let text = common::show(&out);
    // Spot checks that the reference run itself is sane.
    assert!(
        text.starts_with(r"AT\r\r\nOK\r\nATE1V1\r\r\nOK\r\n"),
        "{text}"
    );
    assert!(text.contains(r"AT+CIPSEND=1,8\r\r\n>\r\nOK\r\n"), "{text}");
    assert!(
        text.contains(r"\r\n+CIPRXGET: 2,1,7,19\r\ndata fr\r\nOK\r\n"),
        "{text}"
    );
    assert!(
        text.contains(r"\r\n+CIPRXGET: 2,2,3,4\r\none\r\nOK\r\n"),
        "{text}"
    );
    assert!(
        text.contains(r"\r\n+CIPRXGET: 2,2,4,0\r\ntwo!\r\nOK\r\n"),
        "{text}"
    );
    assert!(text.ends_with(r"\r\n+CIPSEND: 1,3,3\r\n"), "{text}");
    let sent = {
        let mut b = prepared();
        b.modem.handle_host(b.now, &script());
        let mut v = Vec::new();
        while let Some(c) = b.modem.poll_net() {
            if let NetCommand::Send { data, .. } | NetCommand::SendTo { data, .. } = c {
                v.push(data);
            }
        }
        v
    };
    let binary: Vec<u8> = (0..=255u8).rev().collect();
    assert_eq!(
        sent,
        [
            b"\x00\x01\r\n\x1a\x1b\x03\xff".to_vec(),
            b"HELLO\x1aWORLD\x03\x1b!".to_vec(),
            b"ABCDE".to_vec(),
            binary,
            b"abc".to_vec(),
        ]
    );
}

#[test]
fn one_byte_reads_give_the_same_output() {
    let s = script();
    let pieces: Vec<&[u8]> = s.chunks(1).collect();
    assert_eq!(common::show(&run(&pieces)), common::show(&run(&[&s])));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_split_of_the_script_gives_the_same_output(
        cuts in proptest::collection::vec(any::<usize>(), 0..40)
    ) {
        let s = script();
        let whole = run(&[&s]);
        let pieces = split_at(&s, &cuts);
        let refs: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
        prop_assert_eq!(common::show(&run(&refs)), common::show(&whole));
    }

    #[test]
    fn random_bytes_never_panic_and_at_still_answers(
        blob in proptest::collection::vec(any::<u8>(), 0..512),
        cuts in proptest::collection::vec(any::<usize>(), 0..8)
    ) {
        let mut m = Modem::new(ModemConfig::default());
        for piece in split_at(&blob, &cuts) {
            m.handle_host(std::time::Duration::ZERO, &piece);
            let n = m.host_output().len();
            m.consume_host_output(n);
            while m.poll_net().is_some() {}
        }
        let mut out = Vec::new();
        for piece in [&b"\r\n"[..], b"AT\r"] {
            m.handle_host(std::time::Duration::ZERO, piece);
            loop {
                let o = m.host_output().to_vec();
                if o.is_empty() {
                    break;
                }
                m.consume_host_output(o.len());
                out.extend(o);
            }
        }
        let text = common::show(&out);
        prop_assert!(text.ends_with(r"\r\nOK\r\n"), "{}", text);
    }
}

/// The reference output itself, reviewed against the manual and kept as a snapshot, so
/// the property compares splits against known-good bytes.
#[test]
fn reference_output_of_the_script() {
    insta::assert_snapshot!(common::show(&run(&[&script()])).replace(r"\r\n", "\\r\\n\n"));
}
