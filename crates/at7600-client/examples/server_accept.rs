//! A server on the module: accepts one connection, greets it, echoes one read.
//!
//! `cargo run -p at7600-client --example server_accept -- tcp:127.0.0.1:7700 8080`
//! then e.g. `nc 127.0.0.1 8080` (the daemon's servers listen on its --server-bind).

#[path = "common/line.rs"]
mod line;

use at7600_client::{Config, TcpListener};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(modem_at), Some(port)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: server_accept tcp:HOST:PORT|DEVICE PORT");
        std::process::exit(2);
    };
    let modem = line::open(modem_at, Config::default()).await?;
    modem.net_open().await?;
    let mut listener = TcpListener::bind(&modem, port.parse()?, 0).await?;
    println!("listening on the module's port {port}");
    let (mut stream, peer) = listener.accept().await?;
    println!("client {peer} on link {}", stream.link());
    stream.write_all(b"HELLO\r\n").await?;
    let mut buf = [0u8; 1500];
    let n = stream.read(&mut buf).await?;
    stream.write_all(&buf[..n]).await?;
    stream.close().await?;
    drop(listener);
    modem.net_close().await?;
    Ok(())
}
