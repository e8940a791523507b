//! A first end-to-end pass over the core on the scripted network.
mod common;
use common::Bench;

#[test]
fn smoke() {
    let mut b = Bench::default();
    b.host("AT\r");
    b.host("ATI\r");
    b.host("AT+NETOPEN\r");
    b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r");
    b.host("AT+CIPSEND=1,5\r");
    b.host("HELLO");
    b.host("AT+CIPSEND=1\rHELLOWORLD\x1a");
    let conn = b.last_conn();
    b.event(at7600_core::NetEvent::Data {
        conn,
        data: b"data from server".to_vec(),
    });
    b.host("AT+CIPOPEN?\r");
    b.host("AT+CIPCLOSE?\r");
    b.host("AT+CIPCLOSE=1\r");
    b.host("AT+NETCLOSE\r");
    println!("{}", b.transcript());
}

#[test]
fn stored_strings_that_are_not_7_bit_ascii_are_refused() {
    let mut b = Bench::default();
    assert_eq!(
        b.host(b"AT+CGDCONT=1,\"IP\",\"\xff\"\r"),
        "AT+CGDCONT=1,\"IP\",\"\\xFF\"\\r\\r\\nERROR\\r\\n"
    );
    assert_eq!(
        b.host(b"AT+CGAUTH=1,1,\"p\x80\",\"u\"\r"),
        "AT+CGAUTH=1,1,\"p\\x80\",\"u\"\\r\\r\\nERROR\\r\\n"
    );
    let out = b.host("AT+CGDCONT?\r");
    assert!(out.is_ascii() && !out.contains("\\x"), "{out}");
}
