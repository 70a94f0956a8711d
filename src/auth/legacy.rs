//! Legacy credentials (off by default, SPEC §6): `Authorization: Nureva
//! base64(account:password)`, for integrations hard-coded that way.
//!
//! A presented pair is verified with the login rules (throttle, the same hash and
//! typing) once, then remembered in a bounded cache keyed by an HMAC of account and
//! password, valid only while the account's stored hash is unchanged. Such a
//! credential is not a session: it cannot be logged out, and a stream opened with
//! it ends when the account's password or enabled state changes or the policy turns
//! legacy mode off ([`still_valid`]).

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;
use zeroize::Zeroizing;

use crate::auth::accounts::Role;
use crate::auth::audit::{self, Actor};
use crate::auth::credentials::{CredentialKind, Principal, RandomError};
use crate::auth::limits::LoginThrottle;
use crate::auth::ops::{as_typed, usable_password_hash};
use crate::auth::passwords::{Hasher, Password};
use crate::auth::state::State;
use crate::error::ApiError;

/// A presented `base64(account:password)` credential (legacy mode).
#[derive(Debug)]
pub struct LegacyCredential {
    /// The account named.
    pub account: Role,
    /// The password given (redacted in `Debug`).
    pub password: Password,
}

/// Decode `base64(account:password)` (padding optional). `None` unless the account
/// part is one of the four exact names.
pub fn parse_legacy(token: &str) -> Option<LegacyCredential> {
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    let bytes = Zeroizing::new(STANDARD.decode(token).or_else(|_| STANDARD_NO_PAD.decode(token)).ok()?);
    let text = std::str::from_utf8(&bytes).ok()?;
    let (account, password) = text.split_once(':')?;
    Some(LegacyCredential {
        account: Role::parse(account)?,
        password: Password::new(password),
    })
}

struct LegacyEntry {
    account: Role,
    phc: String,
    last_use: u64,
}

/// Remembers verified legacy credentials so that each request does not pay an
/// argon2 hash. Keyed by an HMAC (with a per-process random key) of account and
/// password, so the cache holds no password; an entry is good only while the
/// account's stored hash is the one it was verified against, so a password change
/// invalidates it at once. Bounded: the least recently used entry makes room.
pub struct LegacyCache {
    key: hmac::Key,
    entries: Mutex<(u64, HashMap<[u8; 32], LegacyEntry>)>,
    capacity: usize,
}

impl fmt::Debug for LegacyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LegacyCache")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl LegacyCache {
    /// An empty cache holding at most `capacity` entries.
    pub fn new(capacity: usize) -> Result<Self, RandomError> {
        let mut key = Zeroizing::new([0u8; 32]);
        getrandom::fill(key.as_mut()).map_err(|_| RandomError)?;
        Ok(LegacyCache {
            key: hmac::Key::new(hmac::HMAC_SHA256, key.as_ref()),
            entries: Mutex::new((0, HashMap::new())),
            capacity: capacity.max(1),
        })
    }

    fn slot(&self, account: Role, password: &str) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(account.as_str().as_bytes());
        ctx.update(&[0]);
        ctx.update(password.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// Whether this account/password was verified against `phc` (the account's
    /// current hash).
    pub fn is_verified(&self, account: Role, password: &str, phc: &str) -> bool {
        let slot = self.slot(account, password);
        let mut guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (clock, map) = &mut *guard;
        *clock += 1;
        match map.get_mut(&slot) {
            Some(e) if e.account == account && e.phc == phc => {
                e.last_use = *clock;
                true
            }
            _ => false,
        }
    }

    /// Remember a successful verification against `phc`.
    pub fn remember(&self, account: Role, password: &str, phc: &str) {
        let slot = self.slot(account, password);
        let mut guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (clock, map) = &mut *guard;
        *clock += 1;
        if map.len() >= self.capacity
            && !map.contains_key(&slot)
            && let Some(oldest) = map.iter().min_by_key(|(_, e)| e.last_use).map(|(k, _)| *k)
        {
            map.remove(&oldest);
        }
        map.insert(
            slot,
            LegacyEntry {
                account,
                phc: phc.to_string(),
                last_use: *clock,
            },
        );
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).1.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What verifying a legacy credential needs from the running service.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verifier<'a> {
    /// The password hasher.
    pub hasher: &'a Arc<Hasher>,
    /// Verified pairs.
    pub cache: &'a LegacyCache,
    /// Failed-login throttling, shared with logins.
    pub throttle: &'a LoginThrottle,
}

impl Verifier<'_> {
    /// Verify `token` as `base64(account:password)` against `state`. `Ok(None)`: not
    /// a valid legacy credential (the caller answers as for any invalid credential);
    /// `Err`: throttled or the hasher is busy.
    pub(crate) async fn verify(
        &self,
        token: &str,
        ip: IpAddr,
        client_id: &str,
        state: &State,
    ) -> Result<Option<Principal>, ApiError> {
        let Some(cred) = parse_legacy(token) else {
            return Ok(None);
        };
        let account = cred.account;
        let Some(record) = state.account(account) else {
            return Ok(None);
        };
        let phc = usable_password_hash(state, account);
        let typed = as_typed(state, account, cred.password);
        let known = phc
            .as_deref()
            .is_some_and(|phc| self.cache.is_verified(account, typed.expose(), phc));
        if !known {
            self.throttle.admit(account, ip, &state.policy)?;
            let cache_key = typed.clone();
            let ok = self.hasher.verify(phc.clone(), typed).await?;
            self.throttle.record(account, ip, &state.policy, ok && phc.is_some());
            let remote = ip.to_string();
            let actor = Actor {
                account: Some(account),
                client_id,
                remote: &remote,
            };
            match phc {
                Some(phc) if ok => {
                    self.cache.remember(account, cache_key.expose(), &phc);
                    audit::record("legacy_login", "success", &actor, None);
                }
                _ => {
                    audit::record("legacy_login", "failure", &actor, None);
                    return Ok(None);
                }
            }
        }
        Ok(Some(Principal {
            account,
            kind: CredentialKind::Legacy,
            id: Arc::from(format!("legacy-{account}")),
            created_at: record.changed_at,
            expires_at: None,
            via_enrollment_code: record.password_is_enrollment_code,
        }))
    }
}

/// Whether a legacy credential verified earlier (`principal`) is still good in
/// `state`: verified against the account as it was, so any change of password or
/// enabled state, or the policy turning legacy mode off, ends it.
pub(crate) fn still_valid(state: &State, principal: &Principal) -> bool {
    state.account(principal.account).is_some_and(|account| {
        account.enabled && account.changed_at == principal.created_at && state.policy.legacy_basic_credentials
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_credentials_parse_only_known_accounts() {
        let c = parse_legacy("Z2VuZXJhbDo=").unwrap(); // general:
        assert_eq!(c.account, Role::General);
        assert_eq!(c.password.expose(), "");
        let c = parse_legacy("YWRtaW46QUJDLURFRi1HSEo").unwrap(); // admin:ABC-DEF-GHJ, no padding
        assert_eq!((c.account, c.password.expose()), (Role::Admin, "ABC-DEF-GHJ"));
        assert!(parse_legacy("QWRtaW46eA==").is_none()); // Admin:x
        assert!(parse_legacy("cm9vdDp4").is_none()); // root:x
        assert!(parse_legacy("bm9jb2xvbg==").is_none()); // nocolon
        assert!(parse_legacy("!!!").is_none());
    }

    #[test]
    fn legacy_cache_follows_the_stored_hash_and_stays_bounded() {
        let cache = LegacyCache::new(2).unwrap();
        cache.remember(Role::General, "pw", "$hash1");
        assert!(cache.is_verified(Role::General, "pw", "$hash1"));
        assert!(
            !cache.is_verified(Role::General, "pw", "$hash2"),
            "a password change invalidates"
        );
        assert!(!cache.is_verified(Role::General, "other", "$hash1"));
        assert!(!cache.is_verified(Role::Admin, "pw", "$hash1"));
        cache.remember(Role::Admin, "a", "$h");
        cache.is_verified(Role::General, "pw", "$hash1"); // general is now the most recent
        cache.remember(Role::Integrator, "i", "$h");
        assert_eq!(cache.len(), 2);
        assert!(
            cache.is_verified(Role::General, "pw", "$hash1"),
            "least recently used went first"
        );
        assert!(!cache.is_verified(Role::Admin, "a", "$h"));
    }
}
