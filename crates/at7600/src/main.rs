//! `at7600`: the AT7600 modem daemon. See `at7600 serve --help`.
#![warn(missing_docs)]

use anyhow::{Context, Result};
use at7600::cli::{Cli, Command, NetworkKind, ServeArgs};
use at7600::netstack::{Backend, NetSpec};
use at7600::{config, control, ctl, probe, pty, replay, serial, stdio, tcp};
use at7600_net::RealNetwork;
use clap::Parser;
use std::path::PathBuf;
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

fn main() -> Result<()> {
    let args = match Cli::parse().command {
        Command::Serve(args) => *args,
        Command::Ctl(args) => return ctl::run(&args),
        Command::Probe(args) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            let code = runtime.block_on(probe::run(args))?;
            std::process::exit(code);
        }
        Command::Replay(args) => std::process::exit(replay::run(&args.file)),
    };
    // clap waives `requires` when a conflicting front end (--tcp, ...) is given.
    if args.serial.is_none() && (args.baud.is_some() || args.rtscts) {
        anyhow::bail!("--baud and --rtscts need --serial");
    }
    let file = match &args.config {
        Some(path) => config::FileConfig::load(path)?,
        None => config::FileConfig::default(),
    };
    let settings = config::resolve(file, &args.settings)?;
    init_logging(settings.log_level.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args, settings))
}

/// Logs go to stderr (stdout belongs to the ready line, or to the modem with --stdio).
fn init_logging(level: Option<&str>) -> Result<()> {
    let filter = match level {
        Some(level) => {
            EnvFilter::try_new(level).with_context(|| format!("bad log level {level:?}"))?
        }
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    Ok(())
}

async fn serve(args: ServeArgs, settings: config::Settings) -> Result<()> {
    let backend = match args.network {
        NetworkKind::Real => Backend::Real(RealNetwork::new(settings.net)),
        NetworkKind::Sim => {
            let mut sim = settings.sim;
            sim.modem_ip = settings.net.modem_ip;
            Backend::Sim(sim)
        }
    };
    // Kept to wait, after the front end, for the connections' last flushes.
    let real = match &backend {
        Backend::Real(network) => Some(network.clone()),
        Backend::Sim(_) => None,
    };
    tracing::info!(network = ?args.network, link = ?settings.link, "network");
    let control = match args.control {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} for the control API"))?;
            let bound = listener.local_addr()?;
            tracing::info!(%bound, "control API");
            eprintln!("at7600: control API on http://{bound}");
            let registry = std::sync::Arc::new(control::Registry::default());
            tokio::spawn(control::serve(listener, registry.clone()));
            Some(registry)
        }
        None => None,
    };
    let front_end = if args.stdio {
        "stdio"
    } else if args.tcp.is_some() {
        "tcp"
    } else if args.serial.is_some() {
        "serial"
    } else {
        "pty"
    };
    let network = NetSpec {
        backend,
        link: settings.link,
        seed: settings.seed,
        faults: settings.faults,
        control,
        front_end,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
        // Keep the sender alive so that receivers see `true`, not a closed channel.
        std::future::pending::<()>().await;
    });
    let record = args.record.as_deref();
    let result = if args.stdio {
        stdio::serve(settings.modem, network, record, stop_rx).await
    } else if let Some(addr) = args.tcp {
        tcp::serve(addr, settings.modem, network, record, stop_rx).await
    } else if let Some(device) = &args.serial {
        let options = serial::SerialOptions {
            baud: args.baud.unwrap_or(serial::DEFAULT_BAUD),
            rtscts: args.rtscts,
        };
        serial::serve(device, &options, settings.modem, network, record, stop_rx).await
    } else {
        let link = args
            .pty
            .clone()
            .unwrap_or_else(|| PathBuf::from("./ttyAT0"));
        pty::serve(&link, settings.modem, network, record, stop_rx).await
    };
    tracing::debug!("front end ended");
    if let Some(network) = real {
        network.shutdown().await;
    }
    result
}

/// Ctrl-C or SIGTERM.
async fn wait_for_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => Some(term),
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch SIGTERM");
            None
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        Some(_) = async { match term.as_mut() { Some(t) => t.recv().await, None => std::future::pending().await } } => {}
    }
}
