//! argon2id password hashing off the async threads, with bounded concurrency.
//!
//! Each hash takes `memory_kib` of memory and tens of milliseconds of CPU, so a login
//! flood must not be able to start an unbounded number of them. [`Hasher`] admits at
//! most `concurrency + queue` hashing jobs; `concurrency` of them run on tokio's
//! blocking pool while the rest wait for a slot. Past that bound the caller gets
//! [`HashError::Busy`] at once (the API answers 503 with `Retry-After`), so memory
//! stays bounded by `concurrency × memory_kib` and other requests keep flowing.
//!
//! Each hash works in `memory_kib` of argon2 blocks. A buffer is reused by the next
//! hash while hashing goes on, and given back to the system once the hasher has been
//! idle for `limits.hash_memory_keep` ([`Hasher::keep_memory`]):
//! - reuse, because faulting in 19 MiB of fresh pages costs about as much as the hash
//!   itself, and because allocating and freeing 19 MiB per hash amid the small
//!   allocations of request handling fragments glibc's heap (a login flood once grew
//!   the process past a gigabyte while its live heap stayed under 50 MiB);
//! - return, because a device that logs a controller in once a day should not carry
//!   `hash_concurrency × memory_kib` for the rest of the day.
//!
//! Every buffer reserves more than 32 MiB of address space (only the blocks argon2
//! uses are ever touched, so only they count in RSS). glibc serves a request that
//! large with a mapping of its own and unmaps it on free, whatever its dynamic mmap
//! threshold has grown to (that threshold stops at 32 MiB on 64-bit targets); a
//! 19 MiB request would, after the first free, come from the heap and stay there.
//!
//! Passwords travel as [`Password`], which zeroes its memory on drop and never prints
//! its contents.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::config::HashParams;
use crate::error::ApiError;

/// A password (or enrollment code) in memory: zeroed on drop, redacted in `Debug`.
#[derive(Clone, Default)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// Wrap a password.
    pub fn new(s: impl Into<String>) -> Self {
        Password(Zeroizing::new(s.into()))
    }

    /// The password text. Only for hashing and policy checks.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Why a hash could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// Too many hashes are running or waiting; try again shortly.
    #[error("too many password hashes in progress")]
    Busy,
    /// The hashing task failed (logged where it happened).
    #[error("password hashing failed")]
    Failed,
}

impl From<HashError> for ApiError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => ApiError::busy(
                "server_busy",
                "the device is busy checking other passwords; try again shortly",
                1,
            ),
            HashError::Failed => ApiError::internal(),
        }
    }
}

/// Bounded argon2id hashing and verification.
#[derive(Debug)]
pub struct Hasher {
    params: Params,
    slots: Arc<Semaphore>,
    admitted: Arc<AtomicUsize>,
    concurrency: usize,
    capacity: usize,
    /// A hash of a random password, verified against when an account has no usable
    /// password, so that such logins take as long as a wrong password.
    decoy: OnceLock<String>,
    /// argon2 working memory, reused and returned (see module docs).
    memory: Arc<Mutex<Memory>>,
    /// How long idle buffers are kept for the next hash.
    keep: Duration,
}

/// The idle argon2 buffers and what decides when they go back to the system.
#[derive(Debug, Default)]
struct Memory {
    idle: Vec<Vec<Block>>,
    /// Buffers lent out to running hashes.
    in_use: usize,
    /// Bumped whenever a buffer comes back: a release scheduled when the hasher went
    /// idle only frees the buffers if no hash has run since.
    returns: u64,
}

/// Blocks that make a buffer's allocation larger than glibc's largest dynamic mmap
/// threshold (32 MiB on 64-bit targets), so that freeing it unmaps it.
const UNMAPPED_ON_FREE_BLOCKS: usize = 32 * 1024 + 1;

/// How busy the hasher is (for the metrics endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLoad {
    /// Jobs holding a hashing slot.
    pub running: usize,
    /// Admitted jobs waiting for a slot.
    pub queued: usize,
}

/// Counts one admitted job; releases its place when dropped.
struct Admission(Arc<AtomicUsize>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Hasher {
    /// A hasher making new hashes with `params`, running at most `concurrency` at a
    /// time with at most `queue` more waiting.
    pub fn new(params: HashParams, concurrency: usize, queue: usize) -> Result<Self, HashError> {
        let params = Params::new(params.memory_kib, params.iterations, params.parallelism, None)
            .map_err(|_| HashError::Failed)?;
        Ok(Hasher {
            params,
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            admitted: Arc::new(AtomicUsize::new(0)),
            concurrency: concurrency.max(1),
            capacity: concurrency.max(1) + queue,
            decoy: OnceLock::new(),
            memory: Arc::default(),
            keep: Duration::ZERO,
        })
    }

    /// Keep idle argon2 buffers this long for the next hash before returning them to
    /// the system (`limits.hash_memory_keep`). Outside a tokio runtime (the console)
    /// they are returned at once.
    pub fn keep_memory(mut self, keep: Duration) -> Self {
        self.keep = keep;
        self
    }

    fn memory(&self) -> MutexGuard<'_, Memory> {
        lock(&self.memory)
    }

    /// Run argon2 with `params` in a pooled buffer of at least the blocks it needs.
    fn with_memory<T>(&self, params: &Params, run: impl FnOnce(&mut [Block]) -> T) -> T {
        let needed = params.block_count();
        let taken = {
            let mut memory = self.memory();
            memory.in_use += 1;
            memory.idle.pop()
        };
        let mut buffer = taken.unwrap_or_else(|| Vec::with_capacity(needed.max(UNMAPPED_ON_FREE_BLOCKS)));
        if buffer.len() < needed {
            buffer.resize(needed, Block::default());
        }
        let out = run(&mut buffer[..needed]);
        self.give_back(buffer);
        out
    }

    /// Return a buffer to the pool; once none is lent out, schedule the pool's release.
    fn give_back(&self, buffer: Vec<Block>) {
        let (went_idle, returns) = {
            let mut memory = self.memory();
            memory.idle.push(buffer);
            memory.in_use -= 1;
            memory.returns += 1;
            (memory.in_use == 0, memory.returns)
        };
        if !went_idle {
            return;
        }
        match (tokio::runtime::Handle::try_current(), self.keep.is_zero()) {
            (Ok(runtime), false) => {
                // The deadline counts from now, not from whenever the task first runs.
                let (memory, deadline) = (Arc::clone(&self.memory), tokio::time::Instant::now() + self.keep);
                runtime.spawn(async move {
                    tokio::time::sleep_until(deadline).await;
                    release_if_unused(&memory, returns);
                });
            }
            _ => release_if_unused(&self.memory, returns),
        }
    }
    /// Compute an argon2 output into `out`.
    fn compute(&self, argon2: &Argon2<'_>, params: &Params, password: &[u8], salt: &[u8], out: &mut [u8]) -> bool {
        self.with_memory(params, |blocks| {
            argon2
                .hash_password_into_with_memory(password, salt, out, blocks)
                .is_ok()
        })
    }

    fn admit(&self) -> Result<Admission, HashError> {
        let mut current = self.admitted.load(Ordering::Acquire);
        loop {
            if current >= self.capacity {
                return Err(HashError::Busy);
            }
            match self
                .admitted
                .compare_exchange_weak(current, current + 1, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Ok(Admission(Arc::clone(&self.admitted))),
                Err(seen) => current = seen,
            }
        }
    }

    /// Hash a new password into a PHC string, synchronously (CLI and blocking pool).
    pub fn hash_blocking(&self, password: &Password) -> Result<String, HashError> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|_| HashError::Failed)?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone());
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        if !self.compute(&argon2, &self.params, password.expose().as_bytes(), &salt, &mut out) {
            tracing::error!("argon2 hashing failed");
            return Err(HashError::Failed);
        }
        let encoded = (|| {
            Some(PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(&self.params).ok()?,
                salt: Some(Salt::new(&salt).ok()?),
                hash: Some(Output::new(&out).ok()?),
            })
        })();
        encoded.map(|h| h.to_string()).ok_or(HashError::Failed)
    }

    /// Check `password` against a stored PHC string (its own parameters apply).
    fn matches(&self, phc: &str, password: &Password) -> Result<bool, &'static str> {
        let parsed = PasswordHash::new(phc).map_err(|_| "not a PHC string")?;
        let params = Params::try_from(&parsed).map_err(|_| "unusable parameters")?;
        let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(|_| "not an argon2 hash")?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v).map_err(|_| "unknown argon2 version")?,
            None => Version::default(),
        };
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Err("no salt or hash");
        };
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let mut out = vec![0u8; expected.as_bytes().len()];
        if !self.compute(&argon2, &params, password.expose().as_bytes(), salt.as_ref(), &mut out) {
            return Err("argon2 refused the parameters");
        }
        Ok(bool::from(out.as_slice().ct_eq(expected.as_bytes())))
    }

    /// Verify synchronously. `None` (no usable password) verifies against the decoy
    /// and always fails, taking the same time as a wrong password.
    pub fn verify_blocking(&self, phc: Option<&str>, password: &Password) -> bool {
        match phc {
            Some(phc) => self.matches(phc, password).unwrap_or_else(|why| {
                tracing::error!(reason = why, "a stored password hash could not be used");
                false
            }),
            None => {
                let decoy = self.decoy.get_or_init(|| {
                    let mut random = Zeroizing::new([0u8; 24]);
                    let _ = getrandom::fill(random.as_mut());
                    let pw = Password::new(crate::util::hex(random.as_ref()));
                    self.hash_blocking(&pw).unwrap_or_default()
                });
                let _ = self.matches(decoy, password);
                false
            }
        }
    }

    /// Run `job` on the blocking pool once admitted and given a slot. The admission
    /// and slot move into the job, so the bound holds even if the caller goes away.
    async fn bounded<T: Send + 'static>(
        self: &Arc<Self>,
        job: impl FnOnce(&Hasher) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let admission = self.admit()?;
        let permit = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|_| HashError::Failed)?;
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _held = (admission, permit);
            job(&this)
        })
        .await
        .map_err(|_| HashError::Failed)
    }

    /// Jobs running and waiting now (a job between admission and its slot counts
    /// as waiting).
    pub fn load(&self) -> HashLoad {
        let running = self.concurrency.saturating_sub(self.slots.available_permits());
        let admitted = self.admitted.load(Ordering::Acquire);
        HashLoad {
            running,
            queued: admitted.saturating_sub(running),
        }
    }

    /// Hash a new password on the blocking pool, within the concurrency bound.
    pub async fn hash(self: &Arc<Self>, password: Password) -> Result<String, HashError> {
        self.bounded(move |h| h.hash_blocking(&password)).await?
    }

    /// Verify a password on the blocking pool, within the concurrency bound.
    pub async fn verify(self: &Arc<Self>, phc: Option<String>, password: Password) -> Result<bool, HashError> {
        self.bounded(move |h| h.verify_blocking(phc.as_deref(), &password))
            .await
    }
}

fn lock(memory: &Mutex<Memory>) -> MutexGuard<'_, Memory> {
    memory.lock().unwrap_or_else(|p| p.into_inner())
}

/// Free the idle buffers unless a hash has run (or is running) since the
/// `returns`-th buffer came back. The buffers are dropped outside the lock.
fn release_if_unused(memory: &Mutex<Memory>, returns: u64) {
    let released = {
        let mut memory = lock(memory);
        match memory.in_use == 0 && memory.returns == returns {
            true => std::mem::take(&mut memory.idle),
            false => Vec::new(),
        }
    };
    drop(released);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped default (OWASP's m=19 MiB, t=2, p=1), from the embedded config.
    fn owasp() -> HashParams {
        crate::Config::from_toml("", std::path::Path::new("/"), "default")
            .unwrap()
            .start
            .passwords
    }

    fn cheap() -> HashParams {
        HashParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        }
    }

    #[test]
    fn hash_and_verify() {
        let h = Hasher::new(cheap(), 1, 0).unwrap();
        let phc = h.hash_blocking(&Password::new("correct horse")).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        assert!(h.verify_blocking(Some(&phc), &Password::new("correct horse")));
        assert!(!h.verify_blocking(Some(&phc), &Password::new("wrong horse")));
        assert!(!h.verify_blocking(None, &Password::new("")));
        assert!(!h.verify_blocking(Some("not a phc string"), &Password::new("x")));
    }

    #[test]
    fn hashes_are_standard_phc_and_interoperate_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let h = Hasher::new(cheap(), 1, 0).unwrap();
        let ours = h.hash_blocking(&Password::new("interop")).unwrap();
        assert!(
            argon2::Argon2::default()
                .verify_password(b"interop", ours.as_str())
                .is_ok()
        );
        assert!(
            argon2::Argon2::default()
                .verify_password(b"other", ours.as_str())
                .is_err()
        );
        // A hash made elsewhere (other parameters) verifies here, and grows the buffer.
        let params = Params::new(256, 2, 1, None).unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"elsewhere")
            .unwrap()
            .to_string();
        assert!(h.verify_blocking(Some(&theirs), &Password::new("elsewhere")));
        assert!(!h.verify_blocking(Some(&theirs), &Password::new("elsewhere!")));
    }

    fn idle_buffers(h: &Hasher) -> Vec<(*const Block, usize, usize)> {
        h.memory()
            .idle
            .iter()
            .map(|b| (b.as_ptr(), b.len(), b.capacity()))
            .collect()
    }

    #[test]
    fn outside_a_runtime_buffers_go_back_to_the_system_once_none_is_in_use() {
        let h = Hasher::new(cheap(), 1, 0).unwrap().keep_memory(Duration::from_secs(60));
        let params = Params::new(64, 1, 1, None).unwrap();
        h.with_memory(&params, |_| {
            h.with_memory(&params, |inner| assert_eq!(inner.len(), 64));
            assert_eq!(idle_buffers(&h).len(), 1, "kept while another hash runs");
        });
        assert!(idle_buffers(&h).is_empty(), "returned when the last hash ended");
        h.hash_blocking(&Password::new("x")).unwrap();
        assert!(idle_buffers(&h).is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn buffers_are_reused_while_hashing_goes_on_and_returned_after_the_keep_time() {
        let h = Arc::new(Hasher::new(cheap(), 1, 1).unwrap().keep_memory(Duration::from_secs(1)));
        let settle = || async {
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
        };
        h.hash(Password::new("one")).await.unwrap();
        let first = idle_buffers(&h);
        assert_eq!(first.len(), 1);
        let (ptr, len, capacity) = first[0];
        assert_eq!(len, 64);
        assert!(
            capacity >= UNMAPPED_ON_FREE_BLOCKS,
            "large enough to be unmapped on free"
        );

        tokio::time::advance(Duration::from_millis(700)).await;
        settle().await;
        let phc = h.hash(Password::new("two")).await.unwrap();
        assert_eq!(idle_buffers(&h), vec![(ptr, len, capacity)], "the same buffer, reused");

        // A hash made elsewhere with more memory grows the same buffer in place.
        let theirs = {
            use argon2::password_hash::PasswordHasher as _;
            Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(256, 2, 1, None).unwrap(),
            )
            .hash_password(b"elsewhere")
            .unwrap()
            .to_string()
        };
        assert!(h.verify(Some(theirs), Password::new("elsewhere")).await.unwrap());
        assert_eq!(
            idle_buffers(&h),
            vec![(ptr, 256, capacity)],
            "grown to the larger parameters"
        );

        // The release scheduled after the first hash finds that one ran since.
        tokio::time::advance(Duration::from_millis(700)).await;
        settle().await;
        assert_eq!(idle_buffers(&h).len(), 1, "kept: the last hash was 0.7 s ago");
        assert!(h.verify(Some(phc), Password::new("two")).await.unwrap());
        tokio::time::advance(Duration::from_millis(1100)).await;
        settle().await;
        assert!(idle_buffers(&h).is_empty(), "returned 1 s after the last hash");
    }

    #[test]
    fn password_debug_is_redacted() {
        let p = Password::new("hunter2");
        assert!(!format!("{p:?}").contains("hunter2"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn admission_is_bounded() {
        // Real OWASP cost so that jobs are still running when the burst arrives.
        let h = Arc::new(Hasher::new(owasp(), 1, 2).unwrap());
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let h = Arc::clone(&h);
            tasks.push(tokio::spawn(async move { h.hash(Password::new("pw")).await }));
        }
        let mut busy = 0;
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(HashError::Busy) => busy += 1,
                Err(HashError::Failed) => panic!("hashing failed"),
            }
        }
        assert_eq!(ok + busy, 10);
        assert!(ok >= 3 && busy >= 1, "ok={ok} busy={busy}");
        assert_eq!(h.admitted.load(Ordering::Acquire), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn load_counts_running_and_waiting_jobs() {
        let h = Arc::new(Hasher::new(owasp(), 1, 2).unwrap());
        assert_eq!(h.load(), HashLoad { running: 0, queued: 0 });
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let h = Arc::clone(&h);
                tokio::spawn(async move { h.hash(Password::new("pw")).await })
            })
            .collect();
        let mut seen = h.load();
        for _ in 0..200 {
            seen = h.load();
            if seen.running == 1 && seen.queued >= 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        assert!(seen.running == 1 && seen.queued >= 1, "{seen:?}");
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(h.load(), HashLoad { running: 0, queued: 0 });
    }
}
