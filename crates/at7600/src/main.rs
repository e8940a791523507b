//! `at7600`: the AT7600 modem daemon. See `at7600 serve --help`.
#![warn(missing_docs)]

use anyhow::{Context, Result};
use at7600::cli::{Cli, Command, Generated, LogFormat, NetworkKind, ServeArgs};
use at7600::identity::{self, IdentityRange};
use at7600::netstack::{Backend, NetSpec};
use at7600::service::{self, Reload};
use at7600::workers::Workers;
use at7600::{config, control, ctl, probe, pty, replay, serial, stdio, tcp};
use at7600_net::RealNetwork;
use clap::{CommandFactory, Parser};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

/// A user's mistake (bad flag value, unreachable daemon, bad config) is one line on
/// standard error and exit code 2 — never a backtrace, whatever RUST_BACKTRACE says.
fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("at7600: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<ExitCode> {
    let args = match Cli::parse().command {
        Command::Serve(args) => *args,
        Command::Ctl(args) => return ctl::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Probe(args) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            let code = runtime.block_on(probe::run(args))?;
            return Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)));
        }
        Command::Replay(args) => {
            return Ok(ExitCode::from(
                u8::try_from(replay::run(&args.file)).unwrap_or(2),
            ))
        }
        Command::Generate(args) => return generate(&args.what).map(|()| ExitCode::SUCCESS),
    };
    // clap waives `requires` when a conflicting front end (--tcp, ...) is given.
    if args.serial.is_none() && (args.baud.is_some() || args.rtscts) {
        anyhow::bail!("--baud and --rtscts need --serial");
    }
    let file = match &args.config {
        Some(path) => config::FileConfig::load(path)?,
        None => config::FileConfig::default(),
    };
    file.check_network(args.network == NetworkKind::Sim)?;
    let settings = config::resolve(file, &args.settings)?;
    init_logging(settings.log_level.as_deref(), args.trace, args.log_format)?;
    let identities = IdentityRange::new(
        args.identity_offset,
        args.identity_block,
        identity::hostname,
    )?;
    if args.tcp.is_none() && !args.stdio && args.serial.is_none() {
        identities.check_count(u64::from(args.count))?;
    }
    raise_descriptor_limit();
    // One thread for the front end, the control API and signals; a single modem lives
    // here too, with its links (no thread hops per exchange). Fleets run their modems on
    // one single-threaded runtime per core (see `workers`).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(serve(args, settings, identities));
    // Blocking-pool work still running (a name lookup in getaddrinfo, say) must not keep
    // a daemon that was told to stop alive: dropping the runtime would wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result?;
    Ok(ExitCode::SUCCESS)
}

/// `at7600 generate`: completions or the man page, from the CLI definition itself.
fn generate(what: &Generated) -> Result<()> {
    let mut command = Cli::command();
    let mut out = std::io::stdout().lock();
    match what {
        Generated::Completions { shell } => {
            clap_complete::generate(*shell, &mut command, "at7600", &mut out);
        }
        Generated::Man => clap_mangen::Man::new(command)
            .render(&mut out)
            .context("cannot write the man page")?,
    }
    Ok(())
}

/// Logs go to stderr (stdout belongs to the ready line, or to the modem with --stdio),
/// coloured only when stderr is a terminal. `trace` adds the AT traffic trace.
fn init_logging(level: Option<&str>, trace: bool, format: LogFormat) -> Result<()> {
    let mut filter = match level {
        Some(level) => EnvFilter::try_new(level)
            .with_context(|| format!("bad log level {level:?} (e.g. info, debug, at7600=debug)"))?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    if trace {
        let directive = format!("{}=debug", at7600::trace::TARGET);
        filter = filter.add_directive(directive.parse().context("trace directive")?);
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder.json().init(),
    }
    Ok(())
}

async fn serve(
    args: ServeArgs,
    mut settings: config::Settings,
    identities: IdentityRange,
) -> Result<()> {
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
    tracing::info!(
        "network: {}, link profile {}",
        match args.network {
            NetworkKind::Real => "the host's",
            NetworkKind::Sim => "simulated",
        },
        describe_link(&settings.link)
    );
    let control = match args.control {
        Some(addr) => Some(control::start(addr, settings.control.clone()).await?.0),
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
    // The fault schedule, replaced on SIGHUP when there is a file to read it from. The
    // sender lives as long as the reload task, which is as long as the daemon.
    let (schedule, faults) = watch::channel::<service::Schedule>(settings.faults.into());
    if let Some(path) = args.config.clone() {
        let reload = Reload {
            path,
            flags: args.settings,
            sim: args.network == NetworkKind::Sim,
        };
        service::reload_on_hangup(reload, schedule);
    }
    let network = NetSpec {
        backend,
        link: settings.link,
        seed: settings.seed,
        faults,
        control,
        front_end,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let signalled = wait_for_signal();
    tokio::spawn(async move {
        signalled.await;
        tracing::info!("shutting down");
        service::stopping();
        let _ = stop_tx.send(true);
        // Keep the sender alive so that receivers see `true`, not a closed channel.
        std::future::pending::<()>().await;
    });
    let record = args.record.as_deref();
    // Fleets run their modems on one single-threaded runtime per core. The workers
    // outlive the front end: the links' flushes at shutdown run on them.
    let fleet = args.tcp.is_some() || args.count > 1;
    let workers = if fleet {
        Some(Workers::per_core()?)
    } else {
        None
    };
    // The range's first identity; the front ends count up from it (the TCP front end
    // within the range).
    let base = settings.modem.identity.clone();
    settings.modem.identity = base.nth(identities.first);
    let result = if args.stdio {
        stdio::serve(settings.modem, network, record, stop_rx).await
    } else if let (Some(addr), Some(workers)) = (args.tcp, &workers) {
        settings.modem.identity = base;
        tcp::serve(
            addr,
            settings.modem,
            identities,
            network,
            record,
            stop_rx,
            workers,
        )
        .await
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
        if let Some(workers) = &workers {
            // Counted up from the range's first identity: the whole fleet fits the
            // range (checked at startup), so nothing wraps.
            pty::serve_fleet(
                &link,
                args.count as usize,
                settings.modem,
                network,
                record,
                stop_rx,
                |modem| workers.spawn(modem),
            )
            .await
        } else {
            pty::serve(&link, settings.modem, network, record, stop_rx).await
        }
    };
    tracing::debug!("front end ended");
    if let Some(network) = real {
        network.shutdown().await;
    }
    drop(workers);
    result
}

/// A link profile as a user reads it (not a Rust debug dump).
fn describe_link(p: &at7600_net::LinkProfile) -> String {
    if *p == at7600_net::LinkProfile::default() {
        return "none".into();
    }
    let kbps = |k: u64| match k {
        0 => "unlimited".to_string(),
        k => format!("{k} kbit/s"),
    };
    format!(
        "round trip {} ms, jitter {} ms, down {}, up {}, setup {} ms, loss {}%",
        p.rtt_ms,
        p.jitter_ms,
        kbps(p.down_kbps),
        kbps(p.up_kbps),
        p.setup_ms,
        p.loss * 100.0
    )
}

/// Fleets need two descriptors per modem with a link: take the hard limit, which any
/// process may (the soft one is often 1024).
fn raise_descriptor_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < hard {
            if let Err(e) = setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
                tracing::debug!(error = %e, "cannot raise the descriptor limit");
            }
        }
    }
}

/// Ctrl-C (SIGINT) or SIGTERM. The handlers are installed by this call, not when the
/// returned future is first polled: a service manager may send SIGTERM as soon as the
/// ready line is out, and that must already mean a graceful shutdown, not the default
/// action that ends the process on the spot.
fn wait_for_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let watch = |kind: SignalKind, name: &str| match signal(kind) {
        Ok(stream) => Some(stream),
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch {name}");
            None
        }
    };
    let mut term = watch(SignalKind::terminate(), "SIGTERM");
    let mut int = watch(SignalKind::interrupt(), "SIGINT");
    async move {
        tokio::select! {
            Some(()) = next_signal(&mut int) => {}
            Some(()) = next_signal(&mut term) => {}
            // Both streams ended (the runtime is going away): nothing more will come.
            else => std::future::pending().await,
        }
    }
}

/// The next delivery of a watched signal; never, for one that could not be watched.
async fn next_signal(signal: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match signal {
        Some(signal) => signal.recv().await,
        None => std::future::pending().await,
    }
}
