//! UDP exchange: one datagram to a peer, one answer back.
//!
//! `cargo run -p at7600-client --example udp_exchange -- tcp:127.0.0.1:7700 127.0.0.1:5555 5000`

#[path = "common/line.rs"]
mod line;

use at7600_client::{Config, UdpSocket};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(modem_at), Some(peer)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: udp_exchange tcp:HOST:PORT|DEVICE PEER_IP:PORT [LOCAL_PORT]");
        std::process::exit(2);
    };
    let local: u16 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(5000);
    let modem = line::open(modem_at, Config::default()).await?;
    modem.net_open().await?;
    let sock = UdpSocket::bind(&modem, local).await?;
    sock.send_to(b"HELLOSERVER", peer.parse()?).await?;
    let mut buf = [0u8; 1500];
    let (n, from) =
        tokio::time::timeout(Duration::from_secs(10), sock.recv_from(&mut buf)).await??;
    println!(
        "{n} bytes from {from:?}: {}",
        String::from_utf8_lossy(&buf[..n])
    );
    drop(sock);
    modem.net_close().await?;
    Ok(())
}
