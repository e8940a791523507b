//! The stdio front end: one modem on standard input/output.

use crate::driver::{Driver, Stop};
use crate::netstack::NetSpec;
use crate::record::Recorder;
use anyhow::Result;
use at7600_core::ModemConfig;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf, Stdin, Stdout};
use tokio::sync::watch;

/// Runs one modem on stdin/stdout until stdin ends or shutdown; then flushes what the
/// modem still has for the host and closes its links.
/// With `record`, the session is written there (see `docs/recording.md`).
pub async fn serve(
    config: ModemConfig,
    network: NetSpec,
    record: Option<&Path>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<()> {
    let recorder = Recorder::open(record, "stdio", &config)?;
    tracing::info!("modem ready on stdio");
    let mut host = StdioHost {
        stdin: tokio::io::stdin(),
        stdout: tokio::io::stdout(),
    };
    let mut driver = Driver::new(config, &network, recorder);
    let stop = driver.run(&mut host, &mut shutdown).await;
    tracing::debug!(?stop, "stdio modem ending");
    driver
        .flush_output(&mut host.stdout, Duration::from_secs(2))
        .await;
    if stop == Stop::HostClosed {
        tracing::info!("stdin closed");
    }
    Ok(())
}

/// stdin and stdout as one duplex stream.
struct StdioHost {
    stdin: Stdin,
    stdout: Stdout,
}

impl AsyncRead for StdioHost {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stdin).poll_read(cx, buf)
    }
}

impl AsyncWrite for StdioHost {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stdout).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stdout).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stdout).poll_shutdown(cx)
    }
}
