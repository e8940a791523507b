//! Opening the line named on the command line: `tcp:HOST:PORT` (a daemon started with
//! `at7600 serve --tcp`) or a PTY/serial device path (assumed already at the right
//! speed, e.g. with `stty`).

use at7600_client::{Config, Modem, Result};

/// Opens the modem on `what` with `config`.
pub async fn open(what: &str, config: Config) -> Result<Modem> {
    // RUST_LOG=at7600_client=trace shows every command and byte on the line.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    if let Some(addr) = what.strip_prefix("tcp:") {
        let line = tokio::net::TcpStream::connect(addr).await?;
        line.set_nodelay(true)?;
        Modem::open(line, config).await
    } else {
        let file = tokio::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(what)
            .await?;
        Modem::open(file, config).await
    }
}
