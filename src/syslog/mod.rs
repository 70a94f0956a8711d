//! Security events (and, if configured, the service's log lines) to a syslog
//! collector, as RFC 5424 messages with structured data.
//!
//! A `tracing` layer with a filter of its own (so that `log.level` never hides an
//! audit event from the collector) turns each selected event into one message
//! (`format`) and queues it (`transport::syslog`, which owns the socket); the
//! request path never waits for the collector.
//!
//! - An audit event (target `roomgate::audit`) has MSGID = its action, its fields
//!   (action, outcome, account, client_id, remote, subject) as parameters of
//!   `[roomgate@32473 …]`, the text `ACTION OUTCOME`, the facility
//!   `log.syslog_facility`, and severity notice (5) for a success, warning (4)
//!   otherwise.
//! - With `log.syslog_what = "all"`, every other event of roomgate's own targets
//!   at info and above: facility daemon, severity by level (error 3, warning 4,
//!   info 6), MSGID nil, the target and fields as parameters, the message as text.
//!   Other crates' events are never sent: what they log is not under this
//!   project's no-secret rule. A parameter whose name speaks of a secret
//!   (password, secret, token, credential, …) is sent as `(redacted)`, a second
//!   guard behind the rule that no log statement takes a secret.
//! - HOSTNAME is the OS host name (`device.name` is a display name with spaces,
//!   which RFC 5424 does not allow there), APP-NAME `roomgate`, PROCID the pid.
//!
//! Only `roomgate serve` sends to the collector; changes made with the console are
//! audited by the service when it sees them (`auth::audit::record_external_changes`).

pub(crate) mod format;

use std::time::{Duration, SystemTime};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{Filtered, Targets};
use tracing_subscriber::layer::{Context, Layer};

use crate::config::{Config, Facility, SyslogWhat};
pub use crate::transport::syslog::SyslogError;
use crate::transport::syslog::{Queue, on_syslog_thread};

/// The target of audit events (`auth::audit`).
const AUDIT_TARGET: &str = "roomgate::audit";

/// Field names whose values are never sent, whatever a future log line puts there.
const SECRET_NAMES: [&str; 8] = [
    "password",
    "secret",
    "token",
    "credential",
    "authorization",
    "enrollment_code",
    "passphrase",
    "private_key",
];

/// Messages that never reached the collector (queue full or send failed) since
/// start: the counter for health metrics.
pub fn dropped_total() -> u64 {
    crate::transport::syslog::dropped_total()
}

/// A running syslog output: the layer to install and the queue to flush at exit.
#[derive(Debug)]
pub struct Syslog {
    queue: Queue,
    what: SyslogWhat,
    facility: Facility,
    hostname: String,
}

/// The `tracing` layer that queues each selected event as a syslog message.
#[derive(Debug)]
pub struct SyslogLayer {
    queue: Queue,
    facility: Facility,
    hostname: String,
    procid: u32,
}

impl Syslog {
    /// Start the syslog output `config` asks for (`None`: no collector named).
    pub fn start(config: &Config) -> Result<Option<Syslog>, SyslogError> {
        let cfg = &config.start.syslog;
        let Some(collector) = &cfg.collector else {
            return Ok(None);
        };
        let queue = crate::transport::syslog::start(collector, cfg.ca_file.as_deref(), cfg.queue)?;
        Ok(Some(Syslog {
            queue,
            what: cfg.what,
            facility: cfg.facility,
            hostname: os_hostname(),
        }))
    }

    /// The layer, with its own filter: the audit events, and with `"all"` every
    /// roomgate event at info and above (whatever `log.level` says).
    pub fn layer<S>(&self) -> Filtered<SyslogLayer, Targets, S>
    where
        S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        let targets = match self.what {
            SyslogWhat::Audit => Targets::new().with_target(AUDIT_TARGET, Level::INFO),
            SyslogWhat::All => Targets::new().with_target("roomgate", Level::INFO),
        };
        let layer = SyslogLayer {
            queue: self.queue.clone(),
            facility: self.facility,
            hostname: self.hostname.clone(),
            procid: std::process::id(),
        };
        layer.with_filter(targets)
    }

    /// Give queued messages up to `limit` to reach a connected collector.
    pub fn flush(&self, limit: Duration) {
        self.queue.flush(limit);
    }
}

impl<S: Subscriber> Layer<S> for SyslogLayer {
    fn on_event(&self, event: &Event<'_>, _cx: Context<'_, S>) {
        // The syslog thread's own reports go to stderr only.
        if on_syslog_thread() {
            return;
        }
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let timestamp = humantime::format_rfc3339_micros(SystemTime::now()).to_string();
        let message = if meta.target() == AUDIT_TARGET {
            self.audit_message(&fields, &timestamp)
        } else {
            self.log_message(meta.target(), *meta.level(), &fields, &timestamp)
        };
        self.queue.push(message);
    }
}

impl SyslogLayer {
    /// An audit event: MSGID = action, fields as parameters, `ACTION OUTCOME`.
    fn audit_message(&self, fields: &Fields, timestamp: &str) -> String {
        let action = fields.get("action").unwrap_or("-");
        let outcome = fields.get("outcome").unwrap_or("-");
        let severity = if outcome == "success" { NOTICE } else { WARNING };
        let text = format!("{action} {outcome}");
        let params = fields.params();
        format::format(&format::Message {
            facility: self.facility.0,
            severity,
            timestamp,
            hostname: &self.hostname,
            procid: self.procid,
            msgid: action,
            params: &params,
            text: &text,
        })
    }

    /// A log line: facility daemon, severity by level, target and fields as
    /// parameters, the message as text.
    fn log_message(&self, target: &str, level: Level, fields: &Fields, timestamp: &str) -> String {
        let mut params = vec![("target", target)];
        params.extend(fields.params());
        format::format(&format::Message {
            facility: Facility::DAEMON.0,
            severity: severity_of(level),
            timestamp,
            hostname: &self.hostname,
            procid: self.procid,
            msgid: "",
            params: &params,
            text: &fields.message,
        })
    }
}

/// RFC 5424 severities used here.
const ERROR: u8 = 3;
const WARNING: u8 = 4;
const NOTICE: u8 = 5;
const INFO: u8 = 6;
const DEBUG: u8 = 7;

fn severity_of(level: Level) -> u8 {
    match level {
        Level::ERROR => ERROR,
        Level::WARN => WARNING,
        Level::INFO => INFO,
        _ => DEBUG,
    }
}

/// An event's message and other fields, as text.
#[derive(Debug, Default)]
struct Fields {
    message: String,
    values: Vec<(&'static str, String)>,
}

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    fn params(&self) -> Vec<(&str, &str)> {
        self.values.iter().map(|(n, v)| (*n, v.as_str())).collect()
    }

    fn push(&mut self, field: &Field, value: String) {
        let name = field.name();
        let value = if is_secret_name(name) {
            "(redacted)".into()
        } else {
            value
        };
        self.values.push((name, value));
    }
}

fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_NAMES.iter().any(|s| lower.contains(s))
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_string(),
            _ => self.push(field, value.to_string()),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            _ => self.push(field, format!("{value:?}")),
        }
    }
}

/// The kernel's host name, `-` (nil) if it cannot be read.
fn os_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    /// The messages queued while `f` logs, with the layer for `what`.
    fn queued(what: SyslogWhat, capacity: usize, f: impl FnOnce()) -> Vec<String> {
        let (queue, mut rx) = crate::transport::syslog::test_queue(capacity);
        let syslog = Syslog {
            queue,
            what,
            facility: Facility(10),
            hostname: "room-12".into(),
        };
        let subscriber = tracing_subscriber::registry().with(syslog.layer());
        tracing::subscriber::with_default(subscriber, f);
        std::iter::from_fn(|| rx.try_recv().ok()).collect()
    }

    fn audit(outcome: &str) {
        let actor = crate::auth::audit::Actor {
            account: None,
            client_id: "cid",
            remote: "192.0.2.7",
        };
        match outcome {
            "success" => crate::auth::audit::record("login", "success", &actor, Some("admin")),
            _ => crate::auth::audit::record("login", "throttled", &actor, None),
        }
    }

    #[test]
    fn syslog_audit_events_become_structured_messages() {
        let lines = queued(SyslogWhat::Audit, 8, || {
            audit("success");
            audit("throttled");
        });
        assert_eq!(lines.len(), 2, "{lines:?}");
        let pid = std::process::id();
        assert!(lines[0].starts_with("<85>1 "), "authpriv.notice: {}", lines[0]);
        assert!(
            lines[0].ends_with(&format!(
                " room-12 roomgate {pid} login [roomgate@32473 action=\"login\" outcome=\"success\" \
                 account=\"-\" client_id=\"cid\" remote=\"192.0.2.7\" subject=\"admin\"] login success"
            )),
            "{}",
            lines[0]
        );
        assert!(lines[1].starts_with("<84>1 "), "authpriv.warning: {}", lines[1]);
    }

    #[test]
    fn syslog_audit_mode_sends_no_log_line_and_all_mode_only_roomgates() {
        let log_lines = || {
            tracing::info!(target: "roomgate::transport::server", remote = "192.0.2.7", "listening");
            tracing::debug!(target: "roomgate::api", "too detailed");
            tracing::error!(target: "hyper::proto", "not ours");
        };
        assert!(queued(SyslogWhat::Audit, 8, log_lines).is_empty());
        let lines = queued(SyslogWhat::All, 8, log_lines);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].starts_with("<30>1 "), "daemon.info: {}", lines[0]);
        assert!(
            lines[0]
                .ends_with(" - [roomgate@32473 target=\"roomgate::transport::server\" remote=\"192.0.2.7\"] listening"),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn syslog_fields_named_like_secrets_are_redacted() {
        let lines = queued(SyslogWhat::All, 8, || {
            tracing::warn!(target: "roomgate::api", new_password = "Hunter2-Secret", api_token = %"rgk_x", "oops");
        });
        assert_eq!(lines.len(), 1);
        assert!(
            !lines[0].contains("Hunter2") && !lines[0].contains("rgk_x"),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].contains("new_password=\"(redacted)\" api_token=\"(redacted)\""),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn syslog_a_full_queue_drops_and_counts_without_waiting() {
        let before = dropped_total();
        let lines = queued(SyslogWhat::Audit, 2, || {
            for _ in 0..5 {
                audit("success");
            }
        });
        assert_eq!(lines.len(), 2);
        assert!(
            dropped_total() - before >= 3,
            "the counter is shared by parallel tests, so at least"
        );
    }
}
