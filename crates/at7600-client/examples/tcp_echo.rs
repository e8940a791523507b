//! TCP echo client: sends bytes through the module to an echo server and checks that
//! the same bytes come back.
//!
//! `cargo run -p at7600-client --example tcp_echo -- tcp:127.0.0.1:7700 127.0.0.1:7 [BYTES]`

#[path = "common/line.rs"]
mod line;

use at7600_client::{Config, TcpStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(modem_at), Some(peer)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: tcp_echo tcp:HOST:PORT|DEVICE ECHO_HOST:PORT [BYTES]");
        std::process::exit(2);
    };
    let size: usize = args
        .get(3)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10_000);
    let (host, port) = peer.rsplit_once(':').ok_or("ECHO_HOST:PORT")?;
    let modem = line::open(modem_at, Config::default()).await?;
    modem.net_open().await?;
    let stream = TcpStream::connect(&modem, host, port.parse()?).await?;
    let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let (mut r, mut w) = tokio::io::split(stream);
    let sent = data.clone();
    let writer = tokio::spawn(async move { w.write_all(&sent).await.map(|()| w) });
    let mut back = vec![0u8; size];
    r.read_exact(&mut back).await?;
    let w = writer.await??;
    r.unsplit(w).close().await?;
    modem.net_close().await?;
    println!(
        "{} bytes echoed {}",
        size,
        if back == data { "intact" } else { "CORRUPTED" }
    );
    Ok(())
}
