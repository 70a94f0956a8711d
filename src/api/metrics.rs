//! `GET /api/v1/metrics`: health metrics for monitoring, in the Prometheus text
//! format (OpenMetrics when the `Accept` header asks for it).
//!
//! The counters are kept by [`crate::metrics::Registry`] as requests and logins
//! happen; everything else is read at scrape time where it lives: sessions and keys
//! from the state snapshot, open connections and streams from their slots, the
//! argon2 load from the hasher, the certificate's notAfter from its file, memory and
//! descriptors from `/proc/self`. A scrape costs a few file reads (microseconds),
//! done inline like the state file's `stat`.

use std::path::Path;

use http::{HeaderValue, Response, StatusCode};

use crate::api::Ctx;
use crate::api::routes::ROUTES;
use crate::auth::accounts::Role;
use crate::auth::state::State;
use crate::http_util::Body;
use crate::metrics::{Exposition, Labelled, ProcessStats, Registry, wants_open_metrics};

/// `GET /api/v1/metrics`
pub(crate) fn metrics(ctx: &Ctx) -> Response<Body> {
    let accept = ctx.accept.as_ref().and_then(|v| v.to_str().ok());
    let mut out = Exposition::new(wants_open_metrics(accept));
    write_requests(ctx, &mut out);
    ctx.app.metrics().write_counters(&mut out);
    write_credentials(&ctx.state, &mut out);
    write_load(ctx, &mut out);
    write_certificate(&ctx.app.config().tls.cert_file, &mut out);
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
fn write_requests(ctx: &Ctx, out: &mut Exposition) {
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
fn write_load(ctx: &Ctx, out: &mut Exposition) {
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

/// The live certificate's notAfter (no sample when the file cannot be read).
fn write_certificate(cert_file: &Path, out: &mut Exposition) {
    const NAME: &str = "roomgate_certificate_expiry_timestamp_seconds";
    out.header(
        NAME,
        crate::metrics::Kind::Gauge,
        "When the device certificate expires (notAfter), in seconds since the Unix epoch",
    );
    match certificate_not_after(cert_file) {
        Some(t) => out.sample(NAME, &[], t as f64),
        None => tracing::debug!(path = %cert_file.display(), "could not read the certificate's expiry"),
    }
}

/// The notAfter of the first certificate in a PEM file, in Unix seconds.
///
/// DEDUPE: `transport::tls` gains an expiry helper in the operator-certificates
/// work; this one (the metrics endpoint may not import `transport`) can move to a
/// leaf shared by both.
fn certificate_not_after(path: &Path) -> Option<i64> {
    let pem = std::fs::read(path).ok()?;
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).ok()?;
    let cert = pem.parse_x509().ok()?;
    Some(cert.validity().not_after.timestamp())
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_certificate_expiry_is_read_from_the_pem_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.not_after = rcgen::date_time_ymd(2031, 5, 6);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let path = dir.path().join("cert.pem");
        std::fs::write(&path, cert.pem()).unwrap();
        // 2031-05-06T00:00:00Z
        assert_eq!(super::certificate_not_after(&path), Some(1_935_792_000));
        std::fs::write(&path, "not a certificate").unwrap();
        assert_eq!(super::certificate_not_after(&path), None);
        assert_eq!(super::certificate_not_after(&dir.path().join("missing.pem")), None);
    }
}
