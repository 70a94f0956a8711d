//! The listeners: accept → connection cap → TLS handshake under a timeout →
//! hyper's HTTP/1.1 or HTTP/2 connection, as ALPN chose → graceful shutdown.
//!
//! This module owns the listening sockets and each connection's hyper connection:
//! it takes a connection slot before accepting, runs the handshake, and acts on the
//! verdicts of the connection's watchdog (module `watchdog`). On HTTP/1, hyper's own
//! error answers go through `parse_errors`. A plain-HTTP request on the TLS port
//! gets a JSON 400 telling the caller to use https.
//!
//! The optional plain-HTTP listener (`server.http_listen`, off by default) shares
//! the connection cap, the limits and everything after the handshake: a TLS stream
//! and a plain TCP stream go through the same `Connection::serve_http` (HTTP/1.1
//! only on the plain port). Its requests carry the `http_util::PlainHttp` mark, so that a
//! route's upstream is told `X-Forwarded-Proto: http`.
//!
//! Shutdown is driven by a future: stop accepting, tell open connections and event
//! streams to finish, wait up to `drain_timeout` for in-flight requests (by getting
//! every connection slot back). A reload ([`crate::reload`], asked for by SIGHUP, see
//! [`crate::transport::signals`]) applies a re-read config and certificate;
//! connections accepted after that use them.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use http::Request;
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::app::App;
use crate::auth::store::StoreError;
use crate::config::{Config, Limits};
use crate::http_util::PlainHttp;
use crate::per_address::PerAddress;
use crate::reload::{ReloadHook, ReloadTrigger};
use crate::transport::parse_errors::{JsonParseErrors, canned_response};
use crate::transport::stream::Stream;
use crate::transport::tls::{self, SharedServerConfig, TlsError};
use crate::transport::watchdog::{Activity, Connections, Tracked, Verdict, Watched};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The state could not be opened or created.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The certificate could not be loaded or generated.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {reason}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error kind.
        reason: String,
    },
    /// A start-up task failed.
    #[error("a start-up task failed")]
    Task,
}

/// A bound, ready-to-run service.
pub struct Server {
    listener: TcpListener,
    /// The plain-HTTP listener and its address, when `server.http_listen` is set.
    http: Option<(TcpListener, SocketAddr)>,
    app: App,
    tls: SharedServerConfig,
    fingerprint: String,
    local_addr: SocketAddr,
    reload: ReloadTrigger,
    reload_hook: Option<ReloadHook>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .field("http_local_addr", &self.http_local_addr())
            .finish_non_exhaustive()
    }
}

/// Which listener a connection came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    /// The HTTPS port.
    Tls,
    /// The optional plain-HTTP port.
    Plain,
}

/// Bind `addr`; the address actually bound (the real port for port 0).
async fn bind_listener(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let failed = |e: io::Error| StartError::Bind {
        addr,
        reason: e.kind().to_string(),
    };
    let listener = TcpListener::bind(addr).await.map_err(failed)?;
    let local_addr = listener.local_addr().map_err(failed)?;
    Ok((listener, local_addr))
}

/// The next connection on either listener (a missing plain listener never accepts).
async fn accept_either(tls: &TcpListener, plain: Option<&TcpListener>) -> io::Result<(TcpStream, SocketAddr, Via)> {
    let plain_accept = async {
        match plain {
            Some(listener) => listener.accept().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        accepted = tls.accept() => accepted.map(|(tcp, remote)| (tcp, remote, Via::Tls)),
        accepted = plain_accept => accepted.map(|(tcp, remote)| (tcp, remote, Via::Plain)),
    }
}

/// Say loudly, at every start, that the plain-HTTP listener is on and what it risks.
fn warn_plain_http(addr: SocketAddr) {
    tracing::warn!(
        "listening on plain http://{addr} as well (server.http_listen): passwords, \
         authParameters and API keys travel in clear text on it; use it only on an isolated \
         room network, for controllers that cannot do TLS"
    );
}

impl Server {
    /// Load (or generate) the certificate, open (or create) the state, and bind.
    pub async fn bind(config: Config) -> Result<Server, StartError> {
        raise_open_files_limit(config.start.max_connections);
        let (app, cert) = tokio::task::spawn_blocking(move || -> Result<_, StartError> {
            let cert = tls::load_or_generate(&config.tls, &config.device.name)?;
            if cert.generated {
                tracing::info!(path = %config.tls.cert_file.display(), "generated a self-signed device certificate");
            }
            let app = App::open(config)?;
            app.set_certificate(tls::live(&cert));
            Ok((app, cert))
        })
        .await
        .map_err(|_| StartError::Task)??;
        let tls_config = tls::server_config(&cert)?;
        let (listener, local_addr) = bind_listener(app.config().start.listen).await?;
        let http = match app.config().start.http_listen {
            Some(addr) => Some(bind_listener(addr).await?),
            None => None,
        };
        tracing::info!("certificate sha256 fingerprint {}", cert.fingerprint);
        Ok(Server {
            listener,
            http,
            app,
            tls: Arc::new(ArcSwap::new(tls_config)),
            fingerprint: cert.fingerprint,
            local_addr,
            reload: ReloadTrigger::default(),
            reload_hook: None,
        })
    }

    /// The bound address (the real port when the config said port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The bound plain-HTTP address, when `server.http_listen` is set (the real
    /// port when it said port 0).
    pub fn http_local_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(|(_, addr)| *addr)
    }

    /// The application handle.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// SHA-256 fingerprint of the certificate loaded at start (a reload may replace it;
    /// the log names the new one).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// A handle that asks the running service to reload its config and certificate.
    pub fn reload_trigger(&self) -> ReloadTrigger {
        self.reload.clone()
    }

    /// Call `hook` with the new configuration after each successful reload.
    pub fn on_reload(&mut self, hook: ReloadHook) {
        self.reload_hook = Some(hook);
    }

    /// Serve until `shutdown` completes, then drain.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let Server {
            listener,
            http,
            app,
            tls,
            local_addr,
            reload,
            reload_hook,
            ..
        } = self;
        // Shared by every connection accepted under it: each connection's task holds
        // a pointer, not its own copy (the task keeps several copies of what its
        // futures own, 1,000 times over with 1,000 connections).
        let mut limits = Arc::new(app.config().limits.clone());
        // The cap is sized once, for both listeners; a reload that changes it asks
        // for a restart.
        let max_connections = app.config().start.max_connections;
        let slots = Arc::new(Semaphore::new(max_connections));
        let per_address = PerAddress::new(app.config().start.max_connections_per_address);
        let connections = Arc::new(Connections::default());
        let over_share = app.metrics().counter(
            "roomgate_connections_over_share_total",
            "Connections closed at once because their address held its share (limits.max_connections_per_address)",
        );
        let mut builders = Arc::new(Builders::new(&limits));
        app.spawn_background();
        crate::reload::spawn(app.clone(), Arc::clone(&tls), reload, reload_hook);
        let http_listener = http.map(|(listener, addr)| {
            warn_plain_http(addr);
            listener
        });
        tracing::info!(version = env!("CARGO_PKG_VERSION"), "listening on https://{local_addr}");
        crate::transport::notify::ready();

        tokio::pin!(shutdown);
        let mut backoff = Duration::from_millis(10);
        loop {
            // Waiting for a slot before accepting leaves excess clients in the
            // kernel's backlog instead of starving the ones being served.
            let permit = tokio::select! {
                () = &mut shutdown => break,
                permit = Arc::clone(&slots).acquire_owned() => match permit {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let (tcp, remote, via) = tokio::select! {
                () = &mut shutdown => break,
                accepted = accept_either(&listener, http_listener.as_ref()) => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(1));
                        continue;
                    }
                },
            };
            backoff = Duration::from_millis(10);
            // One address may hold only its share of the slots: past it, the
            // connection is closed at once and the slot is free again.
            let Some(share) = per_address.try_take(remote.ip()) else {
                tracing::debug!(%remote, "this address holds its share of connections; closing");
                over_share.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                continue;
            };
            // A reload applies to the connections accepted after it.
            {
                let current = app.config();
                if current.limits != *limits {
                    limits = Arc::new(current.limits.clone());
                    builders = Arc::new(Builders::new(&limits));
                }
            }
            let conn = Connection {
                app: app.clone(),
                connections: Arc::clone(&connections),
                acceptor: TlsAcceptor::from(tls.load_full()),
                builders: Arc::clone(&builders),
                limits: Arc::clone(&limits),
                remote,
                via,
            };
            let open = app.metrics().connection_opened();
            tokio::spawn(async move {
                conn.serve(tcp).await;
                drop(open);
                drop(share);
                drop(permit);
            });
        }

        drop(listener);
        drop(http_listener);
        tracing::info!("shutting down: no longer accepting connections");
        crate::transport::notify::stopping();
        app.begin_shutdown();
        connections.close_all();
        let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
        let drain_timeout = app.config().limits.drain_timeout;
        match tokio::time::timeout(drain_timeout, slots.acquire_many(all)).await {
            Ok(_) => tracing::info!("all connections finished"),
            Err(_) => tracing::warn!(
                open = max_connections - slots.available_permits(),
                "drain timeout reached; closing the remaining connections"
            ),
        }
        app.flush_usage().await;
    }
}

/// Each connection takes a descriptor; raise the soft limit (up to the hard one) so
/// that `max_connections` fits, instead of failing accepts at the common 1024.
fn raise_open_files_limit(max_connections: usize) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let wanted = u64::try_from(max_connections)
        .unwrap_or(u64::MAX)
        .saturating_mul(2)
        .saturating_add(256);
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current.unwrap_or(u64::MAX);
    if current >= wanted {
        return;
    }
    let target = limit.maximum.map_or(wanted, |hard| hard.min(wanted));
    if target > current {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(target),
                maximum: limit.maximum,
            },
        );
    }
    if target < wanted {
        tracing::warn!(
            limit = target,
            max_connections,
            "the open-files limit is lower than limits.max_connections needs; raise it (systemd: LimitNOFILE)"
        );
    }
}

/// hyper's connection settings for both protocols, rebuilt when a reload changes
/// the limits.
///
/// The protocol is known before the first byte of HTTP: ALPN chose it in the
/// handshake (`h2`, else HTTP/1.1, as for a client that offers no ALPN: RFC 9113
/// §3.2 has HTTP/2 over TLS negotiated by ALPN only), and the plain port speaks
/// HTTP/1.1 only (no h2c). So each connection is hyper's own HTTP/1 or HTTP/2
/// connection, not hyper-util's `auto` one, which would read ahead for the HTTP/2
/// preface and keep a rewind buffer in front of every read for the connection's
/// life.
struct Builders {
    http1: http1::Builder,
    http2: http2::Builder<TokioExecutor>,
}

impl Builders {
    fn new(limits: &Limits) -> Self {
        let mut http1 = http1::Builder::new();
        http1
            .keep_alive(true)
            .max_buf_size(limits.max_header_bytes)
            .max_headers(limits.max_headers)
            // The head timeout is enforced by the connection watchdog (see `watchdog`).
            .header_read_timeout(None);
        let mut http2 = http2::Builder::new(TokioExecutor::new());
        http2
            .timer(TokioTimer::new())
            .max_concurrent_streams(limits.h2_max_concurrent_streams)
            .max_header_list_size(limits.h2_max_header_list_bytes)
            .keep_alive_interval(Some(limits.h2_keepalive_interval))
            .keep_alive_timeout(limits.h2_keepalive_timeout)
            // hyper's defaults against rapid-reset floods (CVE-2023-44487), kept explicit.
            .max_pending_accept_reset_streams(Some(20))
            .max_local_error_reset_streams(Some(1024));
        Builders { http1, http2 }
    }
}

pin_project_lite::pin_project! {
    /// One connection's hyper state machine, for the protocol it speaks.
    #[project = HttpConnectionProj]
    enum HttpConnection<I, S>
    where
        S: hyper::service::HttpService<Incoming>,
    {
        Http1 { #[pin] conn: http1::Connection<I, S> },
        Http2 { #[pin] conn: http2::Connection<I, S, TokioExecutor> },
    }
}

impl<I, S, B> HttpConnection<I, S>
where
    S: hyper::service::HttpService<Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + 'static,
    B: hyper::body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    TokioExecutor: hyper::rt::bounds::Http2ServerConnExec<S::Future, B>,
{
    fn new(builders: &Builders, io: I, service: S, is_h2: bool) -> Self {
        if is_h2 {
            HttpConnection::Http2 {
                conn: builders.http2.serve_connection(io, service),
            }
        } else {
            HttpConnection::Http1 {
                conn: builders.http1.serve_connection(io, service),
            }
        }
    }

    /// Finish the requests in flight, take no more, then end.
    fn graceful_shutdown(self: Pin<&mut Self>) {
        match self.project() {
            HttpConnectionProj::Http1 { conn } => conn.graceful_shutdown(),
            HttpConnectionProj::Http2 { conn } => conn.graceful_shutdown(),
        }
    }

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<hyper::Result<()>> {
        match self.project() {
            HttpConnectionProj::Http1 { conn } => conn.poll(cx),
            HttpConnectionProj::Http2 { conn } => conn.poll(cx),
        }
    }
}

struct Connection {
    app: App,
    /// Every connection being served, for the shutdown to reach.
    connections: Arc<Connections>,
    acceptor: TlsAcceptor,
    builders: Arc<Builders>,
    limits: Arc<Limits>,
    remote: SocketAddr,
    via: Via,
}

/// The answer to a plain-HTTP request on the TLS port.
static HTTPS_REQUIRED: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    canned_response(
        "400 Bad Request",
        "https_required",
        "this port speaks HTTPS only; use https:// to call it",
    )
});

/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

enum Handshake {
    Tls(Box<TlsStream<Watched>>),
    PlainHttp,
}

impl Connection {
    async fn handshake(&self, tcp: TcpStream, activity: &Arc<Activity>) -> io::Result<Handshake> {
        let wait = self.limits.first_byte_timeout.min(self.limits.handshake_timeout);
        let first = first_byte(&tcp, wait).await?;
        if first != TLS_HANDSHAKE {
            if first.is_ascii_uppercase() {
                answer_plain_http(tcp).await;
                return Ok(Handshake::PlainHttp);
            }
            return Err(io::ErrorKind::InvalidData.into());
        }
        let watched = Watched {
            tcp,
            activity: Arc::clone(activity),
        };
        Ok(Handshake::Tls(Box::new(self.acceptor.accept(watched).await?)))
    }

    /// Serve one accepted connection: the TLS handshake on the HTTPS port, then (on
    /// either port) HTTP.
    async fn serve(self, tcp: TcpStream) {
        let _ = tcp.set_nodelay(true);
        let activity = Arc::new(Activity::new(self.limits.head_timeout, self.limits.idle_timeout));
        match self.via {
            Via::Tls => {
                // Boxed: the handshake's state (a whole rustls connection, the
                // plain-HTTP answer's buffer) would otherwise be reserved in this
                // task for the connection's life; see `future_size`.
                if let Some(tls) = Box::pin(self.accept_tls(tcp, &activity)).await {
                    let is_h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                    self.serve_http(Stream::Tls(tls), is_h2, activity).await;
                }
            }
            Via::Plain => {
                let wait = self.limits.first_byte_timeout.min(self.limits.head_timeout);
                if let Err(e) = first_byte(&tcp, wait).await {
                    tracing::debug!(remote = %self.remote, error = %e, "nothing arrived; closing");
                    return;
                }
                let watched = Watched {
                    tcp,
                    activity: Arc::clone(&activity),
                };
                self.serve_http(Stream::Plain(watched), false, activity).await;
            }
        }
    }

    /// The TLS handshake under its timeout; `None` when the connection ends here
    /// (failed, timed out, or a plain-HTTP request answered with `https_required`).
    async fn accept_tls(&self, tcp: TcpStream, activity: &Arc<Activity>) -> Option<Box<TlsStream<Watched>>> {
        match tokio::time::timeout(self.limits.handshake_timeout, self.handshake(tcp, activity)).await {
            Ok(Ok(Handshake::Tls(tls))) => Some(tls),
            Ok(Ok(Handshake::PlainHttp)) => {
                tracing::debug!(remote = %self.remote, "answered a plain-HTTP request on the TLS port");
                None
            }
            Ok(Err(e)) => {
                tracing::debug!(remote = %self.remote, error = %e, "TLS handshake failed");
                None
            }
            Err(_) => {
                tracing::debug!(remote = %self.remote, "TLS handshake timed out");
                None
            }
        }
    }

    /// HTTP on an established stream (TLS or plain TCP, one type so that both are
    /// served by this one loop and one copy of hyper's), under the watchdog, until
    /// the connection ends, times out or is drained at shutdown.
    async fn serve_http(self, io: Stream, is_h2: bool, activity: Arc<Activity>) {
        // The first request head must arrive within the head timeout of the
        // handshake (its bytes often travel with the client's last handshake flight;
        // on the plain port, of the accept); the idle timeout governs the gaps
        // between requests after that.
        let now = activity.now_ms();
        activity.head_started_ms.store(now, Ordering::Release);
        activity.idle_since_ms.store(now, Ordering::Release);

        let app = self.app.clone();
        let remote = self.remote;
        let peer = Arc::new(crate::api::Peer::new(remote));
        let plain = self.via == Via::Plain;
        let svc_activity = Arc::clone(&activity);
        let service = service_fn(move |mut req: Request<Incoming>| {
            let in_flight = svc_activity.request_started();
            let app = app.clone();
            let peer = Arc::clone(&peer);
            if plain {
                req.extensions_mut().insert(PlainHttp);
            }
            // Boxed: hyper keeps a slot for this future in every HTTP/1 connection
            // for the connection's life; a pointer there, and the request's state
            // on the heap only while it is in flight (one allocation per request).
            Box::pin(async move {
                let resp = crate::api::handle_on(&app, &peer, req).await;
                Ok::<_, Infallible>(resp.map(|body| Tracked {
                    body,
                    _in_flight: in_flight,
                }))
            })
        });
        let io = JsonParseErrors::new(io, Arc::clone(&activity), !is_h2);
        let conn = HttpConnection::new(&self.builders, TokioIo::new(io), service, is_h2);
        tokio::pin!(conn);
        // Counted in before the shutdown signal is read: a shutdown that begins after
        // this reaches the connection through `close_all`, one that began before is
        // seen here.
        let _entered = self.connections.enter(&activity);
        let mut closing = *self.app.shutdown_signal().borrow();
        if closing {
            conn.as_mut().graceful_shutdown();
        }
        let mut close_by: Option<Instant> = None;
        // One timer for the connection's life, moved rather than re-created.
        let sleep = tokio::time::sleep(self.limits.head_timeout);
        tokio::pin!(sleep);
        loop {
            if !closing && activity.is_closing() {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            let next_check = match activity.verdict(&self.limits, !is_h2) {
                Verdict::Wait(at) => at,
                Verdict::HeadTimeout => {
                    tracing::debug!(%remote, "request head timed out; closing");
                    break;
                }
                Verdict::Idle if close_by.is_none() => {
                    tracing::debug!(%remote, "idle keep-alive connection; closing");
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                    let at = Instant::now() + Duration::from_secs(1);
                    close_by = Some(at);
                    at
                }
                Verdict::Idle => close_by.unwrap_or_else(Instant::now),
            };
            let next_check = close_by.map_or(next_check, |c| c.min(next_check));
            activity.plan(next_check);
            if sleep.deadline() != next_check.into() {
                sleep.as_mut().reset(next_check.into());
            }
            // The connection first; then whether the watchdog must look again (a
            // read or a finished response moved a deadline, or the shutdown began);
            // then the timer. No `select!`: this runs on every wake-up of the
            // connection, that is, for every request.
            let event = std::future::poll_fn(|cx| {
                if let Poll::Ready(res) = conn.as_mut().poll(cx) {
                    return Poll::Ready(Event::Ended(res));
                }
                if activity.poll_look(cx) {
                    return Poll::Ready(Event::Look);
                }
                sleep.as_mut().poll(cx).map(|()| Event::Timer)
            })
            .await;
            match event {
                Event::Ended(res) => {
                    if let Err(e) = res {
                        tracing::debug!(%remote, error = %e, "connection ended with an error");
                    }
                    break;
                }
                Event::Look => {}
                Event::Timer => {
                    if close_by.is_some_and(|c| Instant::now() >= c) {
                        break;
                    }
                }
            }
        }
    }
}

/// What woke a connection's loop in `Connection::serve_http`.
enum Event<E> {
    /// The connection ended (cleanly or with this error).
    Ended(Result<(), E>),
    /// The watchdog was asked to look again.
    Look,
    /// The watchdog's timer fired.
    Timer,
}

/// The connection's first byte, left unread, within `timeout`: a connection that
/// sends nothing gives its slot back after this rather than after the handshake or
/// head timeout.
async fn first_byte(tcp: &TcpStream, timeout: Duration) -> io::Result<u8> {
    let mut first = [0u8; 1];
    match tokio::time::timeout(timeout, tcp.peek(&mut first)).await {
        Ok(Ok(0)) => Err(io::ErrorKind::UnexpectedEof.into()),
        Ok(Ok(_)) => Ok(first[0]),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(io::ErrorKind::TimedOut.into()),
    }
}

/// Tell a plain-HTTP caller to use https, then close.
async fn answer_plain_http(mut tcp: TcpStream) {
    let mut buf = [0u8; 4096];
    // Read what has arrived so closing does not reset the connection before the
    // caller has read the answer.
    let _ = tokio::time::timeout(Duration::from_millis(200), tcp.read(&mut buf)).await;
    let _ = tcp.write_all(&HTTPS_REQUIRED).await;
    let _ = tcp.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::parse_errors::PARSE_ERRORS;

    fn check_canned(response: &[u8], code: &str) {
        let text = std::str::from_utf8(response).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["errors"][0]["code"], code);
    }

    #[test]
    fn canned_responses_are_well_formed_json() {
        check_canned(&HTTPS_REQUIRED, "https_required");
        for ((prefix, json), code) in
            PARSE_ERRORS
                .iter()
                .zip(["malformed_request", "headers_too_large", "uri_too_long"])
        {
            assert!(json.starts_with(prefix));
            check_canned(json, code);
        }
    }
}

#[cfg(test)]
mod future_size {
    use super::*;

    /// Each open connection is one spawned task holding this future for its life:
    /// 1,000 idle connections pay its size 1,000 times. What only the handshake
    /// needs is boxed and freed after it.
    #[tokio::test]
    async fn the_connection_future_stays_small() {
        let dir = tempfile::tempdir().unwrap();
        let app = crate::app::test_app(dir.path()).await;
        let (tls_settings, limits) = (app.config().tls.clone(), app.config().limits.clone());
        let cert = tokio::task::spawn_blocking(move || tls::load_or_generate(&tls_settings, "t").unwrap())
            .await
            .unwrap();
        let tls_config = tls::server_config(&cert).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _client = TcpStream::connect(addr).await.unwrap();
        let (tcp, remote) = listener.accept().await.unwrap();
        let conn = Connection {
            app,
            connections: Arc::default(),
            acceptor: TlsAcceptor::from(tls_config),
            builders: Arc::new(Builders::new(&limits)),
            limits: Arc::new(limits),
            remote,
            via: Via::Tls,
        };
        let fut = conn.serve(tcp);
        let size = std::mem::size_of_val(&fut);
        assert!(
            size <= 2560,
            "the connection future is {size} bytes (5,272 before the handshake was boxed, \
             3,336 before the limits were shared, 2,512 before the watchdog took its own waker)"
        );
    }
}
