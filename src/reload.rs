//! Changing a running service without dropping a connection.
//!
//! Two triggers, one task (so the two never race):
//! - **Certificate files replaced** (`roomgate cert regenerate`, or an operator
//!   installing new files): noticed within a second by a cheap `stat` of both files.
//! - **A reload request** (SIGHUP, or [`ReloadTrigger::reload`]): the config file
//!   is read and validated again with the same command-line overrides, and the
//!   certificate it names is loaded (or generated). Only when both succeed does
//!   anything change; otherwise the error is logged (file, key, reason) and the
//!   running configuration stays. Settings that size things made at start (see
//!   [`Config::keep_start_only`]) keep their running values, with a warning naming
//!   each one that needs a restart.
//!
//! - **A certificate installed** (`PUT /api/v1/security/certificate`): the
//!   handler asks through [`App::apply_certificate`] and hears the result.
//!
//! The same task logs a warning at start and once a day while the certificate
//! served ends within `tls.expiry_warning`.
//!
//! New connections and requests use the new settings and certificate; open
//! connections keep the TLS session and limits they started with, and open event
//! streams keep running. The service manager hears `RELOADING=1` and then `READY=1`.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::app::App;
use crate::config::Config;
use crate::transport::tls::{self, SharedServerConfig};

/// Called with the new configuration after a reload is applied (the binary uses it
/// to change the log level).
pub(crate) type ReloadHook = Arc<dyn Fn(&Config) + Send + Sync>;

/// Asks the running service to reload its configuration and certificate.
#[derive(Debug, Clone, Default)]
pub struct ReloadTrigger(Arc<Notify>);

impl ReloadTrigger {
    /// Request a reload; requests made while one runs are merged into the next.
    pub fn reload(&self) {
        self.0.notify_one();
    }
}

/// Start the task that performs reloads until shutdown.
pub(crate) fn spawn(app: App, tls: SharedServerConfig, trigger: ReloadTrigger, hook: Option<ReloadHook>) {
    tokio::spawn(async move {
        let mut current = tls::material_stamp(&app.config().tls);
        let mut shutdown = app.shutdown_signal();
        let mut tick = tokio::time::interval(crate::app::STATE_POLL_INTERVAL);
        let mut daily = tokio::time::interval(EXPIRY_CHECK_INTERVAL);
        let mut requests = app.take_certificate_requests();
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = daily.tick() => warn_if_expiring(&app),
                Some(reply) = next_request(&mut requests) => {
                    let result = reload_certificate(&app, &tls).await;
                    if result.is_ok() {
                        current = tls::material_stamp(&app.config().tls);
                    }
                    let _ = reply.send(result);
                }
                () = trigger.0.notified() => {
                    crate::transport::notify::reloading();
                    if reload_config(&app, &tls, hook.as_ref()).await {
                        current = tls::material_stamp(&app.config().tls);
                    }
                    crate::transport::notify::ready();
                }
                _ = tick.tick() => {
                    let stamp = tls::material_stamp(&app.config().tls);
                    if stamp.is_some() && stamp != current && reload_certificate(&app, &tls).await.is_ok() {
                        current = stamp;
                    }
                }
            }
        }
    });
}

/// How often the expiry warning is looked at (the first look is at start).
const EXPIRY_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(86_400);

async fn next_request(
    requests: &mut Option<tokio::sync::mpsc::Receiver<crate::app::CertificateRequest>>,
) -> Option<crate::app::CertificateRequest> {
    match requests {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

/// Log a warning when the certificate served ends within `tls.expiry_warning`.
fn warn_if_expiring(app: &App) {
    let Some(expiry) = app.certificate_expiry() else {
        return;
    };
    if !expiry.expiring_soon {
        return;
    }
    let fingerprint = app.certificate().map(|c| c.fingerprint.clone()).unwrap_or_default();
    if expiry.days_left < 0 {
        tracing::warn!(
            not_after = %expiry.not_after,
            "the device certificate expired at {}; clients refuse it: install a new one (roomgate cert csr, then cert install); sha256 fingerprint {fingerprint}",
            expiry.not_after
        );
    } else {
        tracing::warn!(
            not_after = %expiry.not_after,
            days_left = expiry.days_left,
            "the device certificate expires at {} ({} days left): install a renewed one (roomgate cert csr, then cert install); sha256 fingerprint {fingerprint}",
            expiry.not_after,
            expiry.days_left
        );
    }
}

/// Re-read the config and its certificate; apply both or neither.
async fn reload_config(app: &App, tls: &SharedServerConfig, hook: Option<&ReloadHook>) -> bool {
    let running: Config = (*app.config()).clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let next = running.reread().map_err(|e| e.to_string())?;
        let cert = tls::load_or_generate(&next.tls, &next.device.name).map_err(|e| e.to_string())?;
        let server_config = tls::server_config(&cert).map_err(|e| e.to_string())?;
        Ok::<_, String>((next, server_config, tls::live(&cert)))
    })
    .await;
    let (next, server_config, live) = match loaded {
        Ok(Ok(parts)) => parts,
        Ok(Err(reason)) => {
            tracing::error!("configuration not reloaded; the running configuration stays: {reason}");
            crate::auth::audit::record("config_reload", "failure", &crate::auth::audit::Actor::CONSOLE, None);
            return false;
        }
        Err(_) => {
            tracing::error!("configuration reload task failed; the running configuration stays");
            return false;
        }
    };
    let source = next.source.clone();
    let pending = app.reload_config(next);
    tls.store(server_config);
    let fingerprint = live.fingerprint.clone();
    app.set_certificate(live);
    for key in pending {
        tracing::warn!(
            key,
            "this setting changed in the file; it takes effect at the next restart"
        );
    }
    if let Some(hook) = hook {
        hook(&app.config());
    }
    tracing::info!("configuration reloaded from {source}; certificate sha256 fingerprint {fingerprint}");
    crate::auth::audit::record(
        "config_reload",
        "success",
        &crate::auth::audit::Actor::CONSOLE,
        Some(&source),
    );
    true
}

/// Load the certificate files named by the running configuration: the new
/// fingerprint, or why they cannot be used (the running certificate stays).
async fn reload_certificate(app: &App, tls: &SharedServerConfig) -> Result<String, String> {
    let cfg = app.config().tls.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let cert = tls::load(&cfg)?;
        Ok::<_, tls::TlsError>((tls::server_config(&cert)?, tls::live(&cert)))
    })
    .await;
    match loaded {
        Ok(Ok((config, live))) => {
            tls.store(config);
            let fingerprint = live.fingerprint.clone();
            app.set_certificate(live);
            tracing::info!("certificate reloaded; sha256 fingerprint {fingerprint}");
            crate::auth::audit::record(
                "certificate_reload",
                "success",
                &crate::auth::audit::Actor::CONSOLE,
                Some(&fingerprint),
            );
            Ok(fingerprint)
        }
        // Say, the key replaced before the certificate: retried at the next look.
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "the certificate files changed but cannot be used yet");
            Err(e.to_string())
        }
        Err(_) => {
            tracing::warn!("certificate reload task failed");
            Err("the certificate reload task failed".into())
        }
    }
}
