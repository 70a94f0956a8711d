//! `GET /api/v1/metrics`: health metrics for monitoring, in the Prometheus text
//! format (OpenMetrics when the `Accept` header asks for it).
//!
//! The counters are kept by [`crate::metrics::Registry`] as requests and logins
//! happen; everything else is read at scrape time where it lives: sessions and keys
//! from the state snapshot, open connections and streams from their slots, the
//! argon2 load from the hasher, the certificate's notAfter from the live certificate
//! (`App::certificate_expiry_seconds`), syslog drops from the syslog client, memory
//! and descriptors from `/proc/self`. A scrape costs a few file reads (microseconds),
//! done inline like the state file's `stat`.

use http::{HeaderValue, Response, StatusCode};

use crate::api::Ctx;
use crate::api::routes::ROUTES;
use crate::auth::accounts::Role;
use crate::auth::state::State;
use crate::http_util::Body;
use crate::metrics::{Exposition, Labelled, ProcessStats, Registry, wants_open_metrics};

/// `GET /api/v1/metrics`
pub(crate) fn metrics(ctx: &Ctx<'_>) -> Response<Body> {
    let accept = ctx.accept.as_ref().and_then(|v| v.to_str().ok());
    let mut out = Exposition::new(wants_open_metrics(accept));
    write_requests(ctx, &mut out);
    ctx.app.metrics().write_counters(&mut out);
    write_credentials(&ctx.state, &mut out);
    write_load(ctx, &mut out);
    write_certificate(ctx.app.certificate_expiry_seconds(), &mut out);
    write_syslog(&mut out);
    write_process(&mut out);
    out.gauges(
        "roomgate_build_info",
        "Always 1; the version label is the running build's",
        "version",
        &[(env!("CARGO_PKG_VERSION"), 1.0)],
    );
    let content_type = HeaderValue::from_static(out.content_type());
    let mut resp = Response::new(crate::http_util::full(out.finish()));
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(http::header::CONTENT_TYPE, content_type);
    resp.headers_mut()
        .insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Requests by built-in route, forwarded prefix and "unrouted".
fn write_requests(ctx: &Ctx<'_>, out: &mut Exposition) {
    let registry = ctx.app.metrics();
    let forwarded = ctx.app.forwarded_routes();
    let mut targets: Vec<Labelled<'_>> = ROUTES
        .iter()
        .zip(registry.routes())
        .map(|(route, target)| Labelled {
            route: route.path,
            method: route.method.as_str(),
            target,
        })
        .collect();
    targets.extend(forwarded.iter().map(|r| Labelled {
        route: &r.config.prefix,
        method: "",
        target: &r.stats,
    }));
    targets.push(Labelled {
        route: "unrouted",
        method: "",
        target: registry.unrouted(),
    });
    Registry::write_requests(out, &targets);
}

/// Sessions (unexpired) and API keys by account.
fn write_credentials(state: &State, out: &mut Exposition) {
    let now = crate::util::now();
    let count = |live: &dyn Fn(Role) -> usize| -> Vec<(&'static str, f64)> {
        Role::ALL.iter().map(|r| (r.as_str(), live(*r) as f64)).collect()
    };
    let sessions = count(&|role| {
        state
            .sessions
            .values()
            .filter(|s| s.account == role && state.policy.session_expiry(s.created_at).is_none_or(|t| now < t))
            .count()
    });
    let keys = count(&|role| state.api_keys.values().filter(|k| k.account == role).count());
    out.gauges(
        "roomgate_sessions",
        "Unexpired sessions, by account",
        "account",
        &sessions,
    );
    out.gauges("roomgate_api_keys", "API keys, by account", "account", &keys);
}

/// Open connections and streams, and the argon2 hasher's load.
fn write_load(ctx: &Ctx<'_>, out: &mut Exposition) {
    let app = &ctx.app;
    out.gauge(
        "roomgate_open_connections",
        "Open client connections (TLS and plain HTTP), under limits.max_connections",
        app.metrics().open_connections() as f64,
    );
    let (public, authenticated) = app.open_streams();
    out.gauges(
        "roomgate_open_streams",
        "Open event streams: public (heartbeat) and authenticated",
        "kind",
        &[("public", public as f64), ("authenticated", authenticated as f64)],
    );
    let load = app.hasher().load();
    out.gauge(
        "roomgate_argon2_running",
        "Password hashes running on the blocking pool",
        load.running as f64,
    );
    out.gauge(
        "roomgate_argon2_queue_depth",
        "Password hashes waiting for a hashing slot (503 past limits.hash_queue)",
        load.queued as f64,
    );
}

/// The live certificate's notAfter (no sample before the service has loaded one).
fn write_certificate(not_after: Option<i64>, out: &mut Exposition) {
    const NAME: &str = "roomgate_certificate_expiry_timestamp_seconds";
    out.header(
        NAME,
        crate::metrics::Kind::Gauge,
        "When the device certificate expires (notAfter), in seconds since the Unix epoch",
    );
    if let Some(t) = not_after {
        out.sample(NAME, &[], t as f64);
    }
}

/// Messages the syslog output could not deliver (a counter kept by the syslog
/// client itself, which starts before the service does).
fn write_syslog(out: &mut Exposition) {
    const NAME: &str = "roomgate_syslog_dropped_total";
    out.header(
        NAME,
        crate::metrics::Kind::Counter,
        "Syslog messages not delivered to the collector (queue full or send failed)",
    );
    out.sample(NAME, &[], crate::syslog::dropped_total() as f64);
}

/// Resident memory and open descriptors.
fn write_process(out: &mut Exposition) {
    let stats = ProcessStats::read();
    if let Some(rss) = stats.resident_bytes {
        out.gauge(
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
            rss as f64,
        );
    }
    if let Some(fds) = stats.open_fds {
        out.gauge("process_open_fds", "Number of open file descriptors", fds as f64);
    }
}
