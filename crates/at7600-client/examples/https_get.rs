//! HTTPS GET of a page through the module's SSL socket set (`AT+CCH*`): the module
//! runs TLS, the host sees plaintext. With a CA file the server is verified
//! (authmode 1, SNI on); without one nothing is checked (authmode 0).
//!
//! `cargo run -p at7600-client --example https_get -- tcp:127.0.0.1:7700 localhost:8443 cert.pem`

#[path = "common/line.rs"]
mod line;

use at7600_client::{AuthMode, Config, SslContext, TlsOptions, TlsStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(modem_at), Some(server)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: https_get tcp:HOST:PORT|DEVICE HOST:PORT [CA.pem]");
        std::process::exit(2);
    };
    let (host, port) = server.rsplit_once(':').ok_or("HOST:PORT")?;
    let modem = line::open(modem_at, Config::default()).await?;
    let mut ctx = SslContext::default();
    if let Some(ca) = args.get(3) {
        // Modules have no trust store of their own: the CA goes into theirs.
        modem.cert_download("ca.pem", &std::fs::read(ca)?).await?;
        ctx = SslContext {
            auth: AuthMode::Server,
            ca_cert: "ca.pem".into(),
            sni: true,
            ..ctx
        };
    }
    modem.ssl_configure(0, &ctx).await?;
    let mut stream =
        TlsStream::connect(&modem, host, port.parse()?, &TlsOptions::default()).await?;
    let request = format!("GET / HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    // The server's close is the end of the page; what the module cached stays readable.
    let mut page = Vec::new();
    stream.read_to_end(&mut page).await?;
    print!("{}", String::from_utf8_lossy(&page));
    stream.close().await?;
    Ok(())
}
