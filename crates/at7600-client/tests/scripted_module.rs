//! The driver against a scripted module on an in-memory line, for orderings a real
//! network produces only now and then: here they happen every time.
use at7600_client::{Config, Modem, TcpStream};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// A module that answers initialisation, and answers `AT+CIPOPEN` with the open report
/// and, in the same write, data arriving and the peer closing (as a peer that sends
/// one line and hangs up at once does). The buffered bytes are then read out.
fn module_that_opens_and_closes_at_once(line: tokio::io::DuplexStream) {
    tokio::spawn(async move {
        let (rx, mut tx) = tokio::io::split(line);
        let mut lines = BufReader::new(rx).split(b'\r');
        let mut drained = false;
        while let Ok(Some(line)) = lines.next_segment().await {
            let line = line.trim_ascii();
            let reply: &[u8] = if line == b"AT+CPIN?" {
                b"\r\n+CPIN: READY\r\n\r\nOK\r\n"
            } else if line == b"AT+CREG?" {
                b"\r\n+CREG: 0,1\r\n\r\nOK\r\n"
            } else if line == b"AT+NETOPEN" {
                b"\r\nOK\r\n\r\n+NETOPEN: 0\r\n"
            } else if line.starts_with(b"AT+CIPOPEN=0,") {
                b"\r\nOK\r\n\r\n+CIPOPEN: 0,0\r\n\r\n+CIPRXGET: 1,0\r\n\r\n+IPCLOSE: 0,1\r\n"
            } else if line.starts_with(b"AT+CIPRXGET=2,0") && !drained {
                drained = true;
                b"\r\n+CIPRXGET: 2,0,3,0\r\nbye\r\nOK\r\n"
            } else if line.starts_with(b"AT+CIPRXGET=2") || line.starts_with(b"AT+CIPRXGET=4") {
                b"\r\n+IP ERROR: No data\r\n\r\nERROR\r\n"
            } else {
                b"\r\nOK\r\n"
            };
            if tx.write_all(reply).await.is_err() {
                return;
            }
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_reported_right_behind_the_open_is_eof_after_the_data() {
    let (host, module) = tokio::io::duplex(4096);
    module_that_opens_and_closes_at_once(module);
    let run = async {
        let modem = Modem::open(host, Config::default()).await.expect("opens");
        modem.net_open().await.expect("net open");
        let mut s = TcpStream::connect(&modem, "127.0.0.1", 7)
            .await
            .expect("connects");
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.expect("reads to EOF");
        got
    };
    let got = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("EOF comes; the close was not forgotten");
    assert_eq!(got, b"bye");
}
