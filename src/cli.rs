//! The command line: `serve` and the technician's commands.
//!
//! Every subcommand accepts `--config`, `--state-dir` and `--cert-dir`; `serve` also
//! takes `--listen`. Local commands work on the state files directly, through the
//! same store and lock as the running service, so they work whether or not the
//! service runs, and a running service picks their changes up within a second.
//!
//! Exit codes: 0 success, 1 failure, 2 usage error.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, ConfigError, Overrides};
use crate::store::StoreError;

/// roomgate: HTTPS front door and authentication service of a conference-room audio device.
#[derive(Debug, Parser)]
#[command(name = "roomgate", version, about, propagate_version = true)]
pub struct Cli {
    /// Options every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Config file [default: device-config/roomgate.toml, or the built-in copy of it]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// State folder (overrides server.state_dir)
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Certificate folder (overrides tls.cert_dir)
    #[arg(long, global = true, value_name = "DIR")]
    pub cert_dir: Option<PathBuf>,
    /// Log level or filter (overrides log.level; RUST_LOG wins over both)
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTPS service until SIGINT/SIGTERM.
    Serve {
        /// Address to listen on (overrides server.listen); port 0 picks a free port.
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
    },
    /// Show or reset the enrollment code.
    #[command(subcommand)]
    Enrollment(EnrollmentCommand),
    /// Check the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// `roomgate config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the config file: exit 0, or print `FILE: key: reason` and exit 1.
    Check,
}

/// `roomgate enrollment …`
#[derive(Debug, Subcommand)]
pub enum EnrollmentCommand {
    /// Print the enrollment code (the admin password until it is changed).
    Show,
}

/// A failed command. Messages name files and reasons, never secrets.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The config is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The state could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(std::io::ErrorKind),
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Output(e.kind())
    }
}

impl Cli {
    /// Load the config named on the command line, with the command-line overrides.
    pub fn load_config(&self) -> Result<Config, ConfigError> {
        let listen = match &self.command {
            Command::Serve { listen } => *listen,
            _ => None,
        };
        Config::load(
            self.global.config.as_deref(),
            &Overrides {
                listen,
                state_dir: self.global.state_dir.clone(),
                cert_dir: self.global.cert_dir.clone(),
            },
        )
    }
}

/// Run a local (non-serve) command, writing its output to `out`.
pub fn run_local(command: &Command, config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    match command {
        Command::Serve { .. } => Ok(()),
        Command::Config(ConfigCommand::Check) => {
            // Loading already validated it; say what was checked.
            writeln!(out, "{}: ok", config.source)?;
            Ok(())
        }
        Command::Enrollment(EnrollmentCommand::Show) => {
            let hasher = crate::app::hasher_for(config)?;
            let store = crate::app::open_store(config, &hasher)?;
            writeln!(out, "{}", store.current().enrollment_code)?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from(["roomgate", "enrollment", "show", "--state-dir", "/tmp/x"]).unwrap();
        assert_eq!(cli.global.state_dir.as_deref(), Some(std::path::Path::new("/tmp/x")));
        let cli = Cli::try_parse_from(["roomgate", "serve", "--listen", "127.0.0.1:0"]).unwrap();
        assert!(matches!(cli.command, Command::Serve { listen: Some(_) }));
        assert!(Cli::try_parse_from(["roomgate", "enrollment", "show", "--listen", "127.0.0.1:0"]).is_err());
    }
}
