//! The serial front end: one modem on a real serial port (or anything that is a tty).
//!
//! 8N1 at the given speed, RTS/CTS hardware flow control on request, and the host's DTR
//! read from the line (see [`crate::lines`]).

use crate::driver::{Driver, Stop};
use crate::lines;
use crate::netstack::NetSpec;
use crate::record::Recorder;
use anyhow::{bail, Context, Result};
use at7600_core::ModemConfig;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;
use tokio::sync::watch;
use tokio_serial::{DataBits, FlowControl, Parity, SerialStream, StopBits};

/// The line speed when `--baud` is not given (the manual's `CONNECT 115200`).
pub const DEFAULT_BAUD: u32 = 115_200;

/// How the port is set up.
#[derive(Debug, Clone)]
pub struct SerialOptions {
    /// Line speed in bit/s.
    pub baud: u32,
    /// RTS/CTS hardware flow control.
    pub rtscts: bool,
}

/// Runs one modem on the serial port until shutdown; fails if the port fails. With
/// `record`, the session is written there (see `docs/recording.md`).
pub async fn serve(
    device: &Path,
    options: &SerialOptions,
    config: ModemConfig,
    network: NetSpec,
    record: Option<&Path>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<()> {
    let recorder = Recorder::open(record, "serial", &config)?;
    let name = device.to_string_lossy().into_owned();
    let flow = if options.rtscts {
        FlowControl::Hardware
    } else {
        FlowControl::None
    };
    let builder = tokio_serial::new(name.as_str(), options.baud)
        .data_bits(DataBits::Eight)
        .parity(Parity::None)
        .stop_bits(StopBits::One)
        .flow_control(flow);
    let mut port =
        SerialStream::open(&builder).with_context(|| format!("cannot open serial port {name}"))?;
    // SAFETY: the descriptor is open while `port` lives, which outlasts this borrow.
    let fd = unsafe { BorrowedFd::borrow_raw(port.as_raw_fd()) };
    let lines = lines::watch(fd, &name);
    // Made (and registered with the control API) before the ready line, which also
    // tells a service manager the daemon is ready.
    let mut driver = Driver::new(config, &network, recorder);
    crate::service::ready_line(&format!(
        "at7600: modem ready on serial {name} at {} baud{}",
        options.baud,
        if options.rtscts { " with RTS/CTS" } else { "" }
    ));
    let mut dtr = match lines {
        Some((initial, changes)) => {
            if !initial {
                driver.dtr(false);
            }
            Some(changes)
        }
        None => None,
    };
    match driver
        .run_with_dtr(&mut port, dtr.as_mut(), &mut shutdown)
        .await
    {
        Stop::Shutdown => Ok(()),
        // A serial port does not end; it fails (unplugged, or the far end of a PTY gone).
        Stop::HostClosed => bail!("serial port {name} failed or closed"),
    }
}
