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
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                () = trigger.0.notified() => {
                    crate::transport::notify::reloading();
                    if reload_config(&app, &tls, hook.as_ref()).await {
                        current = tls::material_stamp(&app.config().tls);
                    }
                    crate::transport::notify::ready();
                }
                _ = tick.tick() => {
                    let stamp = tls::material_stamp(&app.config().tls);
                    if stamp.is_some() && stamp != current && reload_certificate(&app, &tls).await {
                        current = stamp;
                    }
                }
            }
        }
    });
}

/// Re-read the config and its certificate; apply both or neither.
async fn reload_config(app: &App, tls: &SharedServerConfig, hook: Option<&ReloadHook>) -> bool {
    let running: Config = (*app.config()).clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let next = running.reread().map_err(|e| e.to_string())?;
        let cert = tls::load_or_generate(&next.tls, &next.device.name).map_err(|e| e.to_string())?;
        let server_config = tls::server_config(&cert).map_err(|e| e.to_string())?;
        Ok::<_, String>((next, server_config, cert.fingerprint))
    })
    .await;
    let (next, server_config, fingerprint) = match loaded {
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

/// Load the certificate files named by the running configuration.
async fn reload_certificate(app: &App, tls: &SharedServerConfig) -> bool {
    let cfg = app.config().tls.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let cert = tls::load(&cfg)?;
        Ok::<_, tls::TlsError>((tls::server_config(&cert)?, cert.fingerprint))
    })
    .await;
    match loaded {
        Ok(Ok((config, fingerprint))) => {
            tls.store(config);
            tracing::info!("certificate reloaded; sha256 fingerprint {fingerprint}");
            crate::auth::audit::record(
                "certificate_reload",
                "success",
                &crate::auth::audit::Actor::CONSOLE,
                Some(&fingerprint),
            );
            true
        }
        // Say, the key replaced before the certificate: retried at the next look.
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "the certificate files changed but cannot be used yet");
            false
        }
        Err(_) => {
            tracing::warn!("certificate reload task failed");
            false
        }
    }
}
