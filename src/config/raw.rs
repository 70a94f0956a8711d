//! Stage one: the file laid over the embedded default, deserialised into structs
//! that mirror the TOML. Unknown keys and values of the wrong type or form are
//! refused here, by serde; toml gives the error's position in the file, which names
//! the key (`key_at`: no path-tracking deserializer, which costs over 100 KiB of
//! binary for this one-off parse).
//!
//! Every default is a value in [`EMBEDDED_DEFAULT`]: the file's tables are merged
//! into its tables key by key (arrays, such as `[[device.hardware_components]]`,
//! replace), so no key here has a default of its own. The exceptions are the keys the
//! default leaves out, which are optional (`Option`, or no `[[route]]`).

use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{Deserializer, Error as _, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{
    Collector, ConfigError, DeviceInfo, EMBEDDED_DEFAULT, EventsConfig, Facility, HashParams, LogFormat,
    SyslogTransport, SyslogWhat,
};
use crate::auth::accounts::Role;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub server: RawServer,
    pub tls: RawTls,
    pub limits: RawLimits,
    pub passwords: HashParams,
    pub policy: RawPolicy,
    pub device: DeviceInfo,
    pub events: EventsConfig,
    pub enrollment: RawEnrollment,
    pub log: RawLog,
    #[serde(default, rename = "route")]
    pub routes: Vec<RawRoute>,
}

/// `[server]`. `state_dir` is left out of the defaults (see [`parse`]);
/// `http_listen` is off unless a file sets it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    #[serde(deserialize_with = "text")]
    pub listen: SocketAddr,
    pub http_listen: Option<Text<SocketAddr>>,
    pub state_dir: Option<String>,
}

/// `[tls]`. `cert_dir` is left out of the defaults (see [`parse`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTls {
    pub cert_dir: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    pub hostnames: Vec<String>,
    pub ip_addresses: Vec<Text<IpAddr>>,
    pub validity_days: u32,
    #[serde(deserialize_with = "text")]
    pub expiry_warning: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    #[serde(deserialize_with = "text")]
    pub first_byte_timeout: Duration,
    #[serde(deserialize_with = "text")]
    pub handshake_timeout: Duration,
    #[serde(deserialize_with = "text")]
    pub head_timeout: Duration,
    #[serde(deserialize_with = "text")]
    pub body_timeout: Duration,
    #[serde(deserialize_with = "text")]
    pub idle_timeout: Duration,
    #[serde(deserialize_with = "text")]
    pub drain_timeout: Duration,
    pub max_body_bytes: usize,
    pub max_discard_bytes: usize,
    #[serde(deserialize_with = "text")]
    pub discard_timeout: Duration,
    pub max_header_bytes: usize,
    pub max_headers: usize,
    pub h2_max_concurrent_streams: u32,
    pub h2_max_header_list_bytes: u32,
    #[serde(deserialize_with = "text")]
    pub h2_keepalive_interval: Duration,
    #[serde(deserialize_with = "text")]
    pub h2_keepalive_timeout: Duration,
    pub max_event_streams: usize,
    pub max_public_streams: usize,
    pub max_streams_per_address: usize,
    pub hash_concurrency: usize,
    pub hash_queue: usize,
    #[serde(deserialize_with = "text")]
    pub hash_memory_keep: Duration,
    pub max_api_keys: usize,
    #[serde(deserialize_with = "text")]
    pub session_idle_takeover: Duration,
    pub legacy_cache_entries: usize,
    #[serde(deserialize_with = "text")]
    pub login_delay_max: Duration,
    pub requests_per_minute: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    #[serde(deserialize_with = "text")]
    pub session_lifetime: Option<Duration>,
    pub max_sessions_per_account: u32,
    pub password_min_length: u32,
    pub password_max_length: u32,
    pub allow_empty_general_password: bool,
    pub require_admin_password_change: bool,
    pub legacy_basic_credentials: bool,
    pub accept_vendor_example_credential: bool,
    pub login_failures_per_hour: u32,
    pub login_failures_before_delay: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEnrollment {
    pub code_file: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLog {
    pub level: String,
    #[serde(deserialize_with = "text")]
    pub format: LogFormat,
    /// Left out of the default: no syslog output unless a file names a collector.
    pub syslog: Option<Text<Collector>>,
    pub syslog_ca_file: Option<String>,
    #[serde(deserialize_with = "text")]
    pub syslog_what: SyslogWhat,
    pub syslog_queue: usize,
    #[serde(deserialize_with = "text")]
    pub syslog_facility: Facility,
}

/// One `[[route]]`; `methods` and `timeout` may be left out (see `check`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    pub prefix: String,
    #[serde(deserialize_with = "text")]
    pub min_role: Role,
    pub upstream: String,
    pub methods: Option<Vec<Text<http::Method>>>,
    pub timeout: Option<Text<Duration>>,
    #[serde(default)]
    pub override_builtin: bool,
}

/// The file's text laid over the embedded default, deserialised. Syntax errors name
/// the file and position; the others also the key.
pub(super) fn parse(text: &str, label: &str) -> Result<RawConfig, ConfigError> {
    let error = |key: String, e: toml::de::Error| ConfigError {
        file: label.to_string(),
        key,
        reason: one_line(&e.to_string()),
    };
    let mut table = DeTable::parse(EMBEDDED_DEFAULT)
        .map_err(|e| error(String::new(), e))?
        .into_inner();
    let file = DeTable::parse(text).map_err(|e| error(String::new(), e))?;
    let given = |section: &str, key: &str| match file.get_ref().get(section).map(Spanned::get_ref) {
        Some(DeValue::Table(t)) => t.contains_key(key),
        _ => false,
    };
    let folders_given = (given("server", "state_dir"), given("tls", "cert_dir"));
    merge(&mut table, file.get_ref().clone());
    let root = Spanned::new(file.span(), table);
    // Values that fail come from `text` (the default's are valid): the error's
    // position is in it, and names the key there.
    let mut raw = RawConfig::deserialize(toml::Deserializer::from(root)).map_err(|mut e| {
        let key = e.span().and_then(|at| key_at(file.get_ref(), &at)).unwrap_or_default();
        e.set_input(Some(text));
        error(key, e)
    })?;
    // The embedded file points its folders at the repository's top level ("../var");
    // left out of any other file, they are "var" and "certs" next to it (see `check`).
    if !folders_given.0 {
        raw.server.state_dir = None;
    }
    if !folders_given.1 {
        raw.tls.cert_dir = None;
    }
    Ok(raw)
}

/// Lay `over` onto `base`: tables merge key by key, anything else replaces.
fn merge<'i>(base: &mut DeTable<'i>, over: DeTable<'i>) {
    for (key, value) in over {
        let span = value.span();
        match (
            base.get_mut(key.get_ref().as_ref()).map(Spanned::get_mut),
            value.into_inner(),
        ) {
            (Some(DeValue::Table(b)), DeValue::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(key, Spanned::new(span, v));
            }
        }
    }
}

/// The path (`limits.idle_timeout`, `route[0].prefix`) of the innermost key or value
/// in `table` whose position holds `at`.
fn key_at(table: &DeTable<'_>, at: &Range<usize>) -> Option<String> {
    let mut found = Vec::new();
    entries("", table, &mut found);
    let holds = |span: &Range<usize>| span.start <= at.start && at.end <= span.end;
    // Inner ones come later: the last of the shortest.
    let (_, path) = found
        .into_iter()
        .rev()
        .filter(|(span, _)| holds(span))
        .min_by_key(|(span, _)| span.len())?;
    Some(path)
}

/// Every key and value under `table` with its path, outer ones first.
fn entries(path: &str, table: &DeTable<'_>, found: &mut Vec<(Range<usize>, String)>) {
    for (key, value) in table {
        let path = match path {
            "" => key.get_ref().to_string(),
            _ => format!("{path}.{}", key.get_ref()),
        };
        found.extend([(key.span(), path.clone()), (value.span(), path.clone())]);
        values(&path, value.get_ref(), found);
    }
}

fn values(path: &str, value: &DeValue<'_>, found: &mut Vec<(Range<usize>, String)>) {
    match value {
        DeValue::Table(table) => entries(path, table, found),
        DeValue::Array(array) => {
            for (i, item) in array.iter().enumerate() {
                let path = format!("{path}[{i}]");
                found.push((item.span(), path.clone()));
                values(&path, item.get_ref(), found);
            }
        }
        _ => {}
    }
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

/// A value the file writes as a string: how it is read, and what is wrong if it
/// cannot be.
pub(super) trait FromText: Sized {
    /// Parse `text` as written in the file.
    fn from_text(text: &str) -> Result<Self, String>;
}

/// `deserialize_with` for a [`FromText`] value.
pub(super) fn text<'de, D: Deserializer<'de>, T: FromText>(d: D) -> Result<T, D::Error> {
    Text::deserialize(d).map(|t| t.0)
}

/// `device.ip_address`: an IP address, or `"auto"` (`None`: found at run time).
pub(super) fn ip_or_auto<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = String::deserialize(d)?;
    match s.trim() {
        "auto" | "" => Ok(None),
        ip => ip
            .parse::<IpAddr>()
            .map(|ip| Some(ip.to_string()))
            .map_err(|_| D::Error::custom("must be an IP address or \"auto\"")),
    }
}

/// A [`FromText`] value in an array or under a key that may be left out.
pub(super) struct Text<T>(pub T);

impl<'de, T: FromText> Deserialize<'de> for Text<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Read in the visitor, so that toml gives a bad value (in an array too) its position.
        struct Read<T>(std::marker::PhantomData<T>);
        impl<T: FromText> Visitor<'_> for Read<T> {
            type Value = Text<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Text<T>, E> {
                T::from_text(s).map(Text).map_err(E::custom)
            }
        }
        d.deserialize_str(Read(std::marker::PhantomData))
    }
}

/// `impl FromText for Type` from the expression that reads the string `s`.
macro_rules! from_text {
    ($($(#[$doc:meta])* $ty:ty => |$s:ident| $read:expr;)*) => {
        $($(#[$doc])* impl FromText for $ty {
            fn from_text($s: &str) -> Result<Self, String> {
                $read
            }
        })*
    };
}

from_text! {
    SocketAddr => |s| s.trim().parse().map_err(|_| format!("`{s}` is not an address like 0.0.0.0:8443"));
    IpAddr => |s| s.parse().map_err(|_| format!("`{s}` is not an IP address"));
    Duration => |s| humantime::parse_duration(s.trim())
        .map_err(|_| format!("`{s}` is not a duration (examples: \"500ms\", \"10s\", \"2m\")"));
    /// A duration, or `"none"`.
    Option<Duration> => |s| match s.trim() {
        "none" | "" => Ok(None),
        d => Duration::from_text(d).map(Some),
    };
    Role => |s| Role::parse(s.trim()).ok_or_else(|| "must be one of monitor, general, integrator, admin".into());
    /// A method a route may forward, in any case.
    http::Method => |s| {
        let upper = s.trim().to_ascii_uppercase();
        match ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"].contains(&upper.as_str()) {
            true => http::Method::from_bytes(upper.as_bytes()).map_err(|_| "invalid".into()),
            false => Err(format!("`{s}` is not a method that can be forwarded")),
        }
    };
    LogFormat => |s| match s {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        _ => Err("must be one of text, json".into()),
    };
    SyslogWhat => |s| match s {
        "audit" => Ok(SyslogWhat::Audit),
        "all" => Ok(SyslogWhat::All),
        _ => Err("must be one of audit, all".into()),
    };
    Facility => |s| Facility::NAMES
        .iter()
        .find(|(name, _)| *name == s)
        .map(|(_, code)| Facility(*code))
        .ok_or_else(|| format!(
            "must be one of {}",
            Facility::NAMES.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
        ));
    /// `udp://host:port`, `tcp://host:port` or `tls://host:port`; an IPv6 address in brackets.
    Collector => |s| collector(s.trim());
}

/// Read a collector URL. The host is checked for the characters a DNS name or an
/// IP address can have, so that nothing else reaches a resolver or a log line.
fn collector(s: &str) -> Result<Collector, String> {
    let form = || format!("`{s}` is not a collector like udp://192.0.2.10:514, tcp://host:601 or tls://host:6514");
    let (scheme, rest) = s.split_once("://").ok_or_else(form)?;
    let transport = match scheme {
        "udp" => SyslogTransport::Udp,
        "tcp" => SyslogTransport::Tcp,
        "tls" => SyslogTransport::Tls,
        _ => return Err(format!("`{scheme}` is not a collector transport: udp, tcp or tls")),
    };
    let (host, port) = match rest.strip_prefix('[') {
        Some(v6) => {
            let (host, port) = v6.split_once("]:").ok_or_else(form)?;
            host.parse::<std::net::Ipv6Addr>().map_err(|_| form())?;
            (host, port)
        }
        None => rest.rsplit_once(':').ok_or_else(form)?,
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    let port = port.parse::<u16>().ok().filter(|p| *p != 0);
    match (host_ok, port) {
        (true, Some(port)) => Ok(Collector {
            transport,
            host: host.to_string(),
            port,
        }),
        _ => Err(form()),
    }
}
