//! Request-rate limiting per client address, and login throttling.
//!
//! A token bucket per IP address holds up to `requests_per_minute` tokens and refills
//! at that rate, so a client may burst up to one minute's allowance and then
//! continues at the configured rate. Buckets live in a few mutex-protected shards
//! (short critical sections, never held across `.await`); a shard that grows past
//! [`MAX_TRACKED_PER_SHARD`] drops buckets that are full again, so memory stays
//! bounded however many addresses appear.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::auth::accounts::Role;
use crate::auth::policy::Policy;
use crate::error::ApiError;

const SHARDS: usize = 16;
/// Buckets kept per shard before idle ones are dropped.
pub(crate) const MAX_TRACKED_PER_SHARD: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Per-address token buckets.
#[derive(Debug)]
pub struct RateLimiter {
    shards: Vec<Mutex<HashMap<IpAddr, Bucket>>>,
    hasher: RandomState,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl RateLimiter {
    /// An empty limiter.
    pub fn new() -> Self {
        RateLimiter {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }

    /// Take one token for `ip` at `now`. `Err(seconds)` says when to retry.
    /// `per_minute == 0` disables the limit.
    pub fn check(&self, ip: IpAddr, per_minute: u32, now: Instant) -> Result<(), u64> {
        if per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(per_minute);
        let per_second = capacity / 60.0;
        let shard = &self.shards[usize::try_from(self.hasher.hash_one(ip)).unwrap_or(0) % SHARDS];
        let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_TRACKED_PER_SHARD && !map.contains_key(&ip) {
            map.retain(|_, b| refilled(b, now, per_second, capacity) < capacity);
        }
        let bucket = map.entry(ip).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        bucket.tokens = refilled(bucket, now, per_second, capacity);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / per_second;
            // Rounded up to whole seconds for Retry-After; at least 1.
            Err(wait.ceil().max(1.0) as u64)
        }
    }

    /// Addresses currently tracked (for tests and diagnostics).
    pub fn tracked(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }
}

fn refilled(b: &Bucket, now: Instant, per_second: f64, capacity: f64) -> f64 {
    let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
    (b.tokens + elapsed * per_second).min(capacity)
}

/// Addresses remembered per account as known sources (the latest successes).
pub(crate) const KNOWN_SOURCES: usize = 32;

/// The window of the per-account failed-login limit (OWASP ASVS 2.2.1: per hour).
pub(crate) const LOGIN_WINDOW: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy)]
struct SourceFailures {
    count: u32,
    last: Instant,
}

/// Failed-login throttling.
///
/// - Per account: at most `policy.login_failures_per_hour` failures in any hour;
///   further attempts (right or wrong) get 429 until the oldest failure is an hour
///   old. Never a permanent lockout, and other accounts are not affected.
/// - Per source address: after `policy.login_failures_before_delay` failures, each
///   further attempt must wait twice as long as the one before (1 s, 2 s, 4 s, …, up
///   to `max_delay`). A success from the address, or an hour without failures,
///   clears it.
///
/// The per-account ceiling does not hold back a *known source*: an address that
/// has logged in to that account before (since start, or holding one of its
/// sessions in the state). Without that exception, a few guesses from each of a
/// handful of addresses would lock the real admin out for an hour (ASVS 2.2.1 asks
/// for controls that resist such lockouts); a known source still has its own
/// per-address delay, so its guesses stay slow.
///
/// Throttled attempts are refused before any password is hashed. Memory is bounded:
/// four accounts × the hourly cap, [`KNOWN_SOURCES`] addresses per account, and a
/// bounded map of addresses.
#[derive(Debug)]
pub struct LoginThrottle {
    accounts: Mutex<HashMap<Role, VecDeque<Instant>>>,
    /// Per account, the addresses that logged in to it, the latest last.
    known: Mutex<HashMap<Role, VecDeque<IpAddr>>>,
    sources: Vec<Mutex<HashMap<IpAddr, SourceFailures>>>,
    hasher: RandomState,
    max_delay: Duration,
}

impl LoginThrottle {
    /// A throttle whose per-address delay grows to at most `max_delay`.
    pub fn new(max_delay: Duration) -> Self {
        LoginThrottle {
            accounts: Mutex::new(HashMap::new()),
            known: Mutex::new(HashMap::new()),
            sources: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            max_delay,
        }
    }

    fn shard(&self, ip: IpAddr) -> &Mutex<HashMap<IpAddr, SourceFailures>> {
        &self.sources[usize::try_from(self.hasher.hash_one(ip)).unwrap_or(0) % SHARDS]
    }

    fn delay_after(&self, failures: u32, threshold: u32) -> Duration {
        if failures < threshold {
            return Duration::ZERO;
        }
        let doublings = (failures - threshold).min(20);
        Duration::from_secs(1u64 << doublings).min(self.max_delay)
    }

    /// May a login for `account` from `ip` be attempted now? `Err(seconds)` says
    /// when to retry.
    pub fn check(&self, account: Role, ip: IpAddr, policy: &Policy, now: Instant) -> Result<(), u64> {
        let mut waits = Vec::new();
        if !self.is_known(account, ip) {
            let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(failures) = accounts.get_mut(&account) {
                while failures
                    .front()
                    .is_some_and(|t| now.saturating_duration_since(*t) >= LOGIN_WINDOW)
                {
                    failures.pop_front();
                }
                if failures.len() >= policy.login_failures_per_hour as usize
                    && let Some(oldest) = failures.front()
                {
                    waits.push((*oldest + LOGIN_WINDOW).saturating_duration_since(now));
                }
            }
        }
        {
            let sources = self.shard(ip).lock().unwrap_or_else(|p| p.into_inner());
            if let Some(rec) = sources.get(&ip) {
                let delay = self.delay_after(rec.count, policy.login_failures_before_delay);
                let ready = rec.last + delay;
                if now < ready {
                    waits.push(ready - now);
                }
            }
        }
        match waits.into_iter().max() {
            None => Ok(()),
            Some(wait) => Err(wait.as_secs().saturating_add(u64::from(wait.subsec_nanos() > 0)).max(1)),
        }
    }

    /// Count a failed login.
    pub fn record_failure(&self, account: Role, ip: IpAddr, policy: &Policy, now: Instant) {
        {
            let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
            let failures = accounts.entry(account).or_default();
            failures.push_back(now);
            // Only the newest `cap` failures can matter for the limit.
            while failures.len() > policy.login_failures_per_hour as usize {
                failures.pop_front();
            }
        }
        let mut sources = self.shard(ip).lock().unwrap_or_else(|p| p.into_inner());
        if sources.len() >= MAX_TRACKED_PER_SHARD && !sources.contains_key(&ip) {
            sources.retain(|_, r| now.saturating_duration_since(r.last) < LOGIN_WINDOW);
            if sources.len() >= MAX_TRACKED_PER_SHARD
                && let Some(oldest) = sources.iter().min_by_key(|(_, r)| r.last).map(|(k, _)| *k)
            {
                sources.remove(&oldest);
            }
        }
        let rec = sources.entry(ip).or_insert(SourceFailures { count: 0, last: now });
        if now.saturating_duration_since(rec.last) >= LOGIN_WINDOW {
            rec.count = 0;
        }
        rec.count = rec.count.saturating_add(1);
        rec.last = now;
    }

    /// [`LoginThrottle::check`] as the API answers it: 429 with `Retry-After`.
    /// Checked before hashing, so throttled attempts cost nothing.
    pub fn admit(&self, account: Role, ip: IpAddr, policy: &Policy) -> Result<(), ApiError> {
        self.check(account, ip, policy, Instant::now()).map_err(|retry| {
            ApiError::rate_limited(
                "login_rate_limited",
                format!("too many failed logins; this is a rate limit, try again in {retry} seconds"),
                retry,
            )
        })
    }

    /// Count the outcome of a password check.
    pub fn record(&self, account: Role, ip: IpAddr, policy: &Policy, ok: bool) {
        if ok {
            self.record_success(account, ip);
        } else {
            self.record_failure(account, ip, policy, Instant::now());
        }
    }

    /// A successful login clears the address's record and makes it a known source
    /// of the account.
    pub fn record_success(&self, account: Role, ip: IpAddr) {
        self.shard(ip).lock().unwrap_or_else(|p| p.into_inner()).remove(&ip);
        self.remember_source(account, ip);
    }

    /// Remember `ip` as a known source of `account` (the oldest is forgotten past
    /// [`KNOWN_SOURCES`]).
    pub fn remember_source(&self, account: Role, ip: IpAddr) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let sources = known.entry(account).or_default();
        sources.retain(|k| *k != ip);
        if sources.len() >= KNOWN_SOURCES {
            sources.pop_front();
        }
        sources.push_back(ip);
    }

    /// Remember the addresses the state's sessions were opened from, so that known
    /// sources survive a restart.
    pub fn remember_sessions(&self, state: &crate::auth::state::State) {
        let mut sessions: Vec<_> = state.sessions.values().collect();
        sessions.sort_by_key(|s| s.created_at);
        for s in sessions {
            if let Ok(ip) = s.remote_addr.parse() {
                self.remember_source(s.account, ip);
            }
        }
    }

    fn is_known(&self, account: Role, ip: IpAddr) -> bool {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known.get(&account).is_some_and(|sources| sources.contains(&ip))
    }

    /// The account's password was changed (by an admin or at the console): its
    /// failure window starts afresh, so a technician's reset is not locked out.
    pub fn clear_account(&self, account: Role) {
        self.accounts.lock().unwrap_or_else(|p| p.into_inner()).remove(&account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_allowance_then_refuses_then_refills() {
        let l = RateLimiter::new();
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..60 {
            assert!(l.check(ip, 60, t0).is_ok());
        }
        assert_eq!(l.check(ip, 60, t0), Err(1));
        // One token per second at 60/min.
        assert!(l.check(ip, 60, t0 + Duration::from_millis(1000)).is_ok());
        assert!(l.check(ip, 60, t0 + Duration::from_millis(1000)).is_err());
        // Another address is not affected.
        assert!(l.check("10.0.0.8".parse().unwrap(), 60, t0).is_ok());
    }

    #[test]
    fn zero_disables() {
        let l = RateLimiter::new();
        let ip: IpAddr = "::1".parse().unwrap();
        for _ in 0..10_000 {
            assert!(l.check(ip, 0, Instant::now()).is_ok());
        }
        assert_eq!(l.tracked(), 0);
    }

    #[test]
    fn retry_after_reflects_the_rate() {
        let l = RateLimiter::new();
        let ip: IpAddr = "10.0.0.9".parse().unwrap();
        let t0 = Instant::now();
        assert!(l.check(ip, 1, t0).is_ok());
        assert_eq!(l.check(ip, 1, t0), Err(60));
    }

    #[test]
    fn memory_stays_bounded() {
        let l = RateLimiter::new();
        let t0 = Instant::now();
        for i in 0..(SHARDS * MAX_TRACKED_PER_SHARD * 2) as u32 {
            let ip = IpAddr::from(i.to_be_bytes());
            let _ = l.check(ip, 600, t0 + Duration::from_secs(u64::from(i / 1000)));
        }
        assert!(l.tracked() <= SHARDS * MAX_TRACKED_PER_SHARD, "{}", l.tracked());
    }

    fn policy(per_hour: u32, before_delay: u32) -> Policy {
        Policy {
            login_failures_per_hour: per_hour,
            login_failures_before_delay: before_delay,
            ..Policy::default()
        }
    }

    #[test]
    fn the_account_limit_is_a_rolling_hour() {
        let t = LoginThrottle::new(Duration::from_secs(900));
        let p = policy(3, 100);
        let t0 = Instant::now();
        for i in 0..3u8 {
            let ip = IpAddr::from([10, 0, 0, i]);
            assert!(t.check(Role::Integrator, ip, &p, t0).is_ok());
            t.record_failure(Role::Integrator, ip, &p, t0 + Duration::from_secs(u64::from(i)));
        }
        let other = IpAddr::from([10, 9, 9, 9]);
        let wait = t
            .check(Role::Integrator, other, &p, t0 + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, 3590, "until the oldest failure is an hour old");
        assert!(
            t.check(Role::Admin, other, &p, t0 + Duration::from_secs(10)).is_ok(),
            "other accounts are not affected"
        );
        assert!(
            t.check(Role::Integrator, other, &p, t0 + LOGIN_WINDOW).is_ok(),
            "never permanent"
        );
        t.clear_account(Role::Integrator);
        assert!(
            t.check(Role::Integrator, other, &p, t0 + Duration::from_secs(10))
                .is_ok()
        );
    }

    #[test]
    fn a_known_source_gets_past_the_account_ceiling_but_not_its_own_delay() {
        let t = LoginThrottle::new(Duration::from_secs(900));
        let p = policy(10, 5);
        let t0 = Instant::now();
        let home = IpAddr::from([10, 0, 0, 1]);
        t.record_success(Role::Admin, home);
        // Five wrong guesses from each of two strangers reach the account ceiling.
        for i in 0..10u8 {
            t.record_failure(Role::Admin, IpAddr::from([10, 0, 1, i / 5]), &p, t0);
        }
        let now = t0 + Duration::from_secs(1);
        assert!(
            t.check(Role::Admin, IpAddr::from([10, 0, 2, 1]), &p, now).is_err(),
            "a stranger waits"
        );
        assert!(t.check(Role::Admin, home, &p, now).is_ok(), "the known source gets in");
        assert!(
            t.check(Role::General, IpAddr::from([10, 0, 2, 1]), &p, now).is_ok(),
            "known per account"
        );
        // Its own guesses are still slowed down.
        for _ in 0..5 {
            t.record_failure(Role::Admin, home, &p, now);
        }
        assert!(t.check(Role::Admin, home, &p, now).is_err());
        // The oldest known source is forgotten past the bound.
        for i in 0..KNOWN_SOURCES as u32 {
            t.remember_source(Role::Admin, IpAddr::from((0x0b00_0000 + i).to_be_bytes()));
        }
        assert!(!t.is_known(Role::Admin, home));
    }

    #[test]
    fn the_source_delay_grows_and_success_clears_it() {
        let t = LoginThrottle::new(Duration::from_secs(8));
        let p = policy(100, 2);
        let ip = IpAddr::from([192, 168, 1, 5]);
        let mut now = Instant::now();
        let mut waits = Vec::new();
        for _ in 0..7 {
            match t.check(Role::Admin, ip, &p, now) {
                Ok(()) => {}
                Err(wait) => {
                    waits.push(wait);
                    now += Duration::from_secs(wait);
                }
            }
            t.record_failure(Role::Admin, ip, &p, now);
        }
        assert_eq!(waits, [1, 2, 4, 8, 8], "doubling from the threshold, capped");
        assert!(
            t.check(Role::General, IpAddr::from([192, 168, 1, 6]), &p, now).is_ok(),
            "other addresses are not delayed"
        );
        t.record_success(Role::Admin, ip);
        assert!(t.check(Role::Admin, ip, &p, now).is_ok());
    }

    #[test]
    fn source_memory_is_bounded() {
        let t = LoginThrottle::new(Duration::from_secs(60));
        let p = policy(100, 5);
        let now = Instant::now();
        for i in 0..(SHARDS * MAX_TRACKED_PER_SHARD + 1000) as u32 {
            t.record_failure(Role::General, IpAddr::from(i.to_be_bytes()), &p, now);
        }
        let tracked: usize = t.sources.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(tracked <= SHARDS * MAX_TRACKED_PER_SHARD);
        assert!(t.accounts.lock().unwrap()[&Role::General].len() <= 100);
    }
}
