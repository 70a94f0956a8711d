//! Configuration: raw TOML → validated [`Config`], in two stages.
//!
//! Stage one deserialises the file into `Raw*` structs that refuse unknown keys;
//! stage two checks every value and resolves relative paths against the folder of
//! the config file. Any problem is a [`ConfigError`] naming the file, the key and the
//! reason, reported at start-up (or by `roomgate config check`), never per request.
//!
//! The commented default, `device-config/roomgate.toml`, is compiled into the binary
//! ([`EMBEDDED_DEFAULT`]); when the default path is absent the embedded copy is used
//! as if it lived there, so relative paths resolve the same way.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::auth::policy::Policy;

/// The default config, as shipped in `device-config/roomgate.toml`.
pub const EMBEDDED_DEFAULT: &str = include_str!("../../device-config/roomgate.toml");

/// File name of the generated certificate in `cert_dir`.
pub const CERT_FILE: &str = "cert.pem";
/// File name of the generated private key in `cert_dir`.
pub const KEY_FILE: &str = "key.pem";

/// Where `--config` points when not given.
pub const DEFAULT_CONFIG_PATH: &str = "device-config/roomgate.toml";

/// A configuration problem: which file, which key, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file (or `<embedded default>`).
    pub file: String,
    /// Dotted key path, e.g. `limits.idle_timeout` (empty for whole-file problems).
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file, self.reason)
        } else {
            write!(f, "{}: {}: {}", self.file, self.key, self.reason)
        }
    }
}

impl std::error::Error for ConfigError {}

/// Values given on the command line, which take precedence over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--listen`
    pub listen: Option<SocketAddr>,
    /// `--state-dir`
    pub state_dir: Option<PathBuf>,
    /// `--cert-dir`
    pub cert_dir: Option<PathBuf>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was read from, for messages.
    pub source: String,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Folder of the persisted state (accounts, sessions, keys, settings).
    pub state_dir: PathBuf,
    /// Certificate settings.
    pub tls: TlsConfig,
    /// Sizes, rates and timeouts.
    pub limits: Limits,
    /// argon2id cost parameters for new password hashes.
    pub passwords: HashParams,
    /// Factory defaults of the security policy.
    pub policy: Policy,
    /// The reference device's identity.
    pub device: DeviceInfo,
    /// Event stream timing.
    pub events: EventsConfig,
    /// Factory-provisioned enrollment code file, if any.
    pub enrollment_code_file: Option<PathBuf>,
    /// Logging.
    pub log: LogConfig,
    /// Routes to the device's own services, longest prefix first.
    pub routes: Vec<RouteConfig>,
    /// Where it was read from, so that a reload (SIGHUP) can read it again.
    pub origin: Option<ConfigOrigin>,
}

/// The file and command-line overrides a configuration was loaded with.
#[derive(Debug, Clone)]
pub struct ConfigOrigin {
    /// `--config`, or `None` for the default location.
    pub path: Option<PathBuf>,
    /// The command-line values that win over the file.
    pub overrides: Overrides,
}

/// Where a route's requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// `http://host:port` on the device.
    Http {
        /// `host:port`
        authority: String,
    },
    /// `unix:/path/to.sock`
    Unix {
        /// The socket path.
        path: PathBuf,
    },
}

impl std::fmt::Display for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Upstream::Http { authority } => write!(f, "http://{authority}"),
            Upstream::Unix { path } => write!(f, "unix:{}", path.display()),
        }
    }
}

/// A path prefix served by one of the device's own services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteConfig {
    /// `/api/v1/camera`: the prefix itself and every path under it.
    pub prefix: String,
    /// The minimum role a caller needs.
    pub min_role: crate::auth::accounts::Role,
    /// Where requests go.
    pub upstream: Upstream,
    /// The methods forwarded (others get 405).
    pub methods: Vec<http::Method>,
    /// The upstream must answer (response head) within this; 504 otherwise.
    pub timeout: Duration,
    /// Allowed to take over built-in device endpoints under the prefix.
    pub override_builtin: bool,
}

/// Certificate and key locations and the SANs of a generated certificate.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// Folder of the generated certificate and key.
    pub cert_dir: PathBuf,
    /// Certificate chain (PEM).
    pub cert_file: PathBuf,
    /// Private key (PEM).
    pub key_file: PathBuf,
    /// True when the operator named the files: they are used as is, never generated.
    pub operator_supplied: bool,
    /// Extra DNS names for a generated certificate (`localhost` is always included).
    pub hostnames: Vec<String>,
    /// Extra IP addresses for a generated certificate (`127.0.0.1` is always included).
    pub ip_addresses: Vec<IpAddr>,
    /// Validity of a generated certificate.
    pub validity_days: u32,
}

/// Every size, rate and timeout the service enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at most; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// TLS handshake must finish within this.
    pub handshake_timeout: Duration,
    /// A request head must arrive within this once it has started.
    pub head_timeout: Duration,
    /// A request body must arrive within this.
    pub body_timeout: Duration,
    /// A keep-alive connection with no request in flight is closed after this.
    pub idle_timeout: Duration,
    /// On shutdown, in-flight requests get this long to finish.
    pub drain_timeout: Duration,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// HTTP/1 read buffer, which bounds the request head.
    pub max_header_bytes: usize,
    /// Most request headers (HTTP/1).
    pub max_headers: usize,
    /// Most concurrent HTTP/2 streams per connection.
    pub h2_max_concurrent_streams: u32,
    /// Largest HTTP/2 header list.
    pub h2_max_header_list_bytes: u32,
    /// Interval of HTTP/2 keep-alive pings to detect dead peers.
    pub h2_keepalive_interval: Duration,
    /// An unanswered HTTP/2 keep-alive ping closes the connection after this.
    pub h2_keepalive_timeout: Duration,
    /// Open event streams (SSE) at most, across all clients.
    pub max_event_streams: usize,
    /// Password hashes computed at the same time.
    pub hash_concurrency: usize,
    /// Password hashes allowed to wait for a slot; past this, 503.
    pub hash_queue: usize,
    /// API keys the device holds at most.
    pub max_api_keys: usize,
    /// Verified `base64(account:password)` credentials remembered (legacy mode).
    pub legacy_cache_entries: usize,
    /// Longest delay a source address is made to wait after failed logins.
    pub login_delay_max: Duration,
}

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for HashParams {
    /// OWASP's argon2id recommendation: m=19 MiB, t=2, p=1.
    fn default() -> Self {
        HashParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// The reference device's identity as reported by `GET /api/v1/audio/hardware`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Device name; also the `WWW-Authenticate` realm and certificate common name.
    pub name: String,
    /// `hdl310` or `hdl410`.
    pub model: String,
    /// Unique hardware identifier.
    pub hardware_id: String,
    /// Firmware version.
    pub firmware_version: String,
    /// Device version.
    pub device_version: String,
    /// `Ok`, `CableUnplugged` or `Disconnected`.
    pub device_status: String,
    /// `enrolled` or `unEnrolled`.
    pub enrollment_status: String,
    /// Reported IP address; `None` means found at run time.
    pub ip_address: Option<String>,
    /// MAC address.
    pub mac_address: String,
    /// Hardware components.
    pub hardware_components: Vec<HardwareComponent>,
}

/// One hardware component of the device.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HardwareComponent {
    /// Component type, e.g. `microphoneSpeakerBar`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its hardware identifier.
    pub hardware_id: String,
    /// Its firmware version.
    pub firmware_version: String,
}

/// Event stream timing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsConfig {
    /// Interval of `event: heartbeat` on `/api/v1/heartbeat`.
    pub heartbeat_interval: Duration,
    /// Interval of keep-alive comments on otherwise quiet streams.
    pub keepalive_interval: Duration,
    /// Interval of `deviceMetrics` on `/api/v1/data`.
    pub data_interval: Duration,
    /// Event streams end after this (clients reconnect); `None` keeps them open.
    pub max_stream_duration: Option<Duration>,
}

/// Logging settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// A tracing filter directive such as `info` or `roomgate=debug`.
    pub level: String,
    /// Emit JSON lines instead of text.
    pub json: bool,
}

// ---------------------------------------------------------------------------
// Stage one: raw TOML.

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    tls: RawTls,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    passwords: RawPasswords,
    #[serde(default)]
    policy: RawPolicy,
    #[serde(default)]
    device: RawDevice,
    #[serde(default)]
    events: RawEvents,
    #[serde(default)]
    enrollment: RawEnrollment,
    #[serde(default)]
    log: RawLog,
    #[serde(default, rename = "route")]
    routes: Vec<RawRoute>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    prefix: String,
    min_role: String,
    upstream: String,
    #[serde(default)]
    methods: Option<Vec<String>>,
    #[serde(default)]
    timeout: Option<String>,
    #[serde(default)]
    override_builtin: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawServer {
    listen: String,
    state_dir: String,
}

impl Default for RawServer {
    fn default() -> Self {
        RawServer {
            listen: "0.0.0.0:8443".into(),
            state_dir: "var".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawTls {
    cert_dir: String,
    cert_file: Option<String>,
    key_file: Option<String>,
    hostnames: Vec<String>,
    ip_addresses: Vec<String>,
    validity_days: u32,
}

impl Default for RawTls {
    fn default() -> Self {
        RawTls {
            cert_dir: "certs".into(),
            cert_file: None,
            key_file: None,
            hostnames: Vec::new(),
            ip_addresses: Vec::new(),
            validity_days: 3650,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawLimits {
    max_connections: usize,
    handshake_timeout: String,
    head_timeout: String,
    body_timeout: String,
    idle_timeout: String,
    drain_timeout: String,
    max_body_bytes: usize,
    max_header_bytes: usize,
    max_headers: usize,
    h2_max_concurrent_streams: u32,
    h2_max_header_list_bytes: u32,
    h2_keepalive_interval: String,
    h2_keepalive_timeout: String,
    max_event_streams: usize,
    hash_concurrency: usize,
    hash_queue: usize,
    max_api_keys: usize,
    legacy_cache_entries: usize,
    login_delay_max: String,
    requests_per_minute: u32,
}

impl Default for RawLimits {
    fn default() -> Self {
        RawLimits {
            max_connections: 2048,
            handshake_timeout: "10s".into(),
            head_timeout: "10s".into(),
            body_timeout: "30s".into(),
            idle_timeout: "60s".into(),
            drain_timeout: "10s".into(),
            max_body_bytes: 64 * 1024,
            max_header_bytes: 16 * 1024,
            max_headers: 64,
            h2_max_concurrent_streams: 32,
            h2_max_header_list_bytes: 16 * 1024,
            h2_keepalive_interval: "30s".into(),
            h2_keepalive_timeout: "20s".into(),
            max_event_streams: 64,
            hash_concurrency: 2,
            hash_queue: 32,
            max_api_keys: 64,
            legacy_cache_entries: 64,
            login_delay_max: "15m".into(),
            requests_per_minute: 600,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawPasswords {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl Default for RawPasswords {
    fn default() -> Self {
        let d = HashParams::default();
        RawPasswords {
            memory_kib: d.memory_kib,
            iterations: d.iterations,
            parallelism: d.parallelism,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawPolicy {
    session_lifetime: String,
    max_sessions_per_account: u32,
    password_min_length: u32,
    password_max_length: u32,
    allow_empty_general_password: bool,
    require_admin_password_change: bool,
    legacy_basic_credentials: bool,
    login_failures_per_hour: u32,
    login_failures_before_delay: u32,
}

impl Default for RawPolicy {
    fn default() -> Self {
        let d = Policy::default();
        RawPolicy {
            session_lifetime: "none".into(),
            max_sessions_per_account: d.max_sessions_per_account,
            password_min_length: d.password_min_length,
            password_max_length: d.password_max_length,
            allow_empty_general_password: d.allow_empty_general_password,
            require_admin_password_change: d.require_admin_password_change,
            legacy_basic_credentials: d.legacy_basic_credentials,
            login_failures_per_hour: d.login_failures_per_hour,
            login_failures_before_delay: d.login_failures_before_delay,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawDevice {
    name: String,
    model: String,
    hardware_id: String,
    firmware_version: String,
    device_version: String,
    device_status: String,
    enrollment_status: String,
    ip_address: String,
    mac_address: String,
    hardware_components: Vec<RawComponent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    #[serde(rename = "type")]
    kind: String,
    hardware_id: String,
    firmware_version: String,
}

impl Default for RawDevice {
    fn default() -> Self {
        RawDevice {
            name: "HDL310 Conference Room".into(),
            model: "hdl310".into(),
            hardware_id: "RG310000000001".into(),
            firmware_version: "1.9.0".into(),
            device_version: "1".into(),
            device_status: "Ok".into(),
            enrollment_status: "unEnrolled".into(),
            ip_address: "auto".into(),
            mac_address: "00:00:00:00:00:00".into(),
            hardware_components: vec![RawComponent {
                kind: "microphoneSpeakerBar".into(),
                hardware_id: "RG310000000001-BAR".into(),
                firmware_version: "1.9.0".into(),
            }],
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawEvents {
    heartbeat_interval: String,
    keepalive_interval: String,
    data_interval: String,
    max_stream_duration: String,
}

impl Default for RawEvents {
    fn default() -> Self {
        RawEvents {
            heartbeat_interval: "5s".into(),
            keepalive_interval: "15s".into(),
            data_interval: "5s".into(),
            max_stream_duration: "none".into(),
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawEnrollment {
    code_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawLog {
    level: String,
    format: String,
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog {
            level: "info".into(),
            format: "text".into(),
        }
    }
}

// ---------------------------------------------------------------------------
// Stage two: validation.

/// Collects the first problem with the file/key context filled in.
struct Checker<'a> {
    file: &'a str,
    base: &'a Path,
}

impl Checker<'_> {
    fn err(&self, key: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_string(),
            key: key.to_string(),
            reason: reason.into(),
        }
    }

    fn path(&self, key: &str, value: &str) -> Result<PathBuf, ConfigError> {
        if value.trim().is_empty() {
            return Err(self.err(key, "must not be empty"));
        }
        let p = Path::new(value);
        Ok(if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        })
    }

    fn duration(&self, key: &str, value: &str, min: Duration, max: Duration) -> Result<Duration, ConfigError> {
        let d = humantime::parse_duration(value.trim()).map_err(|_| {
            self.err(
                key,
                format!("`{value}` is not a duration (examples: \"500ms\", \"10s\", \"2m\")"),
            )
        })?;
        if d < min || d > max {
            return Err(self.err(
                key,
                format!(
                    "must be between {} and {}",
                    humantime::format_duration(min),
                    humantime::format_duration(max)
                ),
            ));
        }
        Ok(d)
    }

    fn range<T: PartialOrd + std::fmt::Display + Copy>(
        &self,
        key: &str,
        value: T,
        min: T,
        max: T,
    ) -> Result<T, ConfigError> {
        if value < min || value > max {
            return Err(self.err(key, format!("must be between {min} and {max}")));
        }
        Ok(value)
    }

    fn text(&self, key: &str, value: &str, max_chars: usize) -> Result<String, ConfigError> {
        let n = value.chars().count();
        if n == 0 || n > max_chars {
            return Err(self.err(key, format!("must be 1 to {max_chars} characters")));
        }
        if value.chars().any(|c| c.is_control() || c == '"' || c == '\\') {
            return Err(self.err(key, "must not contain control characters, quotes or backslashes"));
        }
        Ok(value.to_string())
    }

    fn one_of(&self, key: &str, value: &str, allowed: &[&str]) -> Result<String, ConfigError> {
        if allowed.contains(&value) {
            Ok(value.to_string())
        } else {
            Err(self.err(key, format!("must be one of {}", allowed.join(", "))))
        }
    }
}

impl Config {
    /// Load and validate a config file, then apply command-line overrides.
    ///
    /// When `path` is `None`, [`DEFAULT_CONFIG_PATH`] is read if it exists, and the
    /// embedded default is used (as if it lived there) if it does not.
    pub fn load(path: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        let (label, text, base) = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| ConfigError {
                    file: p.display().to_string(),
                    key: String::new(),
                    reason: format!("cannot read the file: {}", io_reason(&e)),
                })?;
                (p.display().to_string(), text, folder_of(p))
            }
            None => {
                let p = Path::new(DEFAULT_CONFIG_PATH);
                match std::fs::read_to_string(p) {
                    Ok(text) => (p.display().to_string(), text, folder_of(p)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
                        "<embedded default>".to_string(),
                        EMBEDDED_DEFAULT.to_string(),
                        folder_of(p),
                    ),
                    Err(e) => {
                        return Err(ConfigError {
                            file: p.display().to_string(),
                            key: String::new(),
                            reason: format!("cannot read the file: {}", io_reason(&e)),
                        });
                    }
                }
            }
        };
        let mut config = Self::from_toml(&text, &base, &label)?;
        config.apply(overrides);
        config.origin = Some(ConfigOrigin {
            path: path.map(Path::to_path_buf),
            overrides: overrides.clone(),
        });
        Ok(config)
    }

    /// Read the file this configuration came from again, with the same overrides.
    pub fn reread(&self) -> Result<Config, ConfigError> {
        let origin = self.origin.as_ref().ok_or_else(|| ConfigError {
            file: self.source.clone(),
            key: String::new(),
            reason: "not loaded from a file, so there is nothing to read again".into(),
        })?;
        Config::load(origin.path.as_deref(), &origin.overrides)
    }

    /// For a reload: keep `running`'s values of the settings that take effect only
    /// at start (the listener, the state folder, what sizes the connection cap,
    /// the password hasher, the event-stream and legacy-cache slots, the throttle's
    /// ceiling, the log format), and return the names of those that differ.
    pub fn keep_start_only(&mut self, running: &Config) -> Vec<&'static str> {
        let mut pending = Vec::new();
        let mut keep = |name: &'static str, differs: bool| {
            if differs {
                pending.push(name);
            }
        };
        keep("server.listen", self.listen != running.listen);
        keep("server.state_dir", self.state_dir != running.state_dir);
        keep("passwords", self.passwords != running.passwords);
        let (l, r) = (&self.limits, &running.limits);
        keep("limits.max_connections", l.max_connections != r.max_connections);
        keep("limits.hash_concurrency", l.hash_concurrency != r.hash_concurrency);
        keep("limits.hash_queue", l.hash_queue != r.hash_queue);
        keep("limits.max_event_streams", l.max_event_streams != r.max_event_streams);
        keep(
            "limits.legacy_cache_entries",
            l.legacy_cache_entries != r.legacy_cache_entries,
        );
        keep("limits.login_delay_max", l.login_delay_max != r.login_delay_max);
        keep("log.format", self.log.json != running.log.json);
        self.listen = running.listen;
        self.state_dir.clone_from(&running.state_dir);
        self.passwords = running.passwords;
        self.limits.max_connections = r.max_connections;
        self.limits.hash_concurrency = r.hash_concurrency;
        self.limits.hash_queue = r.hash_queue;
        self.limits.max_event_streams = r.max_event_streams;
        self.limits.legacy_cache_entries = r.legacy_cache_entries;
        self.limits.login_delay_max = r.login_delay_max;
        self.log.json = running.log.json;
        pending
    }

    /// Parse and validate TOML text. Relative paths resolve against `base`; `label`
    /// names the source in error messages.
    pub fn from_toml(text: &str, base: &Path, label: &str) -> Result<Config, ConfigError> {
        let raw = parse_raw(text, label)?;
        let c = Checker { file: label, base };
        validate(raw, &c)
    }

    /// Apply command-line overrides (they win over the file).
    pub fn apply(&mut self, o: &Overrides) {
        if let Some(listen) = o.listen {
            self.listen = listen;
        }
        if let Some(dir) = &o.state_dir {
            self.state_dir = absolute(dir);
        }
        if let Some(dir) = &o.cert_dir {
            self.tls.cert_dir = absolute(dir);
            if !self.tls.operator_supplied {
                self.tls.cert_file = self.tls.cert_dir.join(CERT_FILE);
                self.tls.key_file = self.tls.cert_dir.join(KEY_FILE);
            }
        }
    }
}

fn folder_of(p: &Path) -> PathBuf {
    let parent = p.parent().unwrap_or_else(|| Path::new(""));
    absolute(parent)
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

fn io_reason(e: &std::io::Error) -> String {
    // The kind is enough for the operator; the path is already in the message.
    e.kind().to_string()
}

fn parse_raw(text: &str, label: &str) -> Result<RawConfig, ConfigError> {
    let de = toml::Deserializer::parse(text).map_err(|e| ConfigError {
        file: label.to_string(),
        key: String::new(),
        reason: one_line(&e.to_string()),
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| ConfigError {
        file: label.to_string(),
        key: e.path().to_string(),
        reason: one_line(&e.inner().to_string()),
    })
}

/// toml's messages span several lines with a source excerpt (`2 | key = …` and a
/// `^^^` marker); keep the gist on one line.
fn one_line(s: &str) -> String {
    let is_excerpt = |l: &str| {
        let rest = l.trim_start_matches(|c: char| c.is_ascii_digit()).trim_start();
        rest.starts_with('|') || l.chars().all(|c| c == '^' || c == ' ')
    };
    let mut location = None;
    let mut parts = Vec::new();
    for l in s.lines().map(str::trim).filter(|l| !l.is_empty() && !is_excerpt(l)) {
        match l.strip_prefix("TOML parse error at ") {
            Some(at) => location = Some(at),
            None => parts.push(l),
        }
    }
    let mut out = parts.join(" ");
    if let Some(at) = location {
        out.push_str(&format!(" ({at})"));
    }
    out
}

fn validate(raw: RawConfig, c: &Checker<'_>) -> Result<Config, ConfigError> {
    let listen: SocketAddr = raw.server.listen.trim().parse().map_err(|_| {
        c.err(
            "server.listen",
            format!("`{}` is not an address like 0.0.0.0:8443", raw.server.listen),
        )
    })?;
    let state_dir = c.path("server.state_dir", &raw.server.state_dir)?;

    let tls = validate_tls(raw.tls, c)?;
    let limits = validate_limits(&raw.limits, c)?;

    let passwords = HashParams {
        memory_kib: c.range("passwords.memory_kib", raw.passwords.memory_kib, 64, 1024 * 1024)?,
        iterations: c.range("passwords.iterations", raw.passwords.iterations, 1, 100)?,
        parallelism: c.range("passwords.parallelism", raw.passwords.parallelism, 1, 16)?,
    };
    if passwords.memory_kib < 8 * passwords.parallelism {
        return Err(c.err("passwords.memory_kib", "must be at least 8 KiB per lane of parallelism"));
    }

    let policy = validate_policy(&raw.policy, raw.limits.requests_per_minute, c)?;
    let device = validate_device(raw.device, c)?;
    let events = EventsConfig {
        heartbeat_interval: c.duration(
            "events.heartbeat_interval",
            &raw.events.heartbeat_interval,
            Duration::from_millis(50),
            Duration::from_secs(3600),
        )?,
        keepalive_interval: c.duration(
            "events.keepalive_interval",
            &raw.events.keepalive_interval,
            Duration::from_millis(50),
            Duration::from_secs(3600),
        )?,
        data_interval: c.duration(
            "events.data_interval",
            &raw.events.data_interval,
            Duration::from_millis(50),
            Duration::from_secs(3600),
        )?,
        max_stream_duration: match raw.events.max_stream_duration.trim() {
            "none" | "" => None,
            d => Some(c.duration(
                "events.max_stream_duration",
                d,
                Duration::from_millis(100),
                Duration::from_secs(30 * 86_400),
            )?),
        },
    };
    let enrollment_code_file = raw
        .enrollment
        .code_file
        .as_deref()
        .map(|p| c.path("enrollment.code_file", p))
        .transpose()?;
    let log = LogConfig {
        level: {
            let l = raw.log.level.trim();
            if l.is_empty() || l.parse::<tracing_subscriber::filter::Targets>().is_err() {
                return Err(c.err(
                    "log.level",
                    "must be a level (error, warn, info, debug, trace) or a filter like roomgate=debug",
                ));
            }
            l.to_string()
        },
        json: c.one_of("log.format", &raw.log.format, &["text", "json"])? == "json",
    };

    let routes = validate_routes(raw.routes, c)?;
    Ok(Config {
        source: c.file.to_string(),
        listen,
        state_dir,
        tls,
        limits,
        passwords,
        policy,
        device,
        events,
        enrollment_code_file,
        log,
        routes,
        origin: None,
    })
}

/// Methods a route forwards when it does not list its own.
const DEFAULT_ROUTE_METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

fn validate_routes(raw: Vec<RawRoute>, c: &Checker<'_>) -> Result<Vec<RouteConfig>, ConfigError> {
    let mut routes: Vec<RouteConfig> = Vec::new();
    for (i, r) in raw.into_iter().enumerate() {
        let key = |f: &str| format!("route[{i}].{f}");
        let prefix = r.prefix.trim().to_string();
        let well_formed = prefix.starts_with("/api/")
            && !prefix.ends_with('/')
            && prefix.len() <= 200
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b))
            && prefix
                .split('/')
                .skip(1)
                .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
        if !well_formed {
            return Err(c.err(
                &key("prefix"),
                "must be a path under /api/ like \"/api/v1/camera\" (no trailing slash, dot segments or special characters)",
            ));
        }
        if routes.iter().any(|other| other.prefix == prefix) {
            return Err(c.err(&key("prefix"), format!("`{prefix}` is routed twice")));
        }
        let min_role = crate::auth::accounts::Role::parse(r.min_role.trim())
            .ok_or_else(|| c.err(&key("min_role"), "must be one of monitor, general, integrator, admin"))?;
        let upstream = parse_upstream(&r.upstream, c, &key("upstream"))?;
        let methods = match r.methods {
            None => DEFAULT_ROUTE_METHODS
                .iter()
                .map(|m| http::Method::from_bytes(m.as_bytes()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| c.err(&key("methods"), "invalid"))?,
            Some(list) if list.is_empty() => return Err(c.err(&key("methods"), "must list at least one method")),
            Some(list) => {
                let mut methods = Vec::new();
                for m in list {
                    let upper = m.trim().to_ascii_uppercase();
                    if !["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"].contains(&upper.as_str()) {
                        return Err(c.err(&key("methods"), format!("`{m}` is not a method that can be forwarded")));
                    }
                    methods.push(
                        http::Method::from_bytes(upper.as_bytes()).map_err(|_| c.err(&key("methods"), "invalid"))?,
                    );
                }
                methods
            }
        };
        let timeout = match r.timeout {
            Some(t) => c.duration(
                &key("timeout"),
                &t,
                Duration::from_millis(100),
                Duration::from_secs(3600),
            )?,
            None => Duration::from_secs(10),
        };
        check_shadowing(&prefix, r.override_builtin, c, &key("prefix"))?;
        routes.push(RouteConfig {
            prefix,
            min_role,
            upstream,
            methods,
            timeout,
            override_builtin: r.override_builtin,
        });
    }
    // Longest prefix first, so the first match is the most specific.
    routes.sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
    Ok(routes)
}

fn parse_upstream(text: &str, c: &Checker<'_>, key: &str) -> Result<Upstream, ConfigError> {
    let text = text.trim();
    if let Some(path) = text.strip_prefix("unix:") {
        return Ok(Upstream::Unix {
            path: c.path(key, path)?,
        });
    }
    let bad = || {
        c.err(
            key,
            "must be \"http://HOST:PORT\" (a service on the device) or \"unix:/path/to.sock\"",
        )
    };
    let rest = text.strip_prefix("http://").ok_or_else(bad)?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    let parsed: http::uri::Authority = authority.parse().map_err(|_| bad())?;
    if parsed.port_u16().is_none() || authority.contains('@') || authority.contains('/') {
        return Err(bad());
    }
    Ok(Upstream::Http {
        authority: authority.to_string(),
    })
}

/// A route may not take over built-in endpoints by accident, and never the ones
/// that authenticate and administer the device.
fn check_shadowing(prefix: &str, override_builtin: bool, c: &Checker<'_>, key: &str) -> Result<(), ConfigError> {
    for builtin in crate::api::routes::ROUTES {
        let covered = crate::util::path_is_under(builtin.path, prefix);
        if !covered {
            continue;
        }
        if !builtin.overridable {
            return Err(c.err(
                key,
                format!(
                    "`{prefix}` would take over {} {}, which roomgate always serves itself",
                    builtin.method, builtin.path
                ),
            ));
        }
        if !override_builtin {
            return Err(c.err(
                key,
                format!(
                    "`{prefix}` would shadow the built-in {} {}; set override_builtin = true to send it to the upstream",
                    builtin.method, builtin.path
                ),
            ));
        }
    }
    Ok(())
}

fn validate_tls(raw: RawTls, c: &Checker<'_>) -> Result<TlsConfig, ConfigError> {
    let cert_dir = c.path("tls.cert_dir", &raw.cert_dir)?;
    let (cert_file, key_file, operator_supplied) = match (&raw.cert_file, &raw.key_file) {
        (Some(cf), Some(kf)) => (c.path("tls.cert_file", cf)?, c.path("tls.key_file", kf)?, true),
        (None, None) => (cert_dir.join(CERT_FILE), cert_dir.join(KEY_FILE), false),
        (Some(_), None) => {
            return Err(c.err("tls.key_file", "must be set when tls.cert_file is set"));
        }
        (None, Some(_)) => {
            return Err(c.err("tls.cert_file", "must be set when tls.key_file is set"));
        }
    };
    let mut hostnames = Vec::new();
    for (i, h) in raw.hostnames.iter().enumerate() {
        let ok = !h.is_empty()
            && h.len() <= 253
            && h.split('.')
                .all(|l| !l.is_empty() && l.len() <= 63 && l.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'));
        if !ok {
            return Err(c.err(&format!("tls.hostnames[{i}]"), format!("`{h}` is not a DNS name")));
        }
        hostnames.push(h.to_ascii_lowercase());
    }
    let mut ip_addresses = Vec::new();
    for (i, a) in raw.ip_addresses.iter().enumerate() {
        ip_addresses.push(
            a.parse()
                .map_err(|_| c.err(&format!("tls.ip_addresses[{i}]"), format!("`{a}` is not an IP address")))?,
        );
    }
    Ok(TlsConfig {
        cert_dir,
        cert_file,
        key_file,
        operator_supplied,
        hostnames,
        ip_addresses,
        validity_days: c.range("tls.validity_days", raw.validity_days, 1, 36500)?,
    })
}

fn validate_limits(raw: &RawLimits, c: &Checker<'_>) -> Result<Limits, ConfigError> {
    let ms = Duration::from_millis;
    let hour = Duration::from_secs(3600);
    Ok(Limits {
        max_connections: c.range("limits.max_connections", raw.max_connections, 1, 65_536)?,
        handshake_timeout: c.duration("limits.handshake_timeout", &raw.handshake_timeout, ms(100), hour)?,
        head_timeout: c.duration("limits.head_timeout", &raw.head_timeout, ms(100), hour)?,
        body_timeout: c.duration("limits.body_timeout", &raw.body_timeout, ms(100), hour)?,
        idle_timeout: c.duration("limits.idle_timeout", &raw.idle_timeout, ms(100), 24 * hour)?,
        drain_timeout: c.duration("limits.drain_timeout", &raw.drain_timeout, ms(0), hour)?,
        max_body_bytes: c.range("limits.max_body_bytes", raw.max_body_bytes, 1024, 16 * 1024 * 1024)?,
        // hyper's HTTP/1 read buffer cannot be smaller than 8 KiB.
        max_header_bytes: c.range("limits.max_header_bytes", raw.max_header_bytes, 8192, 1024 * 1024)?,
        max_headers: c.range("limits.max_headers", raw.max_headers, 8, 1024)?,
        h2_max_concurrent_streams: c.range(
            "limits.h2_max_concurrent_streams",
            raw.h2_max_concurrent_streams,
            1,
            1024,
        )?,
        h2_max_header_list_bytes: c.range(
            "limits.h2_max_header_list_bytes",
            raw.h2_max_header_list_bytes,
            1024,
            1024 * 1024,
        )?,
        h2_keepalive_interval: c.duration(
            "limits.h2_keepalive_interval",
            &raw.h2_keepalive_interval,
            ms(100),
            hour,
        )?,
        h2_keepalive_timeout: c.duration("limits.h2_keepalive_timeout", &raw.h2_keepalive_timeout, ms(100), hour)?,
        max_event_streams: c.range("limits.max_event_streams", raw.max_event_streams, 1, 65_536)?,
        hash_concurrency: c.range("limits.hash_concurrency", raw.hash_concurrency, 1, 64)?,
        hash_queue: c.range("limits.hash_queue", raw.hash_queue, 0, 10_000)?,
        max_api_keys: c.range("limits.max_api_keys", raw.max_api_keys, 1, 10_000)?,
        legacy_cache_entries: c.range("limits.legacy_cache_entries", raw.legacy_cache_entries, 1, 10_000)?,
        login_delay_max: c.duration(
            "limits.login_delay_max",
            &raw.login_delay_max,
            Duration::from_secs(1),
            hour,
        )?,
    })
}

fn validate_policy(raw: &RawPolicy, requests_per_minute: u32, c: &Checker<'_>) -> Result<Policy, ConfigError> {
    let session_lifetime_secs = match raw.session_lifetime.trim() {
        "none" | "" => None,
        s => Some(
            c.duration(
                "policy.session_lifetime",
                s,
                Duration::from_secs(1),
                Duration::from_secs(100 * 365 * 86_400),
            )?
            .as_secs(),
        ),
    };
    let policy = Policy {
        session_lifetime_secs,
        max_sessions_per_account: raw.max_sessions_per_account,
        password_min_length: raw.password_min_length,
        password_max_length: raw.password_max_length,
        allow_empty_general_password: raw.allow_empty_general_password,
        require_admin_password_change: raw.require_admin_password_change,
        legacy_basic_credentials: raw.legacy_basic_credentials,
        login_failures_per_hour: raw.login_failures_per_hour,
        login_failures_before_delay: raw.login_failures_before_delay,
        requests_per_minute,
    };
    if let Err(violations) = policy.validate() {
        let v = &violations[0];
        let key = match v.field {
            "requestsPerMinute" => "limits.requests_per_minute".to_string(),
            f => format!("policy.{}", snake_case(f)),
        };
        return Err(c.err(&key, v.reason.replace("passwordMinLength", "password_min_length")));
    }
    Ok(policy)
}

fn snake_case(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for ch in camel.chars() {
        if ch.is_ascii_uppercase() {
            out.push('_');
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out.replace("_secs", "")
}

fn validate_device(raw: RawDevice, c: &Checker<'_>) -> Result<DeviceInfo, ConfigError> {
    let ip_address = match raw.ip_address.trim() {
        "auto" | "" => None,
        s => Some(
            s.parse::<IpAddr>()
                .map_err(|_| c.err("device.ip_address", "must be an IP address or \"auto\""))?
                .to_string(),
        ),
    };
    let mut hardware_components = Vec::new();
    for (i, hc) in raw.hardware_components.into_iter().enumerate() {
        let k = |f: &str| format!("device.hardware_components[{i}].{f}");
        hardware_components.push(HardwareComponent {
            kind: c.text(&k("type"), &hc.kind, 64)?,
            hardware_id: c.text(&k("hardware_id"), &hc.hardware_id, 64)?,
            firmware_version: c.text(&k("firmware_version"), &hc.firmware_version, 64)?,
        });
    }
    Ok(DeviceInfo {
        name: c.text("device.name", &raw.name, 64)?,
        model: c.one_of("device.model", &raw.model, &["hdl310", "hdl410"])?,
        hardware_id: c.text("device.hardware_id", &raw.hardware_id, 64)?,
        firmware_version: c.text("device.firmware_version", &raw.firmware_version, 64)?,
        device_version: c.text("device.device_version", &raw.device_version, 64)?,
        device_status: c.one_of(
            "device.device_status",
            &raw.device_status,
            &["Ok", "CableUnplugged", "Disconnected"],
        )?,
        enrollment_status: c.one_of(
            "device.enrollment_status",
            &raw.enrollment_status,
            &["enrolled", "unEnrolled"],
        )?,
        ip_address,
        mac_address: {
            let m = raw.mac_address.trim();
            let ok = m.len() == 17
                && m.split(':').count() == 6
                && m.split(':')
                    .all(|p| p.len() == 2 && p.chars().all(|ch| ch.is_ascii_hexdigit()));
            if !ok {
                return Err(c.err("device.mac_address", "must look like 00:1a:2b:3c:4d:5e"));
            }
            m.to_ascii_lowercase()
        },
        hardware_components,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(text, Path::new("/etc/roomgate"), "test.toml")
    }

    #[test]
    fn a_reload_keeps_start_only_settings_and_names_them() {
        let running = load("[server]\nlisten = \"127.0.0.1:8443\"\n").unwrap();
        let mut next = load(
            "[server]\nlisten = \"0.0.0.0:443\"\n[limits]\nmax_connections = 10\nidle_timeout = \"5s\"\n[log]\nformat = \"json\"\n",
        )
        .unwrap();
        let pending = next.keep_start_only(&running);
        assert_eq!(pending, ["server.listen", "limits.max_connections", "log.format"]);
        assert_eq!(next.listen, running.listen);
        assert_eq!(next.limits.max_connections, running.limits.max_connections);
        assert!(!next.log.json);
        assert_eq!(next.limits.idle_timeout, Duration::from_secs(5), "the rest applies");
        assert!(next.keep_start_only(&running).is_empty(), "nothing left to report");
    }

    #[test]
    fn a_config_from_a_file_can_be_read_again_with_its_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("roomgate.toml");
        std::fs::write(&file, "[device]\nhardware_id = \"one\"\n").unwrap();
        let overrides = Overrides {
            listen: Some("127.0.0.1:9999".parse().unwrap()),
            ..Overrides::default()
        };
        let first = Config::load(Some(&file), &overrides).unwrap();
        std::fs::write(&file, "[device]\nhardware_id = \"two\"\n").unwrap();
        let again = first.reread().unwrap();
        assert_eq!(again.device.hardware_id, "two");
        assert_eq!(again.listen.port(), 9999, "command-line overrides still win");
        assert!(
            load("").unwrap().reread().is_err(),
            "text without a file cannot be re-read"
        );
    }

    #[test]
    fn embedded_default_is_valid_and_documents_the_built_in_defaults() {
        let from_file = load(EMBEDDED_DEFAULT).expect("embedded default must be valid");
        let built_in = load("").expect("empty config must be valid");
        // Everything but the two folders (which the file points at the repository's
        // top level) must be what an empty file gives: the comments tell the truth.
        assert_eq!(from_file.listen, built_in.listen);
        assert_eq!(from_file.limits, built_in.limits);
        assert_eq!(from_file.passwords, built_in.passwords);
        assert_eq!(from_file.policy, built_in.policy);
        assert_eq!(from_file.device, built_in.device);
        assert_eq!(from_file.events, built_in.events);
        assert_eq!(from_file.log, built_in.log);
        assert_eq!(from_file.listen.to_string(), "0.0.0.0:8443");
        assert_eq!(from_file.state_dir, Path::new("/etc/roomgate/../var"));
        assert_eq!(from_file.tls.cert_dir, Path::new("/etc/roomgate/../certs"));
    }

    #[test]
    fn unknown_key_names_the_key() {
        let e = load("[limits]\nmax_conections = 5\n").unwrap_err();
        assert_eq!(e.file, "test.toml");
        assert!(e.key.starts_with("limits"), "{e}");
        assert!(e.reason.contains("max_conections"), "{e}");
    }

    #[test]
    fn syntax_errors_name_the_file_and_position() {
        let e = load("[limits\n").unwrap_err();
        assert_eq!(e.key, "");
        assert!(e.to_string().starts_with("test.toml: "), "{e}");
        assert!(e.to_string().contains("(line 1, column"), "{e}");
    }

    #[test]
    fn wrong_type_names_the_key() {
        let e = load("[limits]\nmax_connections = \"many\"\n").unwrap_err();
        assert_eq!(e.key, "limits.max_connections", "{e}");
    }

    #[test]
    fn bad_values_name_their_keys() {
        let cases = [
            ("[server]\nlisten = \"nowhere\"", "server.listen"),
            ("[limits]\nidle_timeout = \"soon\"", "limits.idle_timeout"),
            ("[limits]\nhead_timeout = \"1ms\"", "limits.head_timeout"),
            ("[limits]\nmax_connections = 0", "limits.max_connections"),
            ("[limits]\nrequests_per_minute = 2000000", "limits.requests_per_minute"),
            ("[passwords]\nmemory_kib = 1", "passwords.memory_kib"),
            ("[device]\nmodel = \"hdl999\"", "device.model"),
            ("[device]\nname = \"a\\\"b\"", "device.name"),
            ("[device]\nmac_address = \"zz\"", "device.mac_address"),
            ("[tls]\ncert_file = \"/x.pem\"", "tls.key_file"),
            ("[tls]\nip_addresses = [\"300.1.1.1\"]", "tls.ip_addresses[0]"),
            (
                "[policy]\nlogin_failures_per_hour = 500",
                "policy.login_failures_per_hour",
            ),
            ("[policy]\nsession_lifetime = \"forever\"", "policy.session_lifetime"),
            ("[log]\nformat = \"xml\"", "log.format"),
        ];
        for (text, key) in cases {
            let e = load(text).unwrap_err();
            assert_eq!(e.key, key, "for {text:?}: {e}");
            assert!(e.to_string().starts_with("test.toml: "), "{e}");
        }
    }

    #[test]
    fn relative_paths_resolve_against_the_config_folder() {
        let c = load("[server]\nstate_dir = \"state\"\n[tls]\ncert_dir = \"/abs/certs\"").unwrap();
        assert_eq!(c.state_dir, Path::new("/etc/roomgate/state"));
        assert_eq!(c.tls.cert_file, Path::new("/abs/certs/cert.pem"));
        assert!(!c.tls.operator_supplied);
    }

    #[test]
    fn overrides_win() {
        let mut c = load("").unwrap();
        c.apply(&Overrides {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            state_dir: Some("/tmp/s".into()),
            cert_dir: Some("/tmp/c".into()),
        });
        assert_eq!(c.listen.to_string(), "127.0.0.1:0");
        assert_eq!(c.state_dir, Path::new("/tmp/s"));
        assert_eq!(c.tls.key_file, Path::new("/tmp/c/key.pem"));
    }

    #[test]
    fn routes_are_validated_and_sorted_longest_first() {
        let c = load(
            "[[route]]\nprefix = \"/api/v1/camera\"\nmin_role = \"integrator\"\nupstream = \"http://127.0.0.1:9001\"\n\
             [[route]]\nprefix = \"/api/v1/camera/ptz\"\nmin_role = \"general\"\nupstream = \"unix:/run/ptz.sock\"\nmethods = [\"get\", \"PUT\"]\ntimeout = \"2s\"\n",
        )
        .unwrap();
        assert_eq!(c.routes.len(), 2);
        assert_eq!(c.routes[0].prefix, "/api/v1/camera/ptz");
        assert_eq!(
            c.routes[0].upstream,
            Upstream::Unix {
                path: "/run/ptz.sock".into()
            }
        );
        assert_eq!(c.routes[0].methods, [http::Method::GET, http::Method::PUT]);
        assert_eq!(c.routes[0].timeout, Duration::from_secs(2));
        assert_eq!(
            c.routes[1].upstream,
            Upstream::Http {
                authority: "127.0.0.1:9001".into()
            }
        );
        assert_eq!(c.routes[1].methods.len(), 5);
    }

    #[test]
    fn routes_cannot_shadow_built_ins_by_accident() {
        let route = |prefix: &str, extra: &str| {
            load(&format!(
                "[[route]]\nprefix = \"{prefix}\"\nmin_role = \"general\"\nupstream = \"http://127.0.0.1:9\"\n{extra}"
            ))
        };
        let e = route("/api/v1/audio", "").unwrap_err();
        assert_eq!(e.key, "route[0].prefix");
        assert!(e.reason.contains("override_builtin"), "{e}");
        assert!(route("/api/v1/audio", "override_builtin = true").is_ok());
        assert!(
            route("/api/v1/audio/eq", "").is_ok(),
            "a new path under a built-in one is fine"
        );
        for protected in ["/api/v1/auth", "/api/v1/security", "/api/v1/auth/keys", "/api/v1"] {
            let e = route(protected, "override_builtin = true").unwrap_err();
            assert!(e.reason.contains("always serves itself"), "{protected}: {e}");
        }
        for bad in [
            "/camera",
            "/api/v1/camera/",
            "/api/v1/../x",
            "/api/v1//x",
            "/api/v1/ca mera",
        ] {
            assert_eq!(route(bad, "").unwrap_err().key, "route[0].prefix", "{bad}");
        }
        for (upstream, ok) in [
            ("http://localhost:80", true),
            ("https://x:1", false),
            ("http://x", false),
            ("ftp://x:1", false),
            ("http://u@x:1", false),
        ] {
            let r = load(&format!(
                "[[route]]\nprefix = \"/api/v1/x\"\nmin_role = \"admin\"\nupstream = \"{upstream}\"\n"
            ));
            assert_eq!(r.is_ok(), ok, "{upstream}");
        }
        let e =
            load("[[route]]\nprefix = \"/api/v1/x\"\nmin_role = \"none\"\nupstream = \"http://a:1\"\n").unwrap_err();
        assert_eq!(e.key, "route[0].min_role");
    }

    #[test]
    fn session_lifetime_parses() {
        let c = load("[policy]\nsession_lifetime = \"30days\"").unwrap();
        assert_eq!(c.policy.session_lifetime_secs, Some(30 * 86_400));
    }
}
