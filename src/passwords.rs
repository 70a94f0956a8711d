//! argon2id password hashing off the async threads, with bounded concurrency.
//!
//! Each hash takes `memory_kib` of memory and tens of milliseconds of CPU, so a login
//! flood must not be able to start an unbounded number of them. [`Hasher`] admits at
//! most `concurrency + queue` hashing jobs; `concurrency` of them run on tokio's
//! blocking pool while the rest wait for a slot. Past that bound the caller gets
//! [`HashError::Busy`] at once (the API answers 503 with `Retry-After`), so memory
//! stays bounded by `concurrency × memory_kib` and other requests keep flowing.
//!
//! Passwords travel as [`Password`], which zeroes its memory on drop and never prints
//! its contents.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::config::HashParams;

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

/// Bounded argon2id hashing and verification.
#[derive(Debug)]
pub struct Hasher {
    params: Params,
    slots: Arc<Semaphore>,
    admitted: Arc<AtomicUsize>,
    capacity: usize,
    /// A hash of a random password, verified against when an account has no usable
    /// password, so that such logins take as long as a wrong password.
    decoy: OnceLock<String>,
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
            capacity: concurrency.max(1) + queue,
            decoy: OnceLock::new(),
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
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
        self.argon2()
            .hash_password(password.expose().as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| {
                tracing::error!(error = %e, "argon2 hashing failed");
                HashError::Failed
            })
    }

    /// Verify synchronously. `None` (no usable password) verifies against the decoy
    /// and always fails, taking the same time as a wrong password.
    pub fn verify_blocking(&self, phc: Option<&str>, password: &Password) -> bool {
        let argon2 = Argon2::default();
        match phc {
            Some(phc) => match argon2.verify_password(password.expose().as_bytes(), phc) {
                Ok(()) => true,
                Err(argon2::password_hash::Error::PasswordInvalid) => false,
                Err(e) => {
                    tracing::error!(error = %e, "a stored password hash could not be used");
                    false
                }
            },
            None => {
                let decoy = self.decoy.get_or_init(|| {
                    let mut random = Zeroizing::new([0u8; 24]);
                    let _ = getrandom::fill(random.as_mut());
                    let pw = Password::new(hex(random.as_ref()));
                    self.hash_blocking(&pw).unwrap_or_default()
                });
                let _ = argon2.verify_password(password.expose().as_bytes(), decoy.as_str());
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn password_debug_is_redacted() {
        let p = Password::new("hunter2");
        assert!(!format!("{p:?}").contains("hunter2"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn admission_is_bounded() {
        // Real OWASP cost so that jobs are still running when the burst arrives.
        let h = Arc::new(Hasher::new(HashParams::default(), 1, 2).unwrap());
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
}
