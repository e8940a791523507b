//! Hostile and malformed host input: over-long lines, binary garbage, unknown commands,
//! malformed and out-of-range parameters, DTR drops, and payload bytes 0x00-0xFF
//! crossing the modem untouched in both directions.
mod common;
use at7600_core::{NetCommand, NetEvent};
use common::{show, Bench};

/// A small deterministic generator (xorshift64*), so failures are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn still_answers(b: &mut Bench) {
    b.host("\r\n");
    let out = b.host("AT\r");
    assert!(out.ends_with(r"\r\nOK\r\n"), "{out}");
}

#[test]
fn a_huge_line_is_error_and_the_modem_keeps_working() {
    let mut b = Bench::quiet();
    let mut line = b"AT+".to_vec();
    line.extend(std::iter::repeat_n(b'9', 200_000));
    line.push(b'\r');
    assert_eq!(b.host(line), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT\r"), r"\r\nOK\r\n");
}

#[test]
fn all_256_byte_values_as_garbage_never_panic() {
    let mut b = Bench::default();
    let all: Vec<u8> = (0..=255).collect();
    b.host(&all);
    b.host(&all);
    still_answers(&mut b);
}

#[test]
fn all_256_byte_values_inside_a_command_line_never_panic() {
    let mut b = Bench::quiet();
    for v in 0..=255u8 {
        if v == b'\r' {
            continue;
        }
        b.host([b'A', b'T', b'+', b'C', v, b'=', v, b'\r']);
        b.host([b'A', b'T', v, b'\r']);
    }
    still_answers(&mut b);
}

#[test]
fn random_blobs_never_panic() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for round in 0..300 {
        let mut b = Bench::default();
        let n = (rng.next() % 600) as usize;
        let mut blob = rng.bytes(n);
        if round % 2 == 0 {
            // Make the parser see it: random bytes after `AT`, ended by CR.
            blob.splice(0..0, *b"AT+");
            blob.push(b'\r');
        }
        b.host(&blob);
        still_answers(&mut b);
    }
}

#[test]
fn random_blobs_with_network_and_links_open_never_panic() {
    let mut rng = Rng(0xdead_beef_0000_0042);
    for _ in 0..100 {
        let mut b = Bench::default();
        b.netopen();
        let conn = b.open_tcp(1);
        b.host("AT+CIPRXGET=1\r");
        let data = rng.bytes(64);
        b.data(conn, &data);
        let mut blob = b"AT+CIPRXGET=".to_vec();
        let n = (rng.next() % 40) as usize;
        blob.extend(rng.bytes(n));
        blob.push(b'\r');
        b.host(&blob);
        let mut blob = b"AT+CIPOPEN=".to_vec();
        blob.extend(rng.bytes(n));
        blob.push(b'\r');
        b.host(&blob);
        // A payload prompt may have opened: give it its bytes, then resync.
        b.host(vec![b'z'; 1500]);
        b.host(b"\x1b");
        still_answers(&mut b);
    }
}

#[test]
fn unknown_commands_are_error() {
    let mut b = Bench::quiet();
    for cmd in [
        "AT+FOO",
        "ATB",
        "AT#",
        "AT+",
        "AT$X",
        "AT^Y=1",
        "AT+CIPOPENX?",
    ] {
        assert_eq!(b.host(format!("{cmd}\r")), r"\r\nERROR\r\n", "{cmd}");
    }
}

#[test]
fn syntax_errors_are_error() {
    let mut b = Bench::quiet();
    for cmd in [
        "AT+CIPOPEN=1,\"TCP",
        "AT+CSQ x",
        "AT+CIPHEAD=1\"2\"",
        "AT+CIPSEND=1,5\"",
        "ATS",
        "AT&",
        "AT+CIPHEAD=0;;+",
    ] {
        assert_eq!(b.host(format!("{cmd}\r")), r"\r\nERROR\r\n", "{cmd}");
    }
    assert_eq!(b.host("AT\r"), r"\r\nOK\r\n");
}

#[test]
fn malformed_numbers_are_refused() {
    let mut b = Bench::quiet();
    for cmd in [
        "AT+CIPHEAD=\"1\"",
        "AT+CIPHEAD=-1",
        "AT+CIPHEAD=1a",
        "AT+CIPHEAD=",
        "AT+CIPTIMEOUT=99999999999999999999999999",
        "AT+CIPCCFG=+5",
        "AT+CIPMODE=0x1",
    ] {
        assert_eq!(b.host(format!("{cmd}\r")), r"\r\nERROR\r\n", "{cmd}");
    }
}

#[test]
fn malformed_link_numbers_are_ip_error_invalid_parameter() {
    let mut b = Bench::quiet();
    b.netopen();
    b.host("AT+CIPRXGET=1\r");
    for cmd in [
        "AT+CIPOPEN=x,\"TCP\",\"1.2.3.4\",80",
        "AT+CIPOPEN=-1,\"TCP\",\"1.2.3.4\",80",
        "AT+CIPSEND=\"1\",5",
        "AT+CIPCLOSE=99999999999999999999",
        "AT+CIPRXGET=2,x",
        "AT+CIPACK=",
    ] {
        assert_eq!(
            b.host(format!("{cmd}\r")),
            r"\r\n+IP ERROR: Invalid parameter\r\n\r\nERROR\r\n",
            "{cmd}"
        );
    }
}

#[test]
fn malformed_send_lengths_are_ciperror_3() {
    let mut b = Bench::quiet();
    b.netopen();
    b.open_tcp(1);
    for cmd in [
        "AT+CIPSEND=1,abc",
        "AT+CIPSEND=1,-5",
        "AT+CIPSEND=1,99999999999999999999",
        "AT+CIPSEND=1,5,6",
    ] {
        assert_eq!(
            b.host(format!("{cmd}\r")),
            r"\r\n+CIPERROR: 3\r\n\r\nERROR\r\n",
            "{cmd}"
        );
    }
}

#[test]
fn out_of_range_values_are_error() {
    let mut b = Bench::quiet();
    for cmd in [
        "ATE2",
        "ATV2",
        "ATQ2",
        "ATX5",
        "AT&D3",
        "AT+CMEE=3",
        "AT+CFUN=2",
        "AT+CTZR=2",
        "AT+CIPSRIP=2",
        "AT+CIPSENDMODE=2",
        "AT+CIPRXGET=9",
    ] {
        assert_eq!(b.host(format!("{cmd}\r")), r"\r\nERROR\r\n", "{cmd}");
    }
}

#[test]
fn dtr_off_mid_line_drops_typed_ahead_bytes() {
    let mut b = Bench::quiet();
    b.host("AT+CIPHEAD=0;+CIPSR");
    assert_eq!(b.dtr(false), "");
    b.dtr(true);
    assert_eq!(b.host("IP=0\r"), "");
    assert_eq!(
        b.host("AT+CIPHEAD?;+CIPSRIP?\r"),
        r"\r\n+CIPHEAD: 1\r\n\r\n+CIPSRIP: 1\r\n\r\nOK\r\n"
    );
}

#[test]
fn dtr_off_mid_variable_payload_is_error_and_the_rest_is_not_sent() {
    let mut b = Bench::quiet();
    b.netopen();
    b.open_tcp(1);
    b.host("AT+CIPSEND=1\r");
    b.host("half of it");
    assert_eq!(b.dtr(false), r"\r\nERROR\r\n");
    b.dtr(true);
    assert_eq!(b.host("rest\x1a"), "");
    assert!(b.sent_data().is_empty());
    assert_eq!(b.host("AT\r"), r"\r\nOK\r\n");
}

#[test]
fn dtr_off_while_busy_keeps_the_command_running() {
    let mut b = Bench::quiet();
    b.netopen();
    b.auto = false;
    b.host("AT+CDNSGIP=\"www.baidu.com\"\r");
    assert_eq!(b.dtr(false), "");
    b.dtr(true);
    let Some(NetCommand::Resolve { query, .. }) = b.pending.pop_front() else {
        panic!("no Resolve")
    };
    assert_eq!(
        b.event(NetEvent::Resolved { query, addr: None }),
        r"\r\n+CDNSGIP: 0,10\r\n\r\nERROR\r\n"
    );
}

fn all_bytes() -> Vec<u8> {
    (0..=255).collect()
}

#[test]
fn cipsend_fixed_length_carries_all_256_byte_values() {
    let mut b = Bench::quiet();
    b.netopen();
    b.open_tcp(1);
    assert_eq!(b.host("AT+CIPSEND=1,256\r"), r"\r\n>");
    assert_eq!(
        b.host(all_bytes()),
        r"\r\nOK\r\n\r\n+CIPSEND: 1,256,256\r\n"
    );
    assert_eq!(b.sent_data(), [all_bytes()]);
}

#[test]
fn cipsend_variable_length_carries_all_256_byte_values_escaped() {
    let mut b = Bench::quiet();
    b.netopen();
    b.open_tcp(1);
    let mut payload = Vec::new();
    for v in all_bytes() {
        if matches!(v, 0x03 | 0x1a | 0x1b) {
            payload.push(0x03);
        }
        payload.push(v);
    }
    payload.push(0x1a);
    b.host("AT+CIPSEND=1\r");
    assert_eq!(b.host(payload), r"\r\nOK\r\n\r\n+CIPSEND: 1,256,256\r\n");
    assert_eq!(b.sent_data(), [all_bytes()]);
}

#[test]
fn received_256_byte_values_are_pushed_raw() {
    let mut b = Bench::quiet();
    b.netopen();
    let conn = b.open_tcp(1);
    assert_eq!(
        b.data(conn, &all_bytes()),
        format!(
            r"\r\nRECV FROM:117.131.85.139:5253\r\n+IPD256\r\n{}",
            show(&all_bytes())
        )
    );
}

#[test]
fn received_256_byte_values_read_back_with_ciprxget_2_and_3() {
    let mut b = Bench::quiet();
    b.netopen();
    b.host("AT+CIPRXGET=1\r");
    let conn = b.open_tcp(1);
    b.data(conn, &all_bytes());
    b.data(conn, &all_bytes());
    assert_eq!(
        b.host("AT+CIPRXGET=2,1,256\r"),
        format!(
            r"\r\n+CIPRXGET: 2,1,256,256\r\n{}\r\nOK\r\n",
            show(&all_bytes())
        )
    );
    let hex: String = all_bytes().iter().map(|v| format!("{v:02X}")).collect();
    assert_eq!(
        b.host("AT+CIPRXGET=3,1,256\r"),
        format!(r"\r\n+CIPRXGET: 3,1,256,0\r\n{hex}\r\nOK\r\n")
    );
}
