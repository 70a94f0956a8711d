//! Request-rate limiting per client address.
//!
//! A token bucket per IP address holds up to `requests_per_minute` tokens and refills
//! at that rate, so a client may burst up to one minute's allowance and then
//! continues at the configured rate. Buckets live in a few mutex-protected shards
//! (short critical sections, never held across `.await`); a shard that grows past
//! [`MAX_TRACKED_PER_SHARD`] drops buckets that are full again, so memory stays
//! bounded however many addresses appear.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

const SHARDS: usize = 16;
/// Buckets kept per shard before idle ones are dropped.
pub const MAX_TRACKED_PER_SHARD: usize = 4096;

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
}
