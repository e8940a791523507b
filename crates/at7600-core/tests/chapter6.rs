//! Chapter 6 of the manual, example by example, on the scripted network: the exact
//! exchange the manual (with `clarifications.md`) gives, one test per section.
mod common;
use common::Bench;

#[test]
fn s6_1_1_network_environment() {
    let mut b = Bench::default();
    assert_eq!(
        b.host("AT+CSQ\r"),
        "AT+CSQ\\r\\r\\n+CSQ: 25,99\\r\\n\\r\\nOK\\r\\n"
    );
    assert_eq!(
        b.host("AT+CREG?\r"),
        "AT+CREG?\\r\\r\\n+CREG: 0,1\\r\\n\\r\\nOK\\r\\n"
    );
    assert_eq!(
        b.host("AT+CPSI?\r"),
        "AT+CPSI?\\r\\r\\n+CPSI: LTE,Online,460-00,0x1816,27593483,139,EUTRAN-BAND39,38400,5,5,-88,-868,-578,18\\r\\n\\r\\nOK\\r\\n"
    );
    assert_eq!(
        b.host("AT+CGREG?\r"),
        "AT+CGREG?\\r\\r\\n+CGREG: 0,1\\r\\n\\r\\nOK\\r\\n"
    );
}

#[test]
fn s6_1_2_configure_context() {
    let mut b = Bench::default();
    assert_eq!(
        b.host("AT+CGDCONT=1,\"IP\",\"CMNET\"\r"),
        "AT+CGDCONT=1,\"IP\",\"CMNET\"\\r\\r\\nOK\\r\\n"
    );
}

#[test]
fn s6_1_3_activate_context() {
    let mut b = Bench::default();
    assert_eq!(
        b.host("AT+NETOPEN\r"),
        "AT+NETOPEN\\r\\r\\nOK\\r\\n\\r\\n+NETOPEN: 0\\r\\n"
    );
    assert_eq!(
        b.host("AT+IPADDR\r"),
        "AT+IPADDR\\r\\r\\n+IPADDR: 10.148.0.17\\r\\n\\r\\nOK\\r\\n"
    );
}

#[test]
fn s6_1_4_deactivate_context() {
    let mut b = Bench::default();
    b.netopen();
    assert_eq!(
        b.host("AT+NETCLOSE\r"),
        "AT+NETCLOSE\\r\\r\\nOK\\r\\n\\r\\n+NETCLOSE: 0\\r\\n"
    );
}

#[test]
fn s6_2_1_tcp_client_direct_push_mode() {
    let mut b = Bench::default();
    b.host("AT+NETOPEN\r");
    b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r");
    let conn = b.last_conn();
    b.host("AT+CIPSEND=1,5\r");
    b.host("HELLO");
    b.host("AT+CIPSEND=1\r");
    b.host("HELLOWORLD\x1a");
    b.data(conn, b"data from server");
    b.host("AT+CIPCLOSE=1\r");
    assert_eq!(b.sent_data(), [b"HELLO".to_vec(), b"HELLOWORLD".to_vec()]);
    insta::assert_snapshot!(b.transcript());
}

#[test]
fn s6_2_2_tcp_client_buffer_access_mode() {
    let mut b = Bench::default();
    b.host("AT+NETOPEN\r");
    b.host("AT+CIPRXGET=1\r");
    b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r");
    let conn = b.last_conn();
    b.host("AT+CIPSEND=1,5\r");
    b.host("hello");
    b.data(conn, b"data from server");
    b.host("AT+CIPRXGET=4,1\r");
    b.host("AT+CIPRXGET=2,1,5\r");
    b.host("AT+CIPRXGET=3,1,5\r");
    b.host("AT+CIPRXGET=4,1\r");
    b.host("AT+CIPRXGET=2,2\r");
    b.host("AT+CIPRXGET=2,1\r");
    b.host("AT+CIPRXGET=4,1\r");
    b.host("AT+CIPCLOSE=1\r");
    insta::assert_snapshot!(b.transcript());
}

#[test]
fn s6_3_1_udp_client_direct_push_mode() {
    let mut b = Bench::default();
    b.host("AT+NETOPEN\r");
    b.host("AT+CIPOPEN=1,\"UDP\",,,5000\r");
    let conn = b.last_conn();
    b.host("AT+CIPSEND=1,,\"117.131.85.139\",5254\r");
    b.host("HELLOSERVER\x1a");
    b.host("AT+CIPSEND=1,5,\"117.131.85.139\",5254\r");
    b.host("HELLO");
    b.datagram(conn, b"HELLO CLIENT\r\n");
    b.host("AT+CIPCLOSE=1\r");
    insta::assert_snapshot!(b.transcript());
}

#[test]
fn s6_3_2_udp_client_buffer_access_mode() {
    let mut b = Bench::default();
    b.host("AT+NETOPEN\r");
    b.host("AT+CIPRXGET=1\r");
    b.host("AT+CIPOPEN=1,\"UDP\",,,5000\r");
    let conn = b.last_conn();
    b.host("AT+CIPSEND=1,,\"117.131.85.139\",5254\r");
    b.host("HELLOSERVER\x1a");
    b.host("AT+CIPSEND=1,5,\"117.131.85.139\",5254\r");
    b.host("HELLO");
    b.datagram(conn, b"data from server");
    b.host("AT+CIPRXGET=4,1\r");
    b.host("AT+CIPRXGET=2,1,5\r");
    b.host("AT+CIPRXGET=3,1,5\r");
    b.host("AT+CIPRXGET=4,1\r");
    b.host("AT+CIPRXGET=2,2\r");
    b.host("AT+CIPRXGET=2,1\r");
    b.host("AT+CIPRXGET=4,1\r");
    b.host("AT+CIPCLOSE=1\r");
    insta::assert_snapshot!(b.transcript());
}

#[test]
fn s6_6_query_connection_status() {
    let mut b = Bench::default();
    b.netopen();
    b.host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r");
    b.host("AT+CIPOPEN?\r");
    b.host("AT+CIPCLOSE?\r");
    b.host("AT+CIPCLOSE=1\r");
    b.host("AT+CIPCLOSE?\r");
    insta::assert_snapshot!(b.transcript());
}
