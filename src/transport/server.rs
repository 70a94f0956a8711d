//! The listener: accept → connection cap → TLS handshake under a timeout →
//! hyper-util `auto` (HTTP/1.1 or HTTP/2) → graceful shutdown.
//!
//! This is the only module that touches sockets and hyper's connection types.
//! Each connection has a small watchdog fed by its socket reads and by the requests
//! it serves: an HTTP/1 request head must be complete within `head_timeout` of the
//! handshake (for the first request) or of its first byte (for later ones), and a
//! connection with no request in flight is closed after `idle_timeout` (hyper's own
//! header timer also runs while a keep-alive connection is idle, which would tie the
//! two together). A plain-HTTP
//! request on the TLS port gets a JSON 400 telling the caller to use https.
//!
//! Shutdown is driven by a future: stop accepting, tell open connections and event
//! streams to finish, wait up to `drain_timeout` for in-flight requests. SIGHUP asks
//! [`crate::reload`] to apply a re-read config and certificate; connections accepted
//! after that use them.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::Request;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::app::App;
use crate::auth::store::StoreError;
use crate::config::{Config, Limits};
use crate::http_util::{Body, BodyError};
use crate::reload::{ReloadHook, ReloadTrigger};
use crate::transport::tls::{self, SharedServerConfig, TlsError};

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
            .finish_non_exhaustive()
    }
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
            Ok((app, cert))
        })
        .await
        .map_err(|_| StartError::Task)??;
        let tls_config = tls::server_config(&cert)?;
        let addr = app.config().start.listen;
        let listener = TcpListener::bind(addr).await.map_err(|e| StartError::Bind {
            addr,
            reason: e.kind().to_string(),
        })?;
        let local_addr = listener.local_addr().map_err(|e| StartError::Bind {
            addr,
            reason: e.kind().to_string(),
        })?;
        tracing::info!("certificate sha256 fingerprint {}", cert.fingerprint);
        Ok(Server {
            listener,
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
            app,
            tls,
            local_addr,
            reload,
            reload_hook,
            ..
        } = self;
        let mut limits = app.config().limits.clone();
        // The cap is sized once; a reload that changes it asks for a restart.
        let max_connections = app.config().start.max_connections;
        let slots = Arc::new(Semaphore::new(max_connections));
        let mut builder = Arc::new(http_builder(&limits));
        app.spawn_background();
        crate::reload::spawn(app.clone(), Arc::clone(&tls), reload, reload_hook);
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
            let (tcp, remote) = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
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
            // A reload applies to the connections accepted after it.
            {
                let current = app.config();
                if current.limits != limits {
                    limits = current.limits.clone();
                    builder = Arc::new(http_builder(&limits));
                }
            }
            let conn = Connection {
                app: app.clone(),
                acceptor: TlsAcceptor::from(tls.load_full()),
                builder: Arc::clone(&builder),
                limits: limits.clone(),
                remote,
            };
            tokio::spawn(async move {
                conn.serve(tcp).await;
                drop(permit);
            });
        }

        drop(listener);
        tracing::info!("shutting down: no longer accepting connections");
        crate::transport::notify::stopping();
        app.begin_shutdown();
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

fn http_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut b = auto::Builder::new(TokioExecutor::new());
    b.http1()
        .keep_alive(true)
        .max_buf_size(limits.max_header_bytes)
        .max_headers(limits.max_headers)
        // The head timeout is enforced by the connection watchdog (see module docs).
        .header_read_timeout(None);
    b.http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.h2_max_concurrent_streams)
        .max_header_list_size(limits.h2_max_header_list_bytes)
        .keep_alive_interval(Some(limits.h2_keepalive_interval))
        .keep_alive_timeout(limits.h2_keepalive_timeout)
        // hyper's defaults against rapid-reset floods (CVE-2023-44487), kept explicit.
        .max_pending_accept_reset_streams(Some(20))
        .max_local_error_reset_streams(Some(1024));
    b
}

struct Connection {
    app: App,
    acceptor: TlsAcceptor,
    builder: Arc<auto::Builder<TokioExecutor>>,
    limits: Limits,
    remote: SocketAddr,
}

const NONE: u64 = u64::MAX;

/// What the watchdog knows about one connection.
struct Activity {
    origin: Instant,
    in_flight: AtomicUsize,
    /// Responses the service has handed to hyper on this connection.
    responses: AtomicU64,
    idle_since_ms: AtomicU64,
    head_started_ms: AtomicU64,
    /// When the watchdog next looks (ms since `origin`).
    planned_ms: AtomicU64,
    head_timeout_ms: u64,
    idle_timeout_ms: u64,
    wake: Notify,
}

enum Verdict {
    Wait(Instant),
    Idle,
    HeadTimeout,
}

impl Activity {
    fn new(head_timeout: Duration, idle_timeout: Duration) -> Self {
        Activity {
            origin: Instant::now(),
            in_flight: AtomicUsize::new(0),
            responses: AtomicU64::new(0),
            idle_since_ms: AtomicU64::new(0),
            head_started_ms: AtomicU64::new(NONE),
            planned_ms: AtomicU64::new(0),
            head_timeout_ms: millis(head_timeout),
            idle_timeout_ms: millis(idle_timeout),
            wake: Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    fn at(&self, ms: u64) -> Instant {
        self.origin + Duration::from_millis(ms)
    }

    /// Bytes arrived. With no request in flight, they start a request head. The
    /// watchdog is woken only if that head would be due before it next looks anyway:
    /// under steady keep-alive traffic, reads do not wake it at all.
    fn on_read(&self) {
        if self.in_flight.load(Ordering::Acquire) != 0 {
            return;
        }
        let now = self.now_ms();
        if self
            .head_started_ms
            .compare_exchange(NONE, now, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
            && self.planned_ms.load(Ordering::Acquire) > now.saturating_add(self.head_timeout_ms)
        {
            self.wake.notify_one();
        }
    }

    /// Record when the watchdog next looks.
    fn plan(&self, at: Instant) {
        let ms = u64::try_from(at.saturating_duration_since(self.origin).as_millis()).unwrap_or(NONE - 1);
        self.planned_ms.store(ms, Ordering::Release);
    }

    fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_started_ms.store(NONE, Ordering::Release);
        InFlight(Arc::clone(self))
    }

    fn verdict(&self, limits: &Limits, watch_heads: bool) -> Verdict {
        let now = self.now_ms();
        if self.in_flight.load(Ordering::Acquire) > 0 {
            // Handlers bound their own time (body timeout); event streams are meant
            // to stay open. Look again later.
            return Verdict::Wait(self.at(now) + limits.idle_timeout);
        }
        let head = self.head_started_ms.load(Ordering::Acquire);
        if watch_heads && head != NONE {
            let deadline = head.saturating_add(millis(limits.head_timeout));
            return if now >= deadline {
                Verdict::HeadTimeout
            } else {
                Verdict::Wait(self.at(deadline))
            };
        }
        let deadline = self
            .idle_since_ms
            .load(Ordering::Acquire)
            .saturating_add(millis(limits.idle_timeout));
        if now >= deadline {
            Verdict::Idle
        } else {
            Verdict::Wait(self.at(deadline))
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(NONE - 1)
}

/// One request in flight; dropped when its response body is finished (or dropped).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let a = &self.0;
        let now = a.now_ms();
        a.idle_since_ms.store(now, Ordering::Release);
        // The last request in flight ended: wake the watchdog only if the idle
        // deadline comes before it next looks anyway.
        if a.in_flight.fetch_sub(1, Ordering::AcqRel) == 1
            && a.planned_ms.load(Ordering::Acquire) > now.saturating_add(a.idle_timeout_ms)
        {
            a.wake.notify_one();
        }
    }
}

/// A response body that keeps its request counted as in flight until it ends.
struct Tracked {
    body: Body,
    _in_flight: InFlight,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The TCP stream, reporting reads to the watchdog.
struct Watched {
    tcp: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.on_read();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }
}

/// A complete `connection: close` HTTP/1.1 response with a one-entry JSON error.
fn canned_response(status: &str, code: &str, message: &str) -> Vec<u8> {
    let body = serde_json::json!({"errors": [{"code": code, "message": message}]}).to_string();
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// hyper's automatic answers to requests it cannot parse (by status-line prefix),
/// and their JSON versions.
static PARSE_ERRORS: std::sync::LazyLock<[(&[u8], Vec<u8>); 3]> = std::sync::LazyLock::new(|| {
    [
        (
            b"HTTP/1.1 400 ",
            canned_response(
                "400 Bad Request",
                "malformed_request",
                "the request is not valid HTTP/1.1",
            ),
        ),
        (
            b"HTTP/1.1 431 ",
            canned_response(
                "431 Request Header Fields Too Large",
                "headers_too_large",
                "the request head is too large or has too many headers",
            ),
        ),
        (
            b"HTTP/1.1 414 ",
            canned_response("414 URI Too Long", "uri_too_long", "the request URI is too long"),
        ),
    ]
});

/// The answer to a plain-HTTP request on the TLS port.
static HTTPS_REQUIRED: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    canned_response(
        "400 Bad Request",
        "https_required",
        "this port speaks HTTPS only; use https:// to call it",
    )
});

/// HTTP/1: hyper answers a request it cannot parse (bad request line or header
/// syntax, an oversized head, a long URI) by itself, with a bare status line and no
/// way to customise it. The service counts every response it hands to hyper; a final
/// response head beyond that count can only be hyper's automatic one, so it is
/// replaced by the same status as a JSON error: every error the device gives is JSON.
struct JsonParseErrors<S> {
    inner: S,
    activity: Arc<Activity>,
    /// Final (non-1xx) response heads seen at the start of a write.
    heads: u64,
    /// The buffer being written was already counted (hyper retries after Pending).
    counted: bool,
    /// A replacement being written: the bytes, how many are out, and how many of
    /// hyper's bytes it stands for.
    replacing: Option<(&'static [u8], usize, usize)>,
}

impl<S> JsonParseErrors<S> {
    fn new(inner: S, activity: Arc<Activity>) -> Self {
        JsonParseErrors {
            inner,
            activity,
            heads: 0,
            counted: false,
            replacing: None,
        }
    }
}

/// Whether `buf` starts with a final (non-informational) HTTP/1.1 response head.
fn starts_final_head(buf: &[u8]) -> bool {
    buf.starts_with(b"HTTP/1.1 ") && buf.get(9).is_some_and(|c| *c != b'1')
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonParseErrors<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonParseErrors<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.replacing.is_none() && !self.counted && starts_final_head(buf) {
            self.heads += 1;
            self.counted = true;
            if self.heads > self.activity.responses.load(Ordering::Acquire) {
                self.replacing = PARSE_ERRORS
                    .iter()
                    .find(|(prefix, _)| buf.starts_with(prefix))
                    .map(|(_, json)| (json.as_slice(), 0, buf.len()));
            }
        }
        let Some((bytes, mut written, stands_for)) = self.replacing else {
            let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
            if poll.is_ready() {
                self.counted = false;
            }
            return poll;
        };
        while written < bytes.len() {
            match Pin::new(&mut self.inner).poll_write(cx, &bytes[written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    written += n;
                    self.replacing = Some((bytes, written, stands_for));
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.replacing = None;
        self.counted = false;
        Poll::Ready(Ok(stands_for))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

enum Handshake {
    Tls(Box<TlsStream<Watched>>),
    PlainHttp,
}

impl Connection {
    async fn handshake(&self, tcp: TcpStream, activity: &Arc<Activity>) -> io::Result<Handshake> {
        let mut first = [0u8; 1];
        if tcp.peek(&mut first).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if first[0] != TLS_HANDSHAKE {
            if first[0].is_ascii_uppercase() {
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

    async fn serve(self, tcp: TcpStream) {
        let _ = tcp.set_nodelay(true);
        let activity = Arc::new(Activity::new(self.limits.head_timeout, self.limits.idle_timeout));
        let tls = match tokio::time::timeout(self.limits.handshake_timeout, self.handshake(tcp, &activity)).await {
            Ok(Ok(Handshake::Tls(tls))) => tls,
            Ok(Ok(Handshake::PlainHttp)) => {
                tracing::debug!(remote = %self.remote, "answered a plain-HTTP request on the TLS port");
                return;
            }
            Ok(Err(e)) => {
                tracing::debug!(remote = %self.remote, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(remote = %self.remote, "TLS handshake timed out");
                return;
            }
        };
        let is_h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        // The first request head must arrive within the head timeout of the
        // handshake (its bytes often travel with the client's last handshake flight);
        // the idle timeout governs the gaps between requests after that.
        let now = activity.now_ms();
        activity.head_started_ms.store(now, Ordering::Release);
        activity.idle_since_ms.store(now, Ordering::Release);

        let app = self.app.clone();
        let remote = self.remote;
        let svc_activity = Arc::clone(&activity);
        let service = service_fn(move |req: Request<Incoming>| {
            let in_flight = svc_activity.request_started();
            let app = app.clone();
            let activity = Arc::clone(&svc_activity);
            async move {
                let resp = crate::api::handle(&app, remote, req).await;
                activity.responses.fetch_add(1, Ordering::AcqRel);
                Ok::<_, Infallible>(resp.map(|body| Tracked {
                    body,
                    _in_flight: in_flight,
                }))
            }
        });
        let io = JsonParseErrors::new(tls, Arc::clone(&activity));
        let conn = self.builder.serve_connection(TokioIo::new(io), service);
        tokio::pin!(conn);
        let mut shutdown = self.app.shutdown_signal();
        let mut closing = *shutdown.borrow();
        if closing {
            conn.as_mut().graceful_shutdown();
        }
        let mut close_by: Option<Instant> = None;
        // One timer for the connection's life, moved rather than re-created.
        let sleep = tokio::time::sleep(self.limits.head_timeout);
        tokio::pin!(sleep);
        loop {
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
            tokio::select! {
                res = conn.as_mut() => {
                    if let Err(e) = res {
                        tracing::debug!(%remote, error = %e, "connection ended with an error");
                    }
                    break;
                }
                changed = shutdown.changed(), if !closing => {
                    if changed.is_err() || *shutdown.borrow() {
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
                () = activity.wake.notified() => {}
                () = &mut sleep => {
                    if close_by.is_some_and(|c| Instant::now() >= c) {
                        break;
                    }
                }
            }
        }
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

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
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

#[cfg(test)]
mod tests {
    use super::*;

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
