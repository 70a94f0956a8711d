//! The shared application handle: one cheap `Clone` with an `Arc` inside.
//!
//! [`App`] ties together the validated config, the state store, the credential
//! index derived from the state, the password hasher, the rate limiter and the event
//! bus. Every state change (ours or another process's) flows through the store's
//! listener, which rebuilds the credential index and bumps the change counter that
//! open event streams watch, so a revocation takes effect for the very next request.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::HeaderValue;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};

use crate::auth::credentials::{CredentialIndex, CredentialKind, Principal};
use crate::auth::legacy::LegacyCache;
use crate::auth::limits::{LoginThrottle, RateLimiter};
use crate::auth::passwords::Hasher;
use crate::auth::state::State;
use crate::auth::store::{Store, StoreError};
use crate::auth::vendor_example::FirstUse;
use crate::certificate::LiveCertificate;
use crate::config::Config;
use crate::device::announce::Announcer;
use crate::device::status::DeviceLive;
use crate::error::ApiError;
use crate::events::{EventBus, StreamSlot};
use crate::http_util::to_json_bytes;
use crate::per_address::PerAddress;

/// How often the service looks for state changes made by another process (the CLI).
pub(crate) const STATE_POLL_INTERVAL: Duration = Duration::from_millis(250);
/// How often in-memory last-use times are written when nothing else writes.
pub(crate) const USAGE_FLUSH_INTERVAL: Duration = Duration::from_secs(300);

/// The application state handle.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

struct Inner {
    /// What a configuration reload replaces, swapped as one.
    live: ArcSwap<Live>,
    store: Arc<Store>,
    hasher: Arc<Hasher>,
    creds: Arc<ArcSwap<CredentialIndex>>,
    events: EventBus,
    limiter: RateLimiter,
    changes: Arc<watch::Sender<u64>>,
    shutdown: watch::Sender<bool>,
    stream_slots: Arc<Semaphore>,
    public_stream_slots: Arc<Semaphore>,
    stream_shares: PerAddress,
    legacy: LegacyCache,
    example_first_use: FirstUse,
    throttle: Arc<LoginThrottle>,
    device: Arc<Announcer>,
    live_device: Arc<DeviceLive>,
    /// The certificate served (set by the transport at start and at every reload).
    certificate: arc_swap::ArcSwapOption<LiveCertificate>,
    /// Requests to load the certificate files now (an installation), answered by
    /// the reload task with the new fingerprint or why the files cannot be used.
    certificate_requests: mpsc::Sender<CertificateRequest>,
    certificate_receiver: std::sync::Mutex<Option<mpsc::Receiver<CertificateRequest>>>,
    metrics: crate::metrics::Registry,
    /// The sizes of `stream_slots` and `public_stream_slots`.
    stream_budgets: (usize, usize),
}

/// A request to load the certificate files now; the answer is the fingerprint in
/// use afterwards, or why the files cannot be used.
pub(crate) type CertificateRequest = oneshot::Sender<Result<String, String>>;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "state store failure");
        ApiError::internal()
    }
}

/// Build the password hasher the config asks for.
pub(crate) fn hasher_for(config: &Config) -> Result<Hasher, StoreError> {
    Hasher::new(
        config.start.passwords,
        config.start.hash_concurrency,
        config.start.hash_queue,
    )
    .map(|hasher| hasher.keep_memory(config.start.hash_memory_keep))
    .map_err(|_| StoreError::Init("invalid password hashing parameters".into()))
}

/// Open the state store for `config`, creating the factory state on first start.
/// Blocking (the first start hashes the enrollment code).
pub(crate) fn open_store(config: &Config, hasher: &Hasher) -> Result<Store, StoreError> {
    Store::open(&config.start.state_dir, || {
        crate::auth::ops::factory_state(config, hasher)
    })
}

impl App {
    /// Open the state (creating it on first start) and assemble the service.
    /// Blocking: run it on the blocking pool or before the runtime starts.
    pub fn open(config: Config) -> Result<App, StoreError> {
        let hasher = Arc::new(hasher_for(&config)?);
        let store = Arc::new(open_store(&config, &hasher)?);
        let initial = store.current();
        let creds = Arc::new(ArcSwap::from_pointee(CredentialIndex::build(
            &initial,
            &CredentialIndex::empty(),
        )));
        let changes = Arc::new(watch::channel(initial.generation).0);
        let events = EventBus::new();
        let throttle = Arc::new(LoginThrottle::new(config.start.login_delay_max));
        throttle.remember_sessions(&initial);
        let device = Arc::new(Announcer::new(&initial.device, &config.device));
        {
            let device = Arc::clone(&device);
            let throttle = Arc::clone(&throttle);
            let creds = Arc::clone(&creds);
            let changes = Arc::clone(&changes);
            let events = events.clone();
            let last = std::sync::Mutex::new(Arc::clone(&initial));
            // Runs under the store's lock, so states (and announcements) stay in order.
            store.set_listener(move |state: &Arc<State>, external: bool| {
                let next = CredentialIndex::build(state, &creds.load());
                creds.store(Arc::new(next));
                let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
                if external {
                    crate::auth::audit::record_external_changes(&last, state);
                }
                // A new password (admin API, console, resets) restarts the account's
                // failed-login window: a technician's reset is never locked out.
                for role in crate::auth::accounts::Role::ALL {
                    if last.account(role).map(|a| &a.password_hash) != state.account(role).map(|a| &a.password_hash) {
                        throttle.clear_account(role);
                    }
                }
                device.changed(&events, &last.device, &state.device);
                *last = Arc::clone(state);
                changes.send_replace(state.generation);
            });
        }
        let stream_budgets = (config.start.max_event_streams, config.start.max_public_streams);
        let stream_slots = Arc::new(Semaphore::new(config.start.max_event_streams));
        let public_stream_slots = Arc::new(Semaphore::new(config.start.max_public_streams));
        let stream_shares = PerAddress::new(config.start.max_streams_per_address);
        let legacy =
            LegacyCache::new(config.start.legacy_cache_entries).map_err(|e| StoreError::Init(e.to_string()))?;
        let config_device = config.device.clone();
        let live = ArcSwap::from_pointee(Live::build(config));
        let (certificate_requests, certificate_receiver) = mpsc::channel(4);
        Ok(App {
            inner: Arc::new(Inner {
                live,
                store,
                hasher,
                creds,
                events,
                limiter: RateLimiter::new(),
                changes,
                shutdown: watch::channel(false).0,
                stream_slots,
                public_stream_slots,
                stream_shares,
                legacy,
                example_first_use: FirstUse::default(),
                throttle,
                device,
                live_device: Arc::new(DeviceLive::new(&config_device)),
                certificate: arc_swap::ArcSwapOption::empty(),
                certificate_requests,
                certificate_receiver: std::sync::Mutex::new(Some(certificate_receiver)),
                metrics: crate::metrics::Registry::new(crate::api::routes::ROUTES.len()),
                stream_budgets,
            }),
        })
    }

    /// The configuration in force (a SIGHUP may replace it; see [`App::reload_config`]).
    pub fn config(&self) -> CurrentConfig {
        CurrentConfig(self.inner.live.load())
    }

    /// Put a re-read configuration in force. Settings that take effect only at
    /// start keep their running values; their names are returned so that the caller
    /// can say a restart is needed. Open connections and streams keep the settings
    /// they started with.
    pub fn reload_config(&self, mut next: Config) -> Vec<String> {
        let pending = next.keep_start_only(&self.config());
        let device_changed = next.device != self.config().device;
        self.inner.device.reconfigured(&next.device);
        self.inner.live.store(Arc::new(Live::build(next)));
        if device_changed {
            self.announce_device_info();
        }
        pending
    }

    /// The device's identity or hardware changed (a reload): announce
    /// `/api/v1/audio/hardware` (without the enrollment code, as for a non-admin)
    /// and the USB and components status.
    fn announce_device_info(&self) {
        let config = self.config();
        let doc = crate::device::info::hardware_document(&config.device, &self.ip_address(), None);
        self.events()
            .publish("/api/v1/audio/hardware", crate::http_util::to_json_bytes(&doc));
        self.inner.live_device.reconfigured(self.events(), &config.device);
    }

    /// Record the certificate now served (the transport calls this whenever it
    /// loads one).
    pub(crate) fn set_certificate(&self, certificate: LiveCertificate) {
        self.inner.certificate.store(Some(Arc::new(certificate)));
    }

    /// The certificate served, once the transport has loaded one.
    pub(crate) fn certificate(&self) -> Option<Arc<LiveCertificate>> {
        self.inner.certificate.load_full()
    }

    /// End of validity of the certificate served (Unix seconds, the leaf's
    /// `notAfter`), for the expiry metric; `None` before one is loaded. No disk access.
    pub fn certificate_expiry_seconds(&self) -> Option<i64> {
        self.inner.certificate.load().as_ref().and_then(|c| c.not_after)
    }

    /// The certificate's expiry health against `tls.expiry_warning`, as
    /// `GET /api/v1/status` reports it.
    pub(crate) fn certificate_expiry(&self) -> Option<crate::certificate::Expiry> {
        let not_after = self.certificate_expiry_seconds()?;
        let now = i64::try_from(crate::util::now()).unwrap_or(i64::MAX);
        Some(crate::certificate::expiry(
            not_after,
            now,
            self.config().tls.expiry_warning,
        ))
    }

    /// The receiving end of certificate load requests, for the one reload task.
    pub(crate) fn take_certificate_requests(&self) -> Option<mpsc::Receiver<CertificateRequest>> {
        self.inner
            .certificate_receiver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// Ask the running service to load the certificate files now and wait for the
    /// answer: the fingerprint in use, or why the files cannot be used. `None` when
    /// no listener runs (the pipeline without a socket).
    pub(crate) async fn apply_certificate(&self) -> Option<Result<String, String>> {
        let untaken = self
            .inner
            .certificate_receiver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some();
        if untaken {
            return None;
        }
        let (reply, answer) = oneshot::channel();
        self.inner.certificate_requests.send(reply).await.ok()?;
        tokio::time::timeout(Duration::from_secs(30), answer).await.ok()?.ok()
    }

    /// The device's live status and actions (identify, calibrate).
    pub(crate) fn live_device(&self) -> &Arc<DeviceLive> {
        &self.inner.live_device
    }

    /// The current state snapshot.
    pub fn snapshot(&self) -> Arc<State> {
        self.inner.store.current()
    }

    /// The credential index of the current state.
    pub fn credentials(&self) -> arc_swap::Guard<Arc<CredentialIndex>> {
        self.inner.creds.load()
    }

    /// The password hasher.
    pub fn hasher(&self) -> &Arc<Hasher> {
        &self.inner.hasher
    }

    /// The change bus for `/api/v1/events`.
    pub fn events(&self) -> &EventBus {
        &self.inner.events
    }

    /// Verified legacy `base64(account:password)` credentials.
    pub fn legacy_cache(&self) -> &LegacyCache {
        &self.inner.legacy
    }

    /// When the vendor's example credential was last audited.
    pub(crate) fn example_first_use(&self) -> &FirstUse {
        &self.inner.example_first_use
    }

    /// The audio settings as JSON, rendered once per change (the most polled answer).
    pub fn audio_json(&self, current: &crate::device::audio::AudioSettings) -> Bytes {
        self.inner.device.audio_json(current)
    }

    /// Failed-login throttling.
    pub fn login_throttle(&self) -> &LoginThrottle {
        &self.inner.throttle
    }

    /// The per-address request limiter.
    pub fn limiter(&self) -> &RateLimiter {
        &self.inner.limiter
    }

    /// `Nureva realm="<device name>"`, for `WWW-Authenticate`.
    pub fn realm(&self) -> HeaderValue {
        self.inner.live.load().realm.clone()
    }

    /// The serialised capabilities document, built on first request (and again after
    /// a reload): code that runs once should not stay resident from start-up on.
    pub fn capabilities(&self) -> Bytes {
        let live = self.inner.live.load();
        live.capabilities
            .get_or_init(|| to_json_bytes(&crate::api::openapi::document(&live.config.device, &live.config.routes)))
            .clone()
    }

    /// The IP address reported in device information.
    pub fn ip_address(&self) -> String {
        self.inner.live.load().ip_address.clone()
    }

    /// Apply a change to the state and persist it (with pending last-use times)
    /// before returning. The closure runs on the blocking pool.
    pub async fn update<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut State) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let index = inner.creds.load_full();
            inner.store.update(|state| {
                index.flush_usage(state);
                f(state)
            })
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "a state update task failed");
            ApiError::internal()
        })?
    }

    /// Whether a credential verified earlier is still good (for open streams).
    pub fn still_valid(&self, principal: &Principal) -> bool {
        let state = self.snapshot();
        let Some(account) = state.account(principal.account) else {
            return false;
        };
        match principal.kind {
            CredentialKind::Legacy => crate::auth::legacy::still_valid(&state, principal),
            CredentialKind::VendorExample => crate::auth::vendor_example::still_valid(&state, principal),
            kind => {
                let not_expired = match kind {
                    CredentialKind::Session => state
                        .policy
                        .session_expiry(principal.created_at)
                        .is_none_or(|t| crate::util::now() < t),
                    _ => true,
                };
                account.enabled && not_expired && self.credentials().contains(&principal.id)
            }
        }
    }

    /// A place for one event stream of `remote`: under the public budget
    /// (`max_public_streams`) for an unauthenticated stream, else under
    /// `max_event_streams`, and under the address's share (`max_streams_per_address`);
    /// 503 when either is used up.
    pub(crate) fn stream_slot(&self, authenticated: bool, remote: IpAddr) -> Result<StreamSlot, ApiError> {
        let budget = if authenticated {
            &self.inner.stream_slots
        } else {
            &self.inner.public_stream_slots
        };
        let share = self
            .inner
            .stream_shares
            .try_take(remote)
            .ok_or_else(|| ApiError::busy("too_many_streams", "this address has too many event streams open", 5))?;
        let place = Arc::clone(budget)
            .try_acquire_owned()
            .map_err(|_| ApiError::busy("too_many_streams", "too many event streams are open", 5))?;
        Ok(StreamSlot {
            _place: place,
            _share: share,
        })
    }

    /// The request and login counters.
    pub(crate) fn metrics(&self) -> &crate::metrics::Registry {
        &self.inner.metrics
    }

    /// The configured routes to the device's own services (they hold their
    /// request counters).
    pub(crate) fn forwarded_routes(&self) -> Vec<Arc<crate::api::gateway::ProxyRoute>> {
        self.inner.live.load().gateway.routes().to_vec()
    }

    /// Open event streams: (public, authenticated).
    pub(crate) fn open_streams(&self) -> (usize, usize) {
        let (authenticated, public) = self.inner.stream_budgets;
        (
            public.saturating_sub(self.inner.public_stream_slots.available_permits()),
            authenticated.saturating_sub(self.inner.stream_slots.available_permits()),
        )
    }

    /// Receives `true` when the service begins shutting down.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }

    /// Receives the state generation after every state change.
    pub fn change_signal(&self) -> watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    /// Tell streams and background tasks to finish.
    pub fn begin_shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }

    /// Start the background tasks: noticing state changes made by other processes,
    /// and writing last-use times. They end at shutdown.
    pub fn spawn_background(&self) {
        let app = self.clone();
        tokio::spawn(async move {
            let mut shutdown = app.shutdown_signal();
            let mut poll = tokio::time::interval(STATE_POLL_INTERVAL);
            let mut flush = tokio::time::interval(USAGE_FLUSH_INTERVAL);
            flush.tick().await;
            loop {
                tokio::select! {
                    _ = shutdown.changed() => break,
                    _ = poll.tick() => app.reload_if_changed().await,
                    _ = flush.tick() => app.flush_usage().await,
                }
            }
            // Keep last-use times across a clean restart.
            app.flush_usage().await;
        });
    }

    /// One `stat` of the state file, inline (microseconds): no blocking-pool thread
    /// stays alive at idle just to look. A changed file (rare) is read here too.
    async fn reload_if_changed(&self) {
        match self.inner.store.try_reload_if_changed() {
            Ok(true) => tracing::info!("state changed on disk; reloaded"),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "could not reload the state"),
        }
    }

    /// Write pending last-use times, if any.
    pub async fn flush_usage(&self) {
        if self.credentials().is_dirty()
            && let Err(e) = self.update(|_| Ok(())).await
        {
            tracing::warn!(code = e.code(), "could not write last-use times");
        }
    }
}

/// The configuration and everything derived from it that a reload rebuilds.
struct Live {
    config: Config,
    realm: HeaderValue,
    capabilities: std::sync::OnceLock<Bytes>,
    ip_address: String,
    gateway: crate::api::gateway::Gateway,
}

impl Live {
    fn build(config: Config) -> Live {
        let realm = HeaderValue::from_str(&format!("Nureva realm=\"{}\"", config.device.name))
            .unwrap_or_else(|_| HeaderValue::from_static("Nureva realm=\"roomgate\""));
        let gateway = crate::api::gateway::Gateway::new(&config.routes);
        let ip_address = crate::device::info::reported_ip(&config.device, config.start.listen);
        Live {
            config,
            realm,
            capabilities: std::sync::OnceLock::new(),
            ip_address,
            gateway,
        }
    }
}

/// The configuration in force, borrowed without touching a shared reference count
/// (it is read on every request).
pub struct CurrentConfig(arc_swap::Guard<Arc<Live>>);

impl CurrentConfig {
    /// The configured route to the device's own services that serves `path`, if any;
    /// 400 for a case variant of a route's prefix (`api::gateway::Gateway::lookup`).
    pub fn route_for(
        &self,
        path: &str,
    ) -> Result<Option<Arc<crate::api::gateway::ProxyRoute>>, crate::error::ApiError> {
        self.0.gateway.lookup(path).map(Option::<&_>::cloned)
    }
}

impl std::ops::Deref for CurrentConfig {
    type Target = Config;
    fn deref(&self) -> &Config {
        &self.0.config
    }
}

/// A service on `dir` with the default config but a cheap password hash, for unit
/// tests.
#[cfg(test)]
pub(crate) async fn test_app(dir: &std::path::Path) -> App {
    let config = Config::from_toml("[passwords]\nmemory_kib = 64\niterations = 1\n", dir, "t").unwrap();
    tokio::task::spawn_blocking(move || App::open(config).unwrap())
        .await
        .unwrap()
}
