//! Configuration: TOML → validated [`Config`], in two stages.
//!
//! Stage one (`raw`) lays the file over the embedded default — the one place default
//! values are written — and deserialises the result into structs that mirror the
//! TOML, refuse unknown keys and parse typed values (addresses, durations, roles,
//! methods), so serde names a bad key. Stage two (`check`) checks bounds and the
//! rules that involve several keys, and resolves relative paths against the folder of
//! the config file. Any problem is a [`ConfigError`] naming the file, the key and the
//! reason, reported at start-up (or by `roomgate config check`), never per request.
//!
//! The settings that take effect only at start are one type, [`StartConfig`]: a
//! reload (SIGHUP) keeps the running one and applies the rest.
//!
//! The commented default, `device-config/roomgate.toml`, is compiled into the binary
//! ([`EMBEDDED_DEFAULT`]); when the default path is absent the embedded copy is used
//! as if it lived there, so relative paths resolve the same way.

mod check;
mod raw;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::auth::accounts::Role;
use crate::auth::policy::Policy;
use crate::device::model::{Firmware, Model};

/// The default config, as shipped in `device-config/roomgate.toml`.
pub(crate) const EMBEDDED_DEFAULT: &str = include_str!("../../device-config/roomgate.toml");

/// File name of the generated certificate in `cert_dir`.
pub(crate) const CERT_FILE: &str = "cert.pem";
/// File name of the generated private key in `cert_dir`.
pub(crate) const KEY_FILE: &str = "key.pem";

/// Where `--config` points when not given.
pub(crate) const DEFAULT_CONFIG_PATH: &str = "device-config/roomgate.toml";

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
    /// `--http-listen`
    pub http_listen: Option<SocketAddr>,
    /// `--state-dir`
    pub state_dir: Option<PathBuf>,
    /// `--cert-dir`
    pub cert_dir: Option<PathBuf>,
}

/// The validated configuration: what takes effect only at start, and the rest,
/// which a reload replaces.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was read from, for messages.
    pub source: String,
    /// The settings a reload cannot change.
    pub start: StartConfig,
    /// Certificate settings.
    pub tls: TlsConfig,
    /// Timeouts and sizes of connections and requests.
    pub limits: Limits,
    /// Factory defaults of the security policy (with `limits.requests_per_minute`).
    pub policy: Policy,
    /// The reference device's identity.
    pub device: DeviceInfo,
    /// Event stream timing.
    pub events: EventsConfig,
    /// Factory-provisioned enrollment code file, if any.
    pub enrollment_code_file: Option<PathBuf>,
    /// Logging (the format is in `StartConfig`).
    pub log: LogConfig,
    /// Routes to the device's own services, longest prefix first.
    pub routes: Vec<RouteConfig>,
    /// Where it was read from, so that a reload (SIGHUP) can read it again.
    pub origin: Option<ConfigOrigin>,
}

/// The settings that take effect only at start: the listeners, the state folder, and
/// what sizes the connection cap, the password hasher, the event-stream and
/// legacy-cache slots, the throttle's ceiling and the log output. Each field's serde
/// name is its key in the file, which is how a reload names the ones that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartConfig {
    /// Address to listen on.
    #[serde(rename = "server.listen")]
    pub listen: SocketAddr,
    /// Address of the optional plain-HTTP listener (`None`: off, the default).
    #[serde(rename = "server.http_listen")]
    pub http_listen: Option<SocketAddr>,
    /// Folder of the persisted state (accounts, sessions, keys, settings).
    #[serde(rename = "server.state_dir")]
    pub state_dir: PathBuf,
    /// argon2id cost parameters for new password hashes.
    pub passwords: HashParams,
    /// Open connections at most; further clients wait in the listen backlog.
    #[serde(rename = "limits.max_connections")]
    pub max_connections: usize,
    /// Open connections from one client address (IPv6: one /64) at most.
    #[serde(rename = "limits.max_connections_per_address")]
    pub max_connections_per_address: usize,
    /// Password hashes computed at the same time.
    #[serde(rename = "limits.hash_concurrency")]
    pub hash_concurrency: usize,
    /// Password hashes allowed to wait for a slot; past this, 503.
    #[serde(rename = "limits.hash_queue")]
    pub hash_queue: usize,
    /// How long argon2's working memory is kept after the last hash for the next
    /// one, before it goes back to the system.
    #[serde(rename = "limits.hash_memory_keep")]
    pub hash_memory_keep: Duration,
    /// Open authenticated event streams (SSE) at most.
    #[serde(rename = "limits.max_event_streams")]
    pub max_event_streams: usize,
    /// Open unauthenticated event streams (the heartbeat) at most, a budget of
    /// their own so that strangers cannot take the authenticated streams' places.
    #[serde(rename = "limits.max_public_streams")]
    pub max_public_streams: usize,
    /// Open event streams of one client address (IPv6: one /64) at most.
    #[serde(rename = "limits.max_streams_per_address")]
    pub max_streams_per_address: usize,
    /// Verified `base64(account:password)` credentials remembered (legacy mode).
    #[serde(rename = "limits.legacy_cache_entries")]
    pub legacy_cache_entries: usize,
    /// Longest delay a source address is made to wait after failed logins.
    #[serde(rename = "limits.login_delay_max")]
    pub login_delay_max: Duration,
    /// Text or JSON log lines.
    #[serde(rename = "log.format")]
    pub log_format: LogFormat,
    /// Where security events (and perhaps all log lines) go besides stderr. Start
    /// only: the syslog output is part of the logging set up once at start, like
    /// the format.
    #[serde(flatten)]
    pub syslog: SyslogConfig,
}

/// The syslog output (`log.syslog*`); its keys are named one by one so that a
/// reload can name the one that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyslogConfig {
    /// The collector; `None` (the key left out): no syslog output.
    #[serde(rename = "log.syslog")]
    pub collector: Option<Collector>,
    /// PEM CA certificates that verify a `tls://` collector.
    #[serde(rename = "log.syslog_ca_file")]
    pub ca_file: Option<PathBuf>,
    /// What is sent: the audit events, or every log line of the service.
    #[serde(rename = "log.syslog_what")]
    pub what: SyslogWhat,
    /// Messages waiting for the collector at most; past this they are dropped.
    #[serde(rename = "log.syslog_queue")]
    pub queue: usize,
    /// The facility of audit events (log lines are `daemon`).
    #[serde(rename = "log.syslog_facility")]
    pub facility: Facility,
}

/// A syslog collector: `udp://host:port`, `tcp://host:port` or `tls://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collector {
    /// How messages travel.
    pub transport: SyslogTransport,
    /// A DNS name or an IP address (without brackets); a `tls://` collector's
    /// certificate must name it.
    pub host: String,
    /// The port.
    pub port: u16,
}

impl std::fmt::Display for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = match self.transport {
            SyslogTransport::Udp => "udp",
            SyslogTransport::Tcp => "tcp",
            SyslogTransport::Tls => "tls",
        };
        match self.host.contains(':') {
            true => write!(f, "{scheme}://[{}]:{}", self.host, self.port),
            false => write!(f, "{scheme}://{}:{}", self.host, self.port),
        }
    }
}

impl Serialize for Collector {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The transport to a syslog collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogTransport {
    /// RFC 5426: one datagram per message.
    Udp,
    /// RFC 6587 octet counting over TCP.
    Tcp,
    /// RFC 5425: octet counting over TLS.
    Tls,
}

/// What goes to the syslog collector (`log.syslog_what`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogWhat {
    /// The audit events (target `roomgate::audit`) only.
    Audit,
    /// The audit events and the service's own log lines at info and above.
    All,
}

/// A syslog facility (RFC 5424 §6.2.1), by its conventional name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facility(pub u8);

impl Facility {
    /// The names accepted in the file, each with its code.
    pub const NAMES: [(&'static str, u8); 12] = [
        ("user", 1),
        ("daemon", 3),
        ("auth", 4),
        ("authpriv", 10),
        ("local0", 16),
        ("local1", 17),
        ("local2", 18),
        ("local3", 19),
        ("local4", 20),
        ("local5", 21),
        ("local6", 22),
        ("local7", 23),
    ];

    /// `daemon`, the facility of the service's log lines.
    pub const DAEMON: Facility = Facility(3);

    /// The conventional name.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, code)| *code == self.0)
            .map_or("?", |(name, _)| name)
    }
}

impl Serialize for Facility {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
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
    pub min_role: Role,
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
    /// Warn (log, status health, metric) when the certificate ends within this.
    pub expiry_warning: Duration,
}

/// The timeouts and sizes a reload may change (those fixed at start are in
/// [`StartConfig`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// A new connection must send its first byte within this.
    pub first_byte_timeout: Duration,
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
    /// A refused request's body is read and discarded up to this many bytes, so
    /// that the client is still reading when the refusal arrives.
    pub max_discard_bytes: usize,
    /// …and for at most this long.
    pub discard_timeout: Duration,
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
    /// API keys the device holds at most.
    pub max_api_keys: usize,
    /// At the session cap, a login may end another address's session only once it
    /// has been unused this long.
    pub session_idle_takeover: Duration,
}

/// argon2id cost parameters (`[passwords]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

/// The reference device's identity as reported by `GET /api/v1/audio/hardware`
/// (`[device]`, read as written and then checked).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceInfo {
    /// Device name; also the `WWW-Authenticate` realm and certificate common name.
    pub name: String,
    /// `hdl310` or `hdl410`: decides which vendor features exist.
    pub model: Model,
    /// Unique hardware identifier.
    pub hardware_id: String,
    /// Firmware version in the vendor's format; gates the newer features.
    pub firmware_version: Firmware,
    /// Device version.
    pub device_version: String,
    /// `Ok`, `CableUnplugged` or `Disconnected`.
    pub device_status: String,
    /// `enrolled` or `unEnrolled`.
    pub enrollment_status: String,
    /// Reported IP address; `None` (`"auto"` in the file) means found at run time.
    #[serde(deserialize_with = "raw::ip_or_auto")]
    pub ip_address: Option<String>,
    /// MAC address.
    pub mac_address: String,
    /// Whether a computer is connected to the device's USB port (reported by
    /// `GET /api/v1/status`; a change is announced as `usbConnection`).
    pub usb_connected: bool,
    /// How long identify lights the LEDs.
    #[serde(deserialize_with = "raw::text")]
    pub identify_time: Duration,
    /// How long a calibration runs.
    #[serde(deserialize_with = "raw::text")]
    pub calibration_time: Duration,
    /// Hardware components as configured; empty: derived from the model.
    pub hardware_components: Vec<HardwareComponent>,
}

/// One hardware component of the device, in the vendor's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"), deny_unknown_fields)]
pub struct HardwareComponent {
    /// `ConnectModule2` or `Bar`.
    pub model: String,
    /// Its hardware identifier.
    pub hardware_id: String,
    /// The connect module port a bar is on (1 or 2); none for the connect module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_number: Option<u8>,
}

/// Event stream timing (`[events]`, read as written and then bounds-checked).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    /// Interval of `event: heartbeat` on `/api/v1/heartbeat`.
    #[serde(deserialize_with = "raw::text")]
    pub heartbeat_interval: Duration,
    /// Interval of keep-alive comments on otherwise quiet streams.
    #[serde(deserialize_with = "raw::text")]
    pub keepalive_interval: Duration,
    /// Interval of `deviceMetrics` on `/api/v1/data`.
    #[serde(deserialize_with = "raw::text")]
    pub data_interval: Duration,
    /// Interval of `soundLocation` on `/api/v1/data`.
    #[serde(deserialize_with = "raw::text")]
    pub sound_location_interval: Duration,
    /// Event streams end after this (clients reconnect); `None` keeps them open.
    #[serde(deserialize_with = "raw::text")]
    pub max_stream_duration: Option<Duration>,
}

/// Logging settings a reload may change (the format and syslog output are in
/// [`StartConfig`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// A tracing filter directive such as `info` or `roomgate=debug`.
    pub level: String,
}

/// How log lines are written (`log.format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl Config {
    /// Load and validate a config file, then apply command-line overrides.
    ///
    /// When `path` is `None`, `DEFAULT_CONFIG_PATH` is read if it exists, and the
    /// embedded default is used (as if it lived there) if it does not.
    pub fn load(path: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        let cannot_read = |p: &Path, e: std::io::Error| ConfigError {
            file: p.display().to_string(),
            key: String::new(),
            // The kind is enough for the operator; the path is already in the message.
            reason: format!("cannot read the file: {}", e.kind()),
        };
        let file = path.unwrap_or(Path::new(DEFAULT_CONFIG_PATH));
        let (label, text) = match std::fs::read_to_string(file) {
            Ok(text) => (file.display().to_string(), text),
            Err(e) if path.is_none() && e.kind() == std::io::ErrorKind::NotFound => {
                ("<embedded default>".to_string(), EMBEDDED_DEFAULT.to_string())
            }
            Err(e) => return Err(cannot_read(file, e)),
        };
        let base = absolute(file.parent().unwrap_or(Path::new("")));
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

    /// For a reload: keep `running`'s `StartConfig` and return the file keys of
    /// the settings in it that differ (each needs a restart to take effect).
    pub fn keep_start_only(&mut self, running: &Config) -> Vec<String> {
        if self.start == running.start {
            return Vec::new();
        }
        // Paths from a TOML file are UTF-8, so both serialise; were one not to, the
        // running values are still kept, only unnamed.
        let keys = |s: &StartConfig| match serde_json::to_value(s) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        let (next, now) = (keys(&self.start), keys(&running.start));
        self.start = running.start.clone();
        now.into_iter()
            .filter(|(key, value)| next.get(key) != Some(value))
            .map(|(key, _)| key)
            .collect()
    }

    /// Parse and validate TOML text laid over the embedded default. Relative paths
    /// resolve against `base`; `label` names the source in error messages.
    pub fn from_toml(text: &str, base: &Path, label: &str) -> Result<Config, ConfigError> {
        let raw = raw::parse(text, label)?;
        check::config(raw, &check::Checker { file: label, base })
    }

    /// Apply command-line overrides (they win over the file).
    pub fn apply(&mut self, o: &Overrides) {
        if let Some(listen) = o.listen {
            self.start.listen = listen;
        }
        if let Some(http_listen) = o.http_listen {
            self.start.http_listen = Some(http_listen);
        }
        if let Some(dir) = &o.state_dir {
            self.start.state_dir = absolute(dir);
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

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}
