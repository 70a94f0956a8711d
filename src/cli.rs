//! The command line: `serve` and the technician's commands.
//!
//! Every subcommand accepts `--config`, `--state-dir` and `--cert-dir`; `serve` also
//! takes `--listen` and `--http-listen`. Local commands work on the state files directly, through the
//! same store and lock as the running service, so they work whether or not the
//! service runs, concurrent writers never lose each other's changes, and a running
//! service enforces the change within a second (it watches the state and certificate
//! files). Passwords are read from standard input or a no-echo prompt, never from
//! the command line. The local CLI is never throttled.
//!
//! Exit codes: 0 success, 1 failure, 2 usage error.

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::auth::accounts::{ACCOUNT_NAMES, Role, check_new_password};
use crate::auth::audit::{self, Actor};
use crate::auth::enrollment::EnrollmentError;
use crate::auth::ops;
use crate::auth::passwords::{Hasher, Password};
use crate::auth::store::{Store, StoreError};
use crate::config::{Config, ConfigError, Overrides};
use crate::error::ApiError;
use crate::transport::tls::TlsError;
use crate::util::now;

/// roomgate: HTTPS front door and authentication service of a conference-room audio device.
#[derive(Debug, Parser)]
#[command(name = "roomgate", version, about, propagate_version = true)]
#[command(after_help = "Exit codes: 0 success, 1 failure, 2 usage error.")]
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
        /// Also serve plain HTTP on this address (overrides server.http_listen):
        /// credentials travel in clear text, for isolated room networks only.
        #[arg(long, value_name = "ADDR")]
        http_listen: Option<SocketAddr>,
    },
    /// Show or reset the enrollment code.
    #[command(subcommand)]
    Enrollment(EnrollmentCommand),
    /// Put everything back to factory defaults: new enrollment code and signing key,
    /// every session and API key revoked, accounts, policy and settings reset.
    /// The device certificate is kept (see `cert regenerate`).
    FactoryReset {
        /// Confirm: this cannot be undone.
        #[arg(long, required = true)]
        yes: bool,
    },
    /// List accounts, enable or disable one, set a password.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Per-integration API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Login sessions.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// The device certificate.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Check the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// `roomgate enrollment …`
#[derive(Debug, Subcommand)]
pub enum EnrollmentCommand {
    /// Print the enrollment code (the admin password until it is changed).
    Show,
    /// New enrollment code; the admin password becomes the new code and every admin
    /// session ends. Other accounts, API keys and settings are untouched. Prints the
    /// new code.
    Reset,
}

fn parse_account(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("account must be one of {ACCOUNT_NAMES} (exact lowercase)"))
}

/// `roomgate account …`
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// List the accounts.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Enable an account.
    Enable {
        /// monitor, general or integrator
        #[arg(value_parser = parse_account)]
        account: Role,
    },
    /// Disable an account (admin cannot be disabled); its sessions end.
    Disable {
        /// monitor, general or integrator
        #[arg(value_parser = parse_account)]
        account: Role,
    },
    /// Set an account's password, read from a no-echo prompt (asked twice) or, when
    /// standard input is not a terminal, from its first line. The account's sessions
    /// end; its API keys stay valid.
    SetPassword {
        /// monitor, general, integrator or admin
        #[arg(value_parser = parse_account)]
        account: Role,
    },
}

/// `roomgate keys …`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List API keys (never the secret).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Create an API key; the key is printed once.
    Create {
        /// A name for the integration using it (1–64 characters).
        name: String,
        /// The account level it acts as.
        #[arg(long, value_parser = parse_account)]
        account: Role,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an API key by id.
    Revoke {
        /// The key id (from `keys list`). Ids are base64url, so one may start with
        /// `-`: it is still taken as the id.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
}

/// `roomgate sessions …`
#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List login sessions.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a session by id.
    Revoke {
        /// The session id (from `sessions list`); may start with `-`.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
}

/// `roomgate cert …`
#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Show the certificate: SHA-256 fingerprint, public-key pin, names, validity.
    Show {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Generate a new key and self-signed certificate (not for operator-supplied
    /// files). A running service switches to it within a second.
    Regenerate,
    /// Print a PKCS#10 certificate signing request (PEM) for the device key, with
    /// the configured host names and IP addresses as SANs.
    Csr {
        /// Make a new key for the request; it stays pending (the device key stays
        /// in use) until a chain signed for it is installed.
        #[arg(long)]
        new_key: bool,
        /// Write the request to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Install a signed PEM chain (leaf first, then intermediates) for the device
    /// key or the pending key. Refused, with nothing changed, unless it is valid now
    /// and names every configured host name and IP address. A running service
    /// switches to it within a second, without dropping connections.
    Install {
        /// The PEM file.
        file: PathBuf,
    },
}

/// `roomgate config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the config file: exit 0, or print `FILE: key: reason` and exit 1.
    Check,
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
    /// The certificate could not be read or generated.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A new enrollment code could not be made.
    #[error(transparent)]
    Enrollment(#[from] EnrollmentError),
    /// The change was refused (the same rule the API applies).
    #[error("{0}")]
    Refused(String),
    /// Reading input or writing output failed.
    #[error("{0}")]
    Io(String),
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Io(format!("input/output failed: {}", e.kind()))
    }
}

impl From<ApiError> for CliError {
    fn from(e: ApiError) -> Self {
        let message = e.entries().first().map_or_else(|| e.to_string(), |m| m.message.clone());
        CliError::Refused(message)
    }
}

impl Cli {
    /// Load the config named on the command line, with the command-line overrides.
    pub fn load_config(&self) -> Result<Config, ConfigError> {
        let (listen, http_listen) = match &self.command {
            Command::Serve { listen, http_listen } => (*listen, *http_listen),
            _ => (None, None),
        };
        Config::load(
            self.global.config.as_deref(),
            &Overrides {
                listen,
                http_listen,
                state_dir: self.global.state_dir.clone(),
                cert_dir: self.global.cert_dir.clone(),
            },
        )
    }
}

/// The state and a hasher, as the CLI uses them.
struct Local {
    hasher: Hasher,
    store: Store,
}

fn open(config: &Config) -> Result<Local, CliError> {
    let hasher = crate::app::hasher_for(config)?;
    let store = crate::app::open_store(config, &hasher)?;
    Ok(Local { hasher, store })
}

/// Note for the technician, on standard error (standard output stays parseable).
fn note(text: &str) {
    eprintln!("{text}");
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
            writeln!(out, "{}", open(config)?.store.current().enrollment_code)?;
            Ok(())
        }
        Command::Enrollment(EnrollmentCommand::Reset) => enrollment_reset(config, out),
        Command::FactoryReset { yes } => factory_reset(config, *yes, out),
        Command::Account(cmd) => account(cmd, config, out),
        Command::Keys(cmd) => keys(cmd, config, out),
        Command::Sessions(cmd) => sessions(cmd, config, out),
        Command::Cert(cmd) => cert(cmd, config, out),
    }
}

fn enrollment_reset(config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    let local = open(config)?;
    let code = crate::auth::enrollment::generate()?;
    // Hash outside the lock; the record is applied as one atomic change.
    let admin = crate::auth::enrollment::admin_record(&code, &local.hasher, now())?;
    let new_code = code.clone();
    let event = local
        .store
        .update(move |s| Ok::<_, CliError>(ops::reset_enrollment(s, new_code, admin)))?;
    event.record(&Actor::CONSOLE);
    note("Enrollment code reset: the admin password is now the new code and admin sessions have ended.");
    writeln!(out, "{code}")?;
    Ok(())
}

fn factory_reset(config: &Config, yes: bool, out: &mut dyn Write) -> Result<(), CliError> {
    if !yes {
        return Err(CliError::Refused("factory reset needs --yes".into()));
    }
    let hasher = crate::app::hasher_for(config)?;
    // Works even when the state file is unreadable: it is replaced, not merged.
    let state = Store::replace(&config.start.state_dir, |_| ops::factory_state(config, &hasher))?;
    audit::record("factory_reset", "success", &Actor::CONSOLE, None);
    note(
        "Factory reset done: every session and API key is revoked; accounts, policy and settings are at their defaults.",
    );
    writeln!(out, "{}", state.enrollment_code)?;
    Ok(())
}

fn account(cmd: &AccountCommand, config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    let local = open(config)?;
    let console = |account| Actor {
        account: Some(account),
        ..Actor::CONSOLE
    };
    match cmd {
        AccountCommand::List { json } => {
            let views = ops::account_views(&local.store.current());
            if *json {
                return print_json(out, &views);
            }
            let rows = views.iter().map(|a| {
                let password = match (a.password_set, a.password_empty, a.password_is_enrollment_code) {
                    (false, _, _) => "none",
                    (true, true, _) => "empty",
                    (true, _, true) => "enrollment code",
                    (true, false, false) => "set",
                };
                vec![
                    a.account.to_string(),
                    if a.enabled { "enabled" } else { "disabled" }.to_string(),
                    password.to_string(),
                    a.changed_at.clone(),
                ]
            });
            table(out, &["ACCOUNT", "STATE", "PASSWORD", "CHANGED"], rows)
        }
        AccountCommand::Enable { account } | AccountCommand::Disable { account } => {
            let enable = matches!(cmd, AccountCommand::Enable { .. });
            let account = *account;
            let done = local
                .store
                .update(move |s| ops::set_enabled(s, account, enable, now()).map_err(CliError::from))?;
            done.event.record(&console(account));
            let ended = done.value;
            writeln!(
                out,
                "{account} {}{}",
                if enable { "enabled" } else { "disabled" },
                if ended > 0 {
                    format!("; {ended} session(s) ended")
                } else {
                    String::new()
                }
            )?;
            Ok(())
        }
        AccountCommand::SetPassword { account } => {
            let account = *account;
            let password = read_new_password(account)?;
            check_new_password(account, password.expose(), &local.store.current().policy)?;
            let hash = local
                .hasher
                .hash_blocking(&password)
                .map_err(|_| CliError::Refused("hashing the password failed".into()))?;
            let empty = password.expose().is_empty();
            let done = local
                .store
                .update(move |s| Ok::<_, CliError>(ops::set_password(s, account, hash, empty, now())))?;
            done.event.record(&console(account));
            writeln!(out, "password of {account} set; {} session(s) ended", done.value)?;
            Ok(())
        }
    }
}

/// A new password: a no-echo prompt (twice) on a terminal, else the first line of
/// standard input (without its line ending).
fn read_new_password(account: Role) -> Result<Password, CliError> {
    if std::io::stdin().is_terminal() {
        let first = Password::new(rpassword::prompt_password(format!("New password for {account}: "))?);
        let again = Password::new(rpassword::prompt_password("Repeat the password: ")?);
        if first.expose() != again.expose() {
            return Err(CliError::Refused("the two passwords differ".into()));
        }
        Ok(first)
    } else {
        let mut line = zeroize::Zeroizing::new(String::new());
        std::io::stdin().lock().read_line(&mut line)?;
        let trimmed = line.strip_suffix('\n').unwrap_or(&line);
        Ok(Password::new(trimmed.strip_suffix('\r').unwrap_or(trimmed)))
    }
}

fn keys(cmd: &KeysCommand, config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    let local = open(config)?;
    match cmd {
        KeysCommand::List { json } => {
            let views = ops::key_views(&local.store.current());
            if *json {
                return print_json(out, &views);
            }
            let rows = views.iter().map(|k| {
                vec![
                    k.id.clone(),
                    k.name.clone(),
                    k.account.to_string(),
                    k.created_at.clone(),
                    k.last_used_at.clone().unwrap_or_else(|| "-".into()),
                    k.last_client_id.clone().unwrap_or_else(|| "-".into()),
                ]
            });
            table(
                out,
                &["ID", "NAME", "ACCOUNT", "CREATED", "LAST USED", "LAST CLIENT"],
                rows,
            )
        }
        KeysCommand::Create { name, account, json } => {
            let (name, account) = (name.clone(), *account);
            let max = config.limits.max_api_keys;
            let done = local
                .store
                .update(move |s| ops::create_key(s, &name, account, max, now()).map_err(CliError::from))?;
            done.event.record(&Actor::CONSOLE);
            let (minted, view) = done.value;
            if *json {
                return print_json(out, &ops::key_created_document(&minted, &view));
            }
            note("The key is shown once: store it in the integration now.");
            writeln!(out, "id:      {}", view.id)?;
            writeln!(out, "name:    {}", view.name)?;
            writeln!(out, "account: {}", view.account)?;
            writeln!(out, "key:     {}", minted.token.as_str())?;
            Ok(())
        }
        KeysCommand::Revoke { id } => {
            let id = id.clone();
            let done = local
                .store
                .update(move |s| ops::revoke_key(s, &id).map_err(CliError::from))?;
            done.event.record(&Actor::CONSOLE);
            let view = done.value;
            writeln!(out, "revoked API key {} ({})", view.id, view.name)?;
            Ok(())
        }
    }
}

fn sessions(cmd: &SessionsCommand, config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    let local = open(config)?;
    match cmd {
        SessionsCommand::List { json } => {
            let views = ops::session_views(&local.store.current());
            if *json {
                return print_json(out, &views);
            }
            let rows = views.iter().map(|s| {
                vec![
                    s.id.clone(),
                    s.account.to_string(),
                    format!("{} {}", s.client_id, s.client_version),
                    s.remote_address.clone(),
                    s.created_at.clone(),
                    s.last_used_at.clone().unwrap_or_else(|| "-".into()),
                ]
            });
            table(
                out,
                &["ID", "ACCOUNT", "CLIENT", "ADDRESS", "CREATED", "LAST USED"],
                rows,
            )
        }
        SessionsCommand::Revoke { id } => {
            let id = id.clone();
            let subject = id.clone();
            let done = local
                .store
                .update(move |s| ops::revoke_session(s, &id).map_err(CliError::from))?;
            let account = done.value;
            done.event.record(&Actor {
                account: Some(account),
                ..Actor::CONSOLE
            });
            writeln!(out, "revoked session {subject} ({account})")?;
            Ok(())
        }
    }
}

fn cert(cmd: &CertCommand, config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    match cmd {
        CertCommand::Show { json } => {
            let info = crate::transport::tls::describe(&config.tls)?;
            if *json {
                return print_json(out, &info);
            }
            writeln!(
                out,
                "certificate: {} ({})",
                info.path,
                if info.operator_supplied {
                    "operator-supplied"
                } else {
                    "generated"
                }
            )?;
            writeln!(out, "subject:     {}", info.subject)?;
            writeln!(
                out,
                "issuer:      {}{}",
                info.issuer,
                if info.self_signed { " (self-signed)" } else { "" }
            )?;
            writeln!(out, "sha256:      {}", info.sha256_fingerprint)?;
            writeln!(out, "pin:         {}  (curl --pinnedpubkey)", info.public_key_pin)?;
            writeln!(out, "names:       {}", info.names.join(", "))?;
            writeln!(out, "valid from:  {}", info.not_before)?;
            writeln!(out, "valid until: {}", info.not_after)?;
            writeln!(
                out,
                "days left:   {}{}",
                info.days_left,
                if info.expiring_soon {
                    "  (expiring soon: install a renewed certificate)"
                } else {
                    ""
                }
            )?;
            writeln!(out, "chain:       {} certificate(s)", info.chain_length)?;
            if info.pending_key {
                writeln!(out, "pending key: a new key awaits its certificate (cert install)")?;
            }
            Ok(())
        }
        CertCommand::Csr { new_key, out: file } => {
            let csr =
                crate::certificate::create_csr(&config.tls, &config.device.name, *new_key).map_err(cert_refused)?;
            audit::record(
                "certificate_request",
                "success",
                &Actor::CONSOLE,
                Some(if *new_key { "new key" } else { "device key" }),
            );
            match file {
                Some(path) => {
                    std::fs::write(path, &csr)
                        .map_err(|e| CliError::Io(format!("{}: {}", path.display(), e.kind())))?;
                    note(&format!("Certificate signing request written to {}.", path.display()));
                }
                None => write!(out, "{csr}")?,
            }
            if *new_key {
                note("A new key is pending; the device key stays in use until a chain for the new key is installed.");
            }
            Ok(())
        }
        CertCommand::Install { file } => {
            let text =
                std::fs::read_to_string(file).map_err(|e| CliError::Io(format!("{}: {}", file.display(), e.kind())))?;
            let now = i64::try_from(crate::util::now()).unwrap_or(i64::MAX);
            let installed = match crate::certificate::install(&config.tls, &text, now) {
                Ok(installed) => installed,
                Err(e) => {
                    audit::record("certificate_install", "failure", &Actor::CONSOLE, e.code());
                    return Err(cert_refused(e));
                }
            };
            audit::record(
                "certificate_install",
                "success",
                &Actor::CONSOLE,
                Some(&installed.fingerprint),
            );
            if installed.promoted_key {
                note("The pending key is now the device key.");
            }
            note("Certificate installed; a running service switches to it within a second.");
            writeln!(out, "sha256: {}", installed.fingerprint)?;
            Ok(())
        }
        CertCommand::Regenerate => {
            crate::transport::tls::generate(&config.tls, &config.device.name)?;
            let info = crate::transport::tls::describe(&config.tls)?;
            audit::record(
                "certificate_regenerate",
                "success",
                &Actor::CONSOLE,
                Some(&info.sha256_fingerprint),
            );
            note("New device certificate generated; clients that pinned the old one must pin the new one.");
            writeln!(out, "sha256: {}", info.sha256_fingerprint)?;
            Ok(())
        }
    }
}

/// A certificate refusal as the console says it: `code: reason`.
fn cert_refused(e: crate::certificate::CertError) -> CliError {
    match e.code() {
        Some(code) => CliError::Refused(format!("{code}: {e}")),
        None => CliError::Io(e.to_string()),
    }
}

fn print_json(out: &mut dyn Write, value: &impl Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Io(e.to_string()))?;
    writeln!(out, "{text}")?;
    Ok(())
}

/// Print rows as left-aligned columns.
fn table(out: &mut dyn Write, header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<(), CliError> {
    let rows: Vec<Vec<String>> = rows.collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for row in &rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    if rows.is_empty() {
        writeln!(out, "(none)")?;
    }
    Ok(())
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
        assert!(matches!(
            cli.command,
            Command::Serve {
                listen: Some(_),
                http_listen: None
            }
        ));
        let cli = Cli::try_parse_from(["roomgate", "serve", "--http-listen", "127.0.0.1:0"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Serve {
                listen: None,
                http_listen: Some(_)
            }
        ));
        assert!(Cli::try_parse_from(["roomgate", "enrollment", "show", "--listen", "127.0.0.1:0"]).is_err());
    }

    #[test]
    fn ids_may_start_with_a_hyphen() {
        for kind in ["keys", "sessions"] {
            let cli = Cli::try_parse_from(["roomgate", kind, "revoke", "-AbC_dEf"]).unwrap();
            let id = match cli.command {
                Command::Keys(KeysCommand::Revoke { id }) | Command::Sessions(SessionsCommand::Revoke { id }) => id,
                _ => panic!("{kind} revoke parsed as another command"),
            };
            assert_eq!(id, "-AbC_dEf");
        }
    }

    #[test]
    fn accounts_are_exact_lowercase_and_reset_needs_yes() {
        assert!(Cli::try_parse_from(["roomgate", "account", "enable", "Integrator"]).is_err());
        assert!(Cli::try_parse_from(["roomgate", "account", "enable", "integrator"]).is_ok());
        assert!(Cli::try_parse_from(["roomgate", "keys", "create", "x", "--account", "root"]).is_err());
        assert!(Cli::try_parse_from(["roomgate", "factory-reset"]).is_err());
        assert!(Cli::try_parse_from(["roomgate", "factory-reset", "--yes"]).is_ok());
        // A password is never an argument.
        assert!(Cli::try_parse_from(["roomgate", "account", "set-password", "admin", "secret"]).is_err());
    }
}
