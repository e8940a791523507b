//! The client examples' line opener (`crates/at7600-client/examples/common/line.rs`),
//! given a PTY path instead of a daemon address: it must talk to the modem, not hang.
mod common;

#[path = "../../at7600-client/examples/common/line.rs"]
mod line;

use at7600_client::{Config, TcpStream};
use common::client::{echo_server, run};
use common::PtyDaemon;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Longer than the modem's answer to any command here, shorter than the test's limit.
const ANSWER: Duration = Duration::from_secs(15);

#[test]
fn an_example_opens_a_pty_as_a_serial_port_and_echoes_through_it() {
    let daemon = PtyDaemon::start(&[]);
    let link = daemon.link.to_string_lossy().into_owned();
    run(async move {
        let modem = tokio::time::timeout(ANSWER, line::open(&link, Config::default()))
            .await
            .expect("the modem answers on the PTY (a file-opened tty hangs here)")
            .expect("modem initialises");
        modem.net_open().await.expect("NETOPEN");
        let port = echo_server().await;
        let mut stream = TcpStream::connect(&modem, "127.0.0.1", port)
            .await
            .expect("CIPOPEN");
        stream.write_all(b"through the PTY").await.expect("send");
        let mut back = [0u8; 15];
        stream.read_exact(&mut back).await.expect("echo");
        assert_eq!(&back, b"through the PTY");
        stream.close().await.expect("CIPCLOSE");
        modem.net_close().await.expect("NETCLOSE");
    });
}
