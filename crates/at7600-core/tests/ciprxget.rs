//! `AT+CIPRXGET` modes 0-4 and direct push (manual §2.5; clarifications §4, §9;
//! behaviour.md "Receiving").
mod common;
use at7600_core::NetEvent;
use common::Bench;

/// Network open, buffer access mode, TCP link 1 open, echo off.
fn buffered() -> (Bench, at7600_core::ConnId) {
    let mut b = Bench::quiet();
    b.netopen();
    b.host("AT+CIPRXGET=1\r");
    let conn = b.open_tcp(1);
    (b, conn)
}

#[test]
fn ciprxget_test_form() {
    let mut b = Bench::quiet();
    assert_eq!(
        b.host("AT+CIPRXGET=?\r"),
        r"\r\n+CIPRXGET: (0-4),(0-9),(1-1500)\r\n\r\nOK\r\n"
    );
}

#[test]
fn ciprxget_read_form_shows_the_mode() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CIPRXGET?\r"), r"\r\n+CIPRXGET: 0\r\n\r\nOK\r\n");
    b.host("AT+CIPRXGET=1\r");
    assert_eq!(b.host("AT+CIPRXGET?\r"), r"\r\n+CIPRXGET: 1\r\n\r\nOK\r\n");
}

#[test]
fn ciprxget_1_is_accepted_before_netopen_and_repeatedly() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CIPRXGET=1\r"), r"\r\nOK\r\n");
    assert_eq!(b.host("AT+CIPRXGET=1\r"), r"\r\nOK\r\n");
    b.netopen();
    assert_eq!(b.host("AT+CIPRXGET=1\r"), r"\r\nOK\r\n");
}

#[test]
fn ciprxget_bad_mode_and_execute_are_error() {
    let mut b = Bench::quiet();
    assert_eq!(b.host("AT+CIPRXGET=5\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CIPRXGET\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CIPRXGET=1,1\r"), r"\r\nERROR\r\n");
}

#[test]
fn ciprxget_2_to_4_while_mode_0_is_error() {
    let mut b = Bench::quiet();
    b.netopen();
    let conn = b.open_tcp(1);
    b.data(conn, b"x");
    assert_eq!(b.host("AT+CIPRXGET=2,1\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CIPRXGET=3,1\r"), r"\r\nERROR\r\n");
    assert_eq!(b.host("AT+CIPRXGET=4,1\r"), r"\r\nERROR\r\n");
}

#[test]
fn ciprxget_urc_only_when_the_buffer_goes_from_empty_to_non_empty() {
    let (mut b, conn) = buffered();
    assert_eq!(b.data(conn, b"one"), r"\r\n+CIPRXGET: 1,1\r\n");
    assert_eq!(b.data(conn, b"two"), "");
    assert_eq!(
        b.host("AT+CIPRXGET=2,1,2\r"),
        r"\r\n+CIPRXGET: 2,1,2,4\r\non\r\nOK\r\n"
    );
    assert_eq!(b.data(conn, b"three"), "");
    assert_eq!(
        b.host("AT+CIPRXGET=2,1\r"),
        r"\r\n+CIPRXGET: 2,1,9,0\r\netwothree\r\nOK\r\n"
    );
    assert_eq!(b.data(conn, b"four"), r"\r\n+CIPRXGET: 1,1\r\n");
}

#[test]
fn ciprxget_2_reads_raw_bytes_exactly() {
    let (mut b, conn) = buffered();
    b.data(conn, b"\r\nOK\r\n\x00\xff");
    assert_eq!(
        b.host("AT+CIPRXGET=2,1\r"),
        r"\r\n+CIPRXGET: 2,1,8,0\r\n\r\nOK\r\n\x00\xFF\r\nOK\r\n"
    );
}

#[test]
fn ciprxget_3_reads_upper_case_hex() {
    let (mut b, conn) = buffered();
    b.data(conn, b"\x00\xab\xff");
    assert_eq!(
        b.host("AT+CIPRXGET=3,1\r"),
        r"\r\n+CIPRXGET: 3,1,3,0\r\n00ABFF\r\nOK\r\n"
    );
}

#[test]
fn ciprxget_2_default_and_max_length_is_1500() {
    let (mut b, conn) = buffered();
    b.data(conn, &[b'a'; 2000]);
    let out = b.host("AT+CIPRXGET=2,1\r");
    assert!(
        out.starts_with(r"\r\n+CIPRXGET: 2,1,1500,500\r\naaa"),
        "{out}"
    );
    assert_eq!(
        out.len(),
        r"\r\n+CIPRXGET: 2,1,1500,500\r\n".len() + 1500 + r"\r\nOK\r\n".len()
    );
    assert_eq!(
        b.host("AT+CIPRXGET=2,1,1501\r"),
        r"\r\n+IP ERROR: Invalid parameter\r\n\r\nERROR\r\n"
    );
}

#[test]
fn ciprxget_3_default_and_max_length_is_750() {
    let (mut b, conn) = buffered();
    b.data(conn, &[0x11; 1000]);
    let out = b.host("AT+CIPRXGET=3,1\r");
    assert_eq!(
        out,
        format!(
            r"\r\n+CIPRXGET: 3,1,750,250\r\n{}\r\nOK\r\n",
            "11".repeat(750)
        )
    );
    assert_eq!(
        b.host("AT+CIPRXGET=3,1,751\r"),
        r"\r\n+IP ERROR: Invalid parameter\r\n\r\nERROR\r\n"
    );
}

#[test]
fn ciprxget_length_0_is_ip_error_invalid_parameter() {
    let (mut b, conn) = buffered();
    b.data(conn, b"abc");
    assert_eq!(
        b.host("AT+CIPRXGET=2,1,0\r"),
        r"\r\n+IP ERROR: Invalid parameter\r\n\r\nERROR\r\n"
    );
}

#[test]
fn ciprxget_link_out_of_range_is_ip_error_invalid_parameter() {
    let (mut b, _) = buffered();
    assert_eq!(
        b.host("AT+CIPRXGET=2,10\r"),
        r"\r\n+IP ERROR: Invalid parameter\r\n\r\nERROR\r\n"
    );
}

#[test]
fn ciprxget_empty_buffer_is_ip_error_no_data() {
    let (mut b, _) = buffered();
    assert_eq!(
        b.host("AT+CIPRXGET=2,1\r"),
        r"\r\n+IP ERROR: No data\r\n\r\nERROR\r\n"
    );
    assert_eq!(
        b.host("AT+CIPRXGET=3,1\r"),
        r"\r\n+IP ERROR: No data\r\n\r\nERROR\r\n"
    );
}

#[test]
fn ciprxget_4_on_an_empty_open_link_is_0() {
    let (mut b, _) = buffered();
    assert_eq!(
        b.host("AT+CIPRXGET=4,1\r"),
        r"\r\n+CIPRXGET: 4,1,0\r\n\r\nOK\r\n"
    );
}

#[test]
fn ciprxget_4_on_a_link_not_established_is_ip_error_no_data() {
    let (mut b, _) = buffered();
    assert_eq!(
        b.host("AT+CIPRXGET=4,2\r"),
        r"\r\n+IP ERROR: No data\r\n\r\nERROR\r\n"
    );
}

#[test]
fn ciprxget_udp_reads_never_merge_datagrams() {
    let mut b = Bench::quiet();
    b.netopen();
    b.host("AT+CIPRXGET=1\r");
    let conn = b.open_udp(1);
    assert_eq!(b.datagram(conn, b"hello"), r"\r\n+CIPRXGET: 1,1\r\n");
    assert_eq!(b.datagram(conn, b"world!"), "");
    assert_eq!(
        b.host("AT+CIPRXGET=4,1\r"),
        r"\r\n+CIPRXGET: 4,1,11\r\n\r\nOK\r\n"
    );
    assert_eq!(
        b.host("AT+CIPRXGET=2,1,100\r"),
        r"\r\n+CIPRXGET: 2,1,5,6\r\nhello\r\nOK\r\n"
    );
    assert_eq!(
        b.host("AT+CIPRXGET=2,1,3\r"),
        r"\r\n+CIPRXGET: 2,1,3,3\r\nwor\r\nOK\r\n"
    );
    assert_eq!(
        b.host("AT+CIPRXGET=3,1\r"),
        r"\r\n+CIPRXGET: 3,1,3,0\r\n6C6421\r\nOK\r\n"
    );
}

#[test]
fn ciprxget_data_stays_readable_after_the_peer_closed() {
    let (mut b, conn) = buffered();
    b.data(conn, b"last words");
    assert_eq!(
        b.event(NetEvent::PeerClosed { conn }),
        r"\r\n+IPCLOSE: 1,1\r\n"
    );
    assert_eq!(
        b.host("AT+CIPRXGET=2,1,5\r"),
        r"\r\n+CIPRXGET: 2,1,5,5\r\nlast \r\nOK\r\n"
    );
    assert_eq!(
        b.host("AT+CIPRXGET=2,1\r"),
        r"\r\n+CIPRXGET: 2,1,5,0\r\nwords\r\nOK\r\n"
    );
    // Drained: the link is free again.
    assert!(b.host("AT+CIPOPEN?\r").contains(r"\r\n+CIPOPEN: 1\r\n"));
    assert!(b
        .host("AT+CIPOPEN=1,\"TCP\",\"117.131.85.139\",5253\r")
        .ends_with(r"\r\n+CIPOPEN: 1,0\r\n"));
}

#[test]
fn ciprxget_0_flushes_buffered_data_as_push_in_1500_byte_chunks() {
    let (mut b, conn) = buffered();
    let data: Vec<u8> = (0..4000u32).map(|i| b'a' + (i % 26) as u8).collect();
    b.data(conn, &data);
    let out = b.host("AT+CIPRXGET=0\r");
    let show = common::show;
    let expect = format!(
        r"\r\nOK\r\n\r\nRECV FROM:117.131.85.139:5253\r\n+IPD1500\r\n{}\r\nRECV FROM:117.131.85.139:5253\r\n+IPD1500\r\n{}\r\nRECV FROM:117.131.85.139:5253\r\n+IPD1000\r\n{}",
        show(&data[..1500]),
        show(&data[1500..3000]),
        show(&data[3000..])
    );
    assert_eq!(out, expect);
    assert_eq!(b.host("AT+CIPRXGET?\r"), r"\r\n+CIPRXGET: 0\r\n\r\nOK\r\n");
}

#[test]
fn direct_push_splits_reads_over_1500_bytes() {
    let mut b = Bench::quiet();
    b.netopen();
    let conn = b.open_tcp(1);
    let data = vec![b'z'; 2000];
    let out = b.data(conn, &data);
    assert_eq!(
        out,
        format!(
            r"\r\nRECV FROM:117.131.85.139:5253\r\n+IPD1500\r\n{}\r\nRECV FROM:117.131.85.139:5253\r\n+IPD500\r\n{}",
            "z".repeat(1500),
            "z".repeat(500)
        )
    );
}

#[test]
fn direct_push_of_a_udp_datagram_names_its_sender() {
    let mut b = Bench::quiet();
    b.netopen();
    let conn = b.open_udp(1);
    assert_eq!(
        b.event(NetEvent::Datagram {
            conn,
            from: "9.8.7.6:4321".parse().expect("addr"),
            data: b"hi".to_vec()
        }),
        r"\r\nRECV FROM:9.8.7.6:4321\r\n+IPD2\r\nhi"
    );
}

fn pauses(b: &Bench) -> Vec<String> {
    b.log
        .iter()
        .filter_map(|c| match c {
            at7600_core::NetCommand::PauseRead { conn } => Some(format!("pause {conn}")),
            at7600_core::NetCommand::ResumeRead { conn } => Some(format!("resume {conn}")),
            _ => None,
        })
        .collect()
}

#[test]
fn buffer_mode_link_stops_reading_at_64_kib_and_resumes_at_half() {
    let (mut b, conn) = buffered();
    b.data(conn, &vec![7u8; 65535]);
    assert!(pauses(&b).is_empty());
    b.data(conn, &[7u8; 1]);
    assert_eq!(pauses(&b), [format!("pause {conn}")]);
    // Nothing received is dropped, even past the limit.
    b.data(conn, &[8u8; 10]);
    assert_eq!(
        b.host("AT+CIPRXGET=4,1\r"),
        r"\r\n+CIPRXGET: 4,1,65546\r\n\r\nOK\r\n"
    );
    // Read down to just above half: still paused; one more read resumes.
    for _ in 0..21 {
        b.host("AT+CIPRXGET=2,1\r");
    }
    assert_eq!(
        b.host("AT+CIPRXGET=4,1\r"),
        r"\r\n+CIPRXGET: 4,1,34046\r\n\r\nOK\r\n"
    );
    assert_eq!(pauses(&b).len(), 1);
    b.host("AT+CIPRXGET=2,1\r");
    assert_eq!(
        pauses(&b),
        [format!("pause {conn}"), format!("resume {conn}")]
    );
}

#[test]
fn direct_push_stops_every_link_while_the_host_is_not_reading() {
    let mut b = Bench::quiet();
    b.netopen();
    let c1 = b.open_tcp(1);
    let c2 = b.open_tcp(2);
    // The host stops reading: feed the modem directly and leave its output alone.
    // Each report is 1500 bytes plus a 44-byte header: 42 fit in 64 KiB, 43 do not.
    for _ in 0..42 {
        b.modem.handle_net(
            b.now,
            NetEvent::Data {
                conn: c1,
                data: vec![1; 1500],
            },
        );
    }
    let mut cmds = Vec::new();
    while let Some(c) = b.modem.poll_net() {
        cmds.push(c);
    }
    assert!(cmds.is_empty(), "{cmds:?}");
    b.modem.handle_net(
        b.now,
        NetEvent::Data {
            conn: c1,
            data: vec![1; 1500],
        },
    );
    while let Some(c) = b.modem.poll_net() {
        cmds.push(c);
    }
    use at7600_core::NetCommand::{PauseRead, ResumeRead};
    assert_eq!(cmds, [PauseRead { conn: c1 }, PauseRead { conn: c2 }]);
    // The host reads everything: both links resume, and every byte was kept.
    let mut total = 0;
    loop {
        let n = b.modem.host_output().len();
        if n == 0 {
            break;
        }
        total += b.modem.host_output().iter().filter(|&&x| x == 1).count();
        b.modem.consume_host_output(n);
    }
    assert_eq!(total, 43 * 1500);
    let mut cmds = Vec::new();
    while let Some(c) = b.modem.poll_net() {
        cmds.push(c);
    }
    assert_eq!(cmds, [ResumeRead { conn: c1 }, ResumeRead { conn: c2 }]);
}
