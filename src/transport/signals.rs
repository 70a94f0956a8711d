//! Process signals: the only module that installs signal handlers. SIGINT and
//! SIGTERM stop the service (which then drains, see [`Server::run`]); SIGHUP asks
//! [`crate::reload`] to apply a re-read config and certificate.

use crate::transport::server::Server;

/// Run the service until SIGINT or SIGTERM; SIGHUP reloads the config and the
/// certificate.
pub async fn run_until_signal(server: Server) {
    use tokio::signal::unix::{SignalKind, signal};
    // Installed before readiness is announced: SIGHUP's default action ends the process.
    match signal(SignalKind::hangup()) {
        Ok(mut hangups) => {
            let trigger = server.reload_trigger();
            tokio::spawn(async move {
                while hangups.recv().await.is_some() {
                    tracing::info!("SIGHUP received; reloading the configuration and certificate");
                    trigger.reload();
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "cannot handle SIGHUP; configuration reload is unavailable"),
    }
    server.run(shutdown_signal()).await;
}

/// Completes on SIGINT or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled: the service announces that it is
/// listening before it polls, and a signal in between must stop it cleanly rather
/// than kill it with the default action.
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    wait_for_either(term, int)
}

async fn wait_for_either(
    term: std::io::Result<tokio::signal::unix::Signal>,
    int: std::io::Result<tokio::signal::unix::Signal>,
) {
    match (term, int) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM received"),
                _ = int.recv() => tracing::info!("SIGINT received"),
            }
        }
        _ => {
            tracing::error!("cannot install signal handlers; stop the service with SIGKILL");
            std::future::pending::<()>().await;
        }
    }
}
