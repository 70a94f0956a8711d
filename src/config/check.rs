//! Stage two: every value within its bounds, the rules that involve several keys,
//! relative paths resolved against the config file's folder.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{RawConfig, RawLog, RawPolicy, RawRoute, RawTls};
use super::{CERT_FILE, Config, ConfigError, DeviceInfo, KEY_FILE, Limits, LogConfig, StartConfig};
use super::{RouteConfig, SyslogConfig, SyslogTransport, TlsConfig, Upstream};
use crate::auth::policy::Policy;

/// The folders when a file leaves them out: next to the file. (The embedded default
/// writes "../var" and "../certs", the repository's top level, for itself.)
const STATE_DIR: &str = "var";
const CERT_DIR: &str = "certs";

/// Methods a route forwards when it does not list its own.
const ROUTE_METHODS: [http::Method; 5] = [
    http::Method::GET,
    http::Method::POST,
    http::Method::PUT,
    http::Method::PATCH,
    http::Method::DELETE,
];
/// How long a route's upstream has to answer when the route does not say.
const ROUTE_TIMEOUT: Duration = Duration::from_secs(10);

/// Makes errors that name the file, and resolves paths against its folder.
pub(super) struct Checker<'a> {
    /// The file's name in messages.
    pub file: &'a str,
    /// Its folder.
    pub base: &'a Path,
}

/// A bounded setting, shown in messages as the file writes it.
trait Bounded: PartialOrd + Copy {
    fn show(self) -> String;
}

macro_rules! bounded_numbers {
    ($($t:ty),*) => {
        $(impl Bounded for $t {
            fn show(self) -> String {
                self.to_string()
            }
        })*
    };
}
bounded_numbers!(u32, usize);

impl Bounded for Duration {
    fn show(self) -> String {
        humantime::format_duration(self).to_string()
    }
}

/// `within!(c, raw.section.key, min, max)`: the value of `section.key` in the raw
/// config, checked; the error names the key as the file writes it.
macro_rules! within {
    ($c:expr, $raw:ident . $section:ident . $key:ident, $min:expr, $max:expr) => {
        $c.range(
            concat!(stringify!($section), ".", stringify!($key)),
            $raw.$section.$key,
            $min,
            $max,
        )?
    };
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
        Ok(self.base.join(value))
    }

    fn range<T: Bounded>(&self, key: &str, value: T, min: T, max: T) -> Result<T, ConfigError> {
        if value < min || value > max {
            return Err(self.err(key, format!("must be between {} and {}", min.show(), max.show())));
        }
        Ok(value)
    }

    fn text(&self, key: &str, value: &str) -> Result<(), ConfigError> {
        if !(1..=64).contains(&value.chars().count()) {
            return Err(self.err(key, "must be 1 to 64 characters"));
        }
        if value.chars().any(|c| c.is_control() || c == '"' || c == '\\') {
            return Err(self.err(key, "must not contain control characters, quotes or backslashes"));
        }
        Ok(())
    }

    fn one_of(&self, key: &str, value: &str, allowed: &[&str]) -> Result<(), ConfigError> {
        match allowed.contains(&value) {
            true => Ok(()),
            false => Err(self.err(key, format!("must be one of {}", allowed.join(", ")))),
        }
    }
}

/// The validated configuration of a deserialised file.
pub(super) fn config(raw: RawConfig, c: &Checker<'_>) -> Result<Config, ConfigError> {
    let (ms, hour) = (Duration::from_millis, Duration::from_secs(3600));
    let start = StartConfig {
        listen: raw.server.listen,
        http_listen: check_http_listen(raw.server.listen, raw.server.http_listen.map(|a| a.0), c)?,
        state_dir: c.path("server.state_dir", raw.server.state_dir.as_deref().unwrap_or(STATE_DIR))?,
        passwords: super::HashParams {
            memory_kib: within!(c, raw.passwords.memory_kib, 64, 1024 * 1024),
            iterations: within!(c, raw.passwords.iterations, 1, 100),
            parallelism: within!(c, raw.passwords.parallelism, 1, 16),
        },
        max_connections: within!(c, raw.limits.max_connections, 1, 65_536),
        max_connections_per_address: within!(c, raw.limits.max_connections_per_address, 1, 65_536),
        hash_concurrency: within!(c, raw.limits.hash_concurrency, 1, 64),
        hash_queue: within!(c, raw.limits.hash_queue, 0, 10_000),
        hash_memory_keep: within!(c, raw.limits.hash_memory_keep, Duration::ZERO, hour),
        max_event_streams: within!(c, raw.limits.max_event_streams, 1, 65_536),
        max_public_streams: within!(c, raw.limits.max_public_streams, 0, 65_536),
        max_streams_per_address: within!(c, raw.limits.max_streams_per_address, 1, 65_536),
        legacy_cache_entries: within!(c, raw.limits.legacy_cache_entries, 1, 10_000),
        login_delay_max: within!(c, raw.limits.login_delay_max, Duration::from_secs(1), hour),
        log_format: raw.log.format,
        syslog: check_syslog(&raw.log, c)?,
    };
    if raw.passwords.memory_kib < 8 * raw.passwords.parallelism {
        return Err(c.err("passwords.memory_kib", "must be at least 8 KiB per lane of parallelism"));
    }
    let tls = check_tls(raw.tls, c)?;
    let limits = Limits {
        first_byte_timeout: within!(c, raw.limits.first_byte_timeout, ms(100), hour),
        handshake_timeout: within!(c, raw.limits.handshake_timeout, ms(100), hour),
        head_timeout: within!(c, raw.limits.head_timeout, ms(100), hour),
        body_timeout: within!(c, raw.limits.body_timeout, ms(100), hour),
        idle_timeout: within!(c, raw.limits.idle_timeout, ms(100), 24 * hour),
        drain_timeout: within!(c, raw.limits.drain_timeout, ms(0), hour),
        max_body_bytes: within!(c, raw.limits.max_body_bytes, 1024, 16 * 1024 * 1024),
        max_discard_bytes: within!(c, raw.limits.max_discard_bytes, 0, 1024 * 1024 * 1024),
        discard_timeout: within!(c, raw.limits.discard_timeout, ms(0), hour),
        // hyper's HTTP/1 read buffer cannot be smaller than 8 KiB.
        max_header_bytes: within!(c, raw.limits.max_header_bytes, 8192, 1024 * 1024),
        max_headers: within!(c, raw.limits.max_headers, 8, 1024),
        h2_max_concurrent_streams: within!(c, raw.limits.h2_max_concurrent_streams, 1, 1024),
        h2_max_header_list_bytes: within!(c, raw.limits.h2_max_header_list_bytes, 1024, 1024 * 1024),
        h2_keepalive_interval: within!(c, raw.limits.h2_keepalive_interval, ms(100), hour),
        h2_keepalive_timeout: within!(c, raw.limits.h2_keepalive_timeout, ms(100), hour),
        max_api_keys: within!(c, raw.limits.max_api_keys, 1, 10_000),
        session_idle_takeover: within!(
            c,
            raw.limits.session_idle_takeover,
            Duration::from_secs(1),
            365 * 24 * hour
        ),
    };
    let policy = check_policy(raw.policy, raw.limits.requests_per_minute, c)?;
    let device = check_device(raw.device, c)?;
    for (key, interval) in [
        ("events.heartbeat_interval", raw.events.heartbeat_interval),
        ("events.keepalive_interval", raw.events.keepalive_interval),
        ("events.data_interval", raw.events.data_interval),
        ("events.sound_location_interval", raw.events.sound_location_interval),
        ("device.identify_time", device.identify_time),
        ("device.calibration_time", device.calibration_time),
    ] {
        c.range(key, interval, ms(50), hour)?;
    }
    if let Some(d) = raw.events.max_stream_duration {
        c.range("events.max_stream_duration", d, ms(100), 30 * 24 * hour)?;
    }
    let enrollment_code_file = match raw.enrollment.code_file {
        Some(p) => Some(c.path("enrollment.code_file", &p)?),
        None => None,
    };
    let level = raw.log.level.trim();
    if level.is_empty() || level.parse::<tracing_subscriber::filter::Targets>().is_err() {
        return Err(c.err(
            "log.level",
            "must be a level (error, warn, info, debug, trace) or a filter like roomgate=debug",
        ));
    }
    Ok(Config {
        source: c.file.to_string(),
        start,
        tls,
        limits,
        policy,
        device,
        events: raw.events,
        enrollment_code_file,
        log: LogConfig { level: level.into() },
        routes: check_routes(raw.routes, c)?,
        origin: None,
    })
}

/// `log.syslog*`: a `tls://` collector needs the CA that verifies it, and the CA
/// file is refused with any other transport, where it would be silently unused.
fn check_syslog(raw: &RawLog, c: &Checker<'_>) -> Result<SyslogConfig, ConfigError> {
    let collector = raw.syslog.as_ref().map(|t| t.0.clone());
    let tls = collector
        .as_ref()
        .is_some_and(|col| col.transport == SyslogTransport::Tls);
    let ca_file = match (&raw.syslog_ca_file, tls) {
        (Some(p), true) => Some(c.path("log.syslog_ca_file", p)?),
        (None, true) => {
            return Err(c.err(
                "log.syslog_ca_file",
                "a tls:// collector needs the CA file that verifies it",
            ));
        }
        (Some(_), false) => return Err(c.err("log.syslog_ca_file", "is used only with a tls:// collector")),
        (None, false) => None,
    };
    Ok(SyslogConfig {
        collector,
        ca_file,
        what: raw.syslog_what,
        queue: c.range("log.syslog_queue", raw.syslog_queue, 1, 65_536)?,
        facility: raw.syslog_facility,
    })
}

/// The plain-HTTP listener, when set, needs an address of its own (port 0 for both
/// is fine: each gets a free port).
fn check_http_listen(
    listen: SocketAddr,
    http_listen: Option<SocketAddr>,
    c: &Checker<'_>,
) -> Result<Option<SocketAddr>, ConfigError> {
    match http_listen {
        Some(addr) if addr == listen && addr.port() != 0 => {
            Err(c.err("server.http_listen", "must differ from server.listen"))
        }
        other => Ok(other),
    }
}

fn check_tls(tls: RawTls, c: &Checker<'_>) -> Result<TlsConfig, ConfigError> {
    let cert_dir = c.path("tls.cert_dir", tls.cert_dir.as_deref().unwrap_or(CERT_DIR))?;
    let (cert_file, key_file, operator_supplied) = match (&tls.cert_file, &tls.key_file) {
        (Some(cf), Some(kf)) => (c.path("tls.cert_file", cf)?, c.path("tls.key_file", kf)?, true),
        (None, None) => (cert_dir.join(CERT_FILE), cert_dir.join(KEY_FILE), false),
        (Some(_), None) => return Err(c.err("tls.key_file", "must be set when tls.cert_file is set")),
        (None, Some(_)) => return Err(c.err("tls.cert_file", "must be set when tls.key_file is set")),
    };
    for (i, h) in tls.hostnames.iter().enumerate() {
        let ok = !h.is_empty()
            && h.len() <= 253
            && h.split('.')
                .all(|l| !l.is_empty() && l.len() <= 63 && l.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'));
        if !ok {
            return Err(c.err(&format!("tls.hostnames[{i}]"), format!("`{h}` is not a DNS name")));
        }
    }
    Ok(TlsConfig {
        cert_dir,
        cert_file,
        key_file,
        operator_supplied,
        hostnames: tls.hostnames.iter().map(|h| h.to_ascii_lowercase()).collect(),
        ip_addresses: tls.ip_addresses.into_iter().map(|a| a.0).collect(),
        validity_days: c.range("tls.validity_days", tls.validity_days, 1, 36500)?,
        expiry_warning: c.range(
            "tls.expiry_warning",
            tls.expiry_warning,
            Duration::ZERO,
            Duration::from_secs(3650 * 86_400),
        )?,
    })
}

fn check_policy(policy: RawPolicy, requests_per_minute: u32, c: &Checker<'_>) -> Result<Policy, ConfigError> {
    let century = Duration::from_secs(100 * 365 * 86_400);
    let session_lifetime = match policy.session_lifetime {
        Some(d) => Some(c.range("policy.session_lifetime", d, Duration::from_secs(1), century)?),
        None => None,
    };
    let checked = Policy {
        session_lifetime_secs: session_lifetime.map(|d| d.as_secs()),
        max_sessions_per_account: policy.max_sessions_per_account,
        password_min_length: policy.password_min_length,
        password_max_length: policy.password_max_length,
        allow_empty_general_password: policy.allow_empty_general_password,
        require_admin_password_change: policy.require_admin_password_change,
        legacy_basic_credentials: policy.legacy_basic_credentials,
        accept_vendor_example_credential: policy.accept_vendor_example_credential,
        login_failures_per_hour: policy.login_failures_per_hour,
        login_failures_before_delay: policy.login_failures_before_delay,
        requests_per_minute,
    };
    match checked.validate() {
        Ok(()) => Ok(checked),
        // The reason names another setting by its API name; the file says it its way.
        Err(v) => Err(c.err(
            v[0].key,
            v[0].reason.replace("passwordMinLength", "password_min_length"),
        )),
    }
}

fn check_device(mut device: DeviceInfo, c: &Checker<'_>) -> Result<DeviceInfo, ConfigError> {
    c.text("device.name", &device.name)?;
    c.text("device.hardware_id", &device.hardware_id)?;
    c.text("device.device_version", &device.device_version)?;
    let statuses = ["Ok", "CableUnplugged", "Disconnected"];
    c.one_of("device.device_status", &device.device_status, &statuses)?;
    c.one_of(
        "device.enrollment_status",
        &device.enrollment_status,
        &["enrolled", "unEnrolled"],
    )?;
    let mac = device.mac_address.trim();
    let ok = mac.len() == 17
        && mac
            .split(':')
            .all(|p| p.len() == 2 && p.chars().all(|ch| ch.is_ascii_hexdigit()));
    if !ok {
        return Err(c.err("device.mac_address", "must look like 00:1a:2b:3c:4d:5e"));
    }
    device.mac_address = mac.to_ascii_lowercase();
    check_components(&device, c)?;
    Ok(device)
}

/// Listed components must be the model's: one connect module, and a bar on each
/// port the model has (1 for an HDL310, 1 and 2 for an HDL410).
fn check_components(device: &DeviceInfo, c: &Checker<'_>) -> Result<(), ConfigError> {
    let mut ports = Vec::new();
    for (i, hc) in device.hardware_components.iter().enumerate() {
        let key = |f: &str| format!("device.hardware_components[{i}].{f}");
        c.one_of(&key("model"), &hc.model, &["ConnectModule2", "Bar"])?;
        c.text(&key("hardware_id"), &hc.hardware_id)?;
        match (hc.model.as_str(), hc.port_number) {
            ("Bar", Some(port)) if (1..=device.model.bars()).contains(&port) && !ports.contains(&port) => {
                ports.push(port);
            }
            ("Bar", _) => {
                let wanted = if device.model.bars() == 1 {
                    "1"
                } else {
                    "1 or 2, each once"
                };
                return Err(c.err(
                    &key("port_number"),
                    format!("a bar of an {} is on port {wanted}", device.model),
                ));
            }
            (_, Some(_)) => return Err(c.err(&key("port_number"), "only a bar has a port number")),
            _ => {}
        }
    }
    Ok(())
}

fn check_routes(raw: Vec<RawRoute>, c: &Checker<'_>) -> Result<Vec<RouteConfig>, ConfigError> {
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
        let upstream = parse_upstream(&r.upstream, c, &key("upstream"))?;
        let methods = match r.methods {
            None => ROUTE_METHODS.to_vec(),
            Some(list) if list.is_empty() => return Err(c.err(&key("methods"), "must list at least one method")),
            Some(list) => list.into_iter().map(|m| m.0).collect(),
        };
        let timeout = match r.timeout {
            Some(t) => c.range(
                &key("timeout"),
                t.0,
                Duration::from_millis(100),
                Duration::from_secs(3600),
            )?,
            None => ROUTE_TIMEOUT,
        };
        check_shadowing(&prefix, r.override_builtin, c, &key("prefix"))?;
        routes.push(RouteConfig {
            prefix,
            min_role: r.min_role,
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
