//! The `roomgate` binary: parse the command line, set up logging, call the library,
//! turn the outcome into an exit code (0 ok, 1 failed, 2 usage).

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;
use roomgate::cli::{Cli, Command};
use roomgate::syslog::Syslog;
use roomgate::{Config, Server};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::{Registry, reload};

fn main() -> ExitCode {
    // Usage errors exit with 2 inside `parse`.
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roomgate: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    let config = cli.load_config()?;
    // Only the service sends to a syslog collector; the console's changes are
    // audited by the service when it sees them.
    let syslog = match &cli.command {
        Command::Serve { .. } => Syslog::start(&config).context("cannot start the syslog output")?,
        _ => None,
    };
    let log_level = init_logging(&config, cli.global.log_level.as_deref(), syslog.as_ref())?;
    match &cli.command {
        Command::Serve { .. } => {
            let served = serve(config, log_level);
            // The last audit events (the stop itself) still reach a connected collector.
            if let Some(syslog) = &syslog {
                syslog.flush(std::time::Duration::from_secs(2));
            }
            served
        }
        other => {
            let stdout = std::io::stdout();
            roomgate::cli::run_local(other, &config, &mut stdout.lock())?;
            Ok(())
        }
    }
}

fn serve(config: Config, log_level: Option<LevelHandle>) -> anyhow::Result<()> {
    // Blocking work is password hashing (bounded by limits.hash_concurrency) and
    // state writes (serialised by the store lock): one thread per hash and one for
    // writes. More would only wait on the store lock, and each thread that ever
    // allocates keeps a glibc arena of its own for the process's life (five threads
    // after a burst of logins held 0.6 MiB more than two; docs/PERFORMANCE.md).
    // tokio's default of 512 would let a burst of writes spawn hundreds.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("roomgate")
        .max_blocking_threads(config.start.hash_concurrency + 1)
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let mut server = Server::bind(config).await.context("cannot start the service")?;
        if let Some(handle) = log_level {
            server.on_reload(std::sync::Arc::new(move |config: &Config| {
                set_log_level(&handle, &config.log.level)
            }));
        }
        roomgate::run_until_signal(server).await;
        anyhow::Ok(())
    })
}

/// Changes the log filter of a running service.
type LevelHandle = reload::Handle<Targets, Registry>;

/// Set up logging: stderr at the configured level and, when configured, the
/// syslog layer with its own filter (the level never hides an audit event from
/// the collector). Returns a handle for changing the level on a reload when the
/// level comes from the config file (`RUST_LOG` and `--log-level` win, and stay).
fn init_logging(
    config: &Config,
    cli_level: Option<&str>,
    syslog: Option<&Syslog>,
) -> anyhow::Result<Option<LevelHandle>> {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    // `level` or `target=level,…`, as RUST_LOG usually reads; RUST_LOG wins.
    let (filter, from_config): (Targets, bool) = match std::env::var("RUST_LOG") {
        Ok(f) if !f.trim().is_empty() => (f.parse().context("RUST_LOG is not a valid filter")?, false),
        _ => (
            cli_level
                .unwrap_or(&config.log.level)
                .parse()
                .context("--log-level is not a valid level or filter")?,
            cli_level.is_none(),
        ),
    };
    let (filter, handle) = reload::Layer::new(filter);
    // Colour only on a terminal: journald and log files get plain text.
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if config.start.log_format == roomgate::LogFormat::Json {
        let stderr = fmt.json().with_filter(filter);
        let syslog = syslog.map(Syslog::layer);
        tracing_subscriber::registry().with(stderr).with(syslog).init();
    } else {
        let syslog = syslog.map(Syslog::layer);
        tracing_subscriber::registry()
            .with(fmt.with_filter(filter))
            .with(syslog)
            .init();
    }
    Ok(from_config.then_some(handle))
}

fn set_log_level(handle: &LevelHandle, level: &str) {
    // The config check already accepted the level, so this parse does not fail.
    if let Ok(filter) = level.parse::<Targets>()
        && handle.reload(filter).is_err()
    {
        tracing::warn!("cannot change the log level");
    }
}
