//! HTTP GET of a page through the module.
//!
//! `cargo run -p at7600-client --example http_get -- tcp:127.0.0.1:7700 127.0.0.1:8080 /`

#[path = "common/line.rs"]
mod line;

use at7600_client::{Config, TcpStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(modem_at), Some(server)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: http_get tcp:HOST:PORT|DEVICE HOST:PORT [PATH]");
        std::process::exit(2);
    };
    let path = args.get(3).map(String::as_str).unwrap_or("/");
    let (host, port) = server.rsplit_once(':').ok_or("HOST:PORT")?;
    let modem = line::open(modem_at, Config::default()).await?;
    modem.net_open().await?;
    let mut stream = TcpStream::connect(&modem, host, port.parse()?).await?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    // HTTP/1.0 with Connection: close: the server's close is the end of the page.
    let mut page = Vec::new();
    stream.read_to_end(&mut page).await?;
    print!("{}", String::from_utf8_lossy(&page));
    drop(stream);
    modem.net_close().await?;
    Ok(())
}
