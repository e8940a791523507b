//! Opening the line named on the command line: `tcp:HOST:PORT` (a daemon started with
//! `at7600 serve --tcp`) or a PTY/serial device path, opened as a serial port at
//! `AT7600_BAUD` bit/s (115200 if unset; a PTY ignores the speed).

use at7600_client::{Config, Modem, Result};

/// The serial speed when `AT7600_BAUD` does not say otherwise.
const DEFAULT_BAUD: u32 = 115_200;

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
        // A tty opened as a file (tokio::fs) reads and writes through one blocking
        // thread: a pending read keeps every write waiting, and the modem never hears
        // the first command. A serial port is polled by the reactor both ways at once.
        use tokio_serial::SerialPortBuilderExt;
        let baud = std::env::var("AT7600_BAUD")
            .ok()
            .and_then(|b| b.parse().ok())
            .unwrap_or(DEFAULT_BAUD);
        let port = tokio_serial::new(what, baud)
            .open_native_async()
            .map_err(std::io::Error::from)?;
        Modem::open(port, config).await
    }
}
