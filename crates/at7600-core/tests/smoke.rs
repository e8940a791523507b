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
