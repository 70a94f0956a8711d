//! Sessions and API keys: mint, parse, verify, and remember when they were used.
//!
//! A credential is `base64url(id ‖ secret)` with a random 16-byte id and a random
//! 32-byte secret (API keys carry the `rgk_` prefix). It is never derived from a
//! password. The state stores only `HMAC-SHA256(signing key, id ‖ secret)`, so the
//! state file holds no usable credential, and a new signing key (factory reset)
//! invalidates every credential at once.
//!
//! Verification is in memory: decode, look the id up in the [`CredentialIndex`]
//! built from the current state, compare the HMAC in constant time, check the account
//! is enabled and the session has not expired. No disk, no password hash.
//! Last-use times are kept in atomics and written with the next state write. A
//! connection remembers the credential it last had verified ([`Remembered`]): the
//! same header on its next request, against the same index and state, skips the
//! decoding and the HMAC.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher as _};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::hmac;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::auth::accounts::Role;
use crate::auth::state::State;
use crate::util::UnixTime;

/// Prefix of API keys.
pub(crate) const KEY_PREFIX: &str = "rgk_";
const ID_LEN: usize = 16;
const SECRET_LEN: usize = 32;
/// base64url (no padding) length of id ‖ secret.
const TOKEN_B64_LEN: usize = 64;

/// Session, API key, (legacy mode) `base64(account:password)`, or the vendor's
/// example credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// Made by a login.
    Session,
    /// Made by an admin for one integration.
    ApiKey,
    /// `base64(account:password)`, accepted only when the policy allows it.
    Legacy,
    /// base64(`general:`) while the general password is empty (`auth::vendor_example`).
    VendorExample,
}

impl CredentialKind {
    /// Name used in API responses.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Session => "session",
            CredentialKind::ApiKey => "apiKey",
            CredentialKind::Legacy => "legacy",
            CredentialKind::VendorExample => "vendorExample",
        }
    }

    /// Whether credentials of this kind are records in the state (sessions, API
    /// keys), which can be revoked one by one; the others follow from an account's
    /// password.
    pub fn is_stored(self) -> bool {
        matches!(self, CredentialKind::Session | CredentialKind::ApiKey)
    }
}

/// The OS random source failed.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the operating system's random source failed")]
pub struct RandomError;

/// A new 32-byte signing key, base64.
pub(crate) fn new_signing_key() -> Result<String, RandomError> {
    let mut key = Zeroizing::new([0u8; 32]);
    getrandom::fill(key.as_mut()).map_err(|_| RandomError)?;
    Ok(STANDARD.encode(key.as_ref()))
}

/// Decode a signing key from the state.
pub(crate) fn decode_signing_key(encoded: &str) -> Option<Zeroizing<[u8; 32]>> {
    let mut key = Zeroizing::new([0u8; 32]);
    let mut buf = Zeroizing::new([0u8; 48]);
    let n = STANDARD.decode_slice(encoded, buf.as_mut()).ok()?;
    if n != 32 {
        return None;
    }
    key.copy_from_slice(&buf[..32]);
    Some(key)
}

/// A freshly minted credential. `token` is shown to its owner once and never stored.
pub struct Minted {
    /// The credential the client presents.
    pub token: Zeroizing<String>,
    /// Its public id (base64url of the 16-byte id).
    pub id: String,
    /// Hex HMAC verifier, for the state.
    pub verifier: String,
}

impl fmt::Debug for Minted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Minted").field("id", &self.id).finish_non_exhaustive()
    }
}

/// Makes verifiers with one signing key.
#[derive(Clone)]
pub struct Signer {
    key: hmac::Key,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer(<redacted>)")
    }
}

impl Signer {
    /// A signer for the state's signing key.
    pub fn for_state(state: &State) -> Option<Signer> {
        let key = decode_signing_key(&state.signing_key)?;
        Some(Signer {
            key: hmac::Key::new(hmac::HMAC_SHA256, key.as_ref()),
        })
    }

    fn verifier(&self, id: &[u8; ID_LEN], secret: &[u8; SECRET_LEN]) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(id);
        ctx.update(secret);
        let tag = ctx.sign();
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// Mint a new session credential.
    pub fn mint_session(&self) -> Result<Minted, RandomError> {
        self.mint("")
    }

    /// Mint a new API key (`rgk_…`).
    pub fn mint_api_key(&self) -> Result<Minted, RandomError> {
        self.mint(KEY_PREFIX)
    }

    fn mint(&self, prefix: &str) -> Result<Minted, RandomError> {
        let mut raw = Zeroizing::new([0u8; ID_LEN + SECRET_LEN]);
        getrandom::fill(raw.as_mut()).map_err(|_| RandomError)?;
        let mut id = [0u8; ID_LEN];
        id.copy_from_slice(&raw[..ID_LEN]);
        let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
        secret.copy_from_slice(&raw[ID_LEN..]);
        let body = Zeroizing::new(URL_SAFE_NO_PAD.encode(raw.as_ref()));
        let token = Zeroizing::new(format!("{prefix}{}", body.as_str()));
        Ok(Minted {
            token,
            id: URL_SAFE_NO_PAD.encode(id),
            verifier: crate::util::hex(&self.verifier(&id, &secret)),
        })
    }
}

/// A syntactically valid credential.
struct Parsed {
    kind: CredentialKind,
    id: [u8; ID_LEN],
    secret: Zeroizing<[u8; SECRET_LEN]>,
}

fn parse(token: &str) -> Option<Parsed> {
    let (kind, body) = match token.strip_prefix(KEY_PREFIX) {
        Some(rest) => (CredentialKind::ApiKey, rest),
        None => (CredentialKind::Session, token),
    };
    if body.len() != TOKEN_B64_LEN {
        return None;
    }
    let mut raw = Zeroizing::new([0u8; ID_LEN + SECRET_LEN]);
    let n = URL_SAFE_NO_PAD.decode_slice(body, raw.as_mut()).ok()?;
    if n != ID_LEN + SECRET_LEN {
        return None;
    }
    let mut id = [0u8; ID_LEN];
    id.copy_from_slice(&raw[..ID_LEN]);
    let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
    secret.copy_from_slice(&raw[ID_LEN..]);
    Some(Parsed { kind, id, secret })
}

/// Decode a public credential id (as listed by the admin API).
pub(crate) fn decode_id(id: &str) -> Option<[u8; ID_LEN]> {
    let mut out = [0u8; ID_LEN + 2];
    let n = URL_SAFE_NO_PAD.decode_slice(id, &mut out).ok()?;
    (n == ID_LEN).then(|| {
        let mut id = [0u8; ID_LEN];
        id.copy_from_slice(&out[..ID_LEN]);
        id
    })
}

fn from_hex32(s: &str) -> Option<[u8; 32]> {
    let bytes = s.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

/// One credential in the index.
#[derive(Debug)]
pub(crate) struct Entry {
    kind: CredentialKind,
    id: Arc<str>,
    account: Role,
    verifier: [u8; 32],
    created_at: UnixTime,
    via_enrollment_code: bool,
    last_used: AtomicU64,
    last_client_hash: AtomicU64,
    last_client: Mutex<Option<String>>,
}

/// Who a verified credential speaks for.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The account (role) it acts as.
    pub account: Role,
    /// Session or API key.
    pub kind: CredentialKind,
    /// Public credential id.
    pub id: Arc<str>,
    /// Creation time.
    pub created_at: UnixTime,
    /// When it expires (sessions under a lifetime policy).
    pub expires_at: Option<UnixTime>,
    /// An admin session obtained with the enrollment code.
    pub via_enrollment_code: bool,
}

fn principal(entry: &Entry, expires_at: Option<UnixTime>) -> Principal {
    Principal {
        account: entry.account,
        kind: entry.kind,
        id: Arc::clone(&entry.id),
        created_at: entry.created_at,
        expires_at,
        via_enrollment_code: entry.via_enrollment_code,
    }
}

/// The credential one connection last had verified. A client sends the same
/// `Authorization` header on every request of a keep-alive connection; remembering
/// it saves decoding it and computing its HMAC again (a third of the request
/// path's own work). It is per connection, so no other client can ever be answered
/// from it, and it counts only while the index and the state it was verified
/// against are current: a revoked key, a logout, a disabled account or a policy
/// change each make new ones, and the next request is verified in full.
#[derive(Default)]
pub struct Remembered(Mutex<Option<Memo>>);

impl Remembered {
    fn keep(&self, memo: Memo) {
        if let Ok(mut slot) = self.0.try_lock() {
            *slot = Some(memo);
        }
    }
}

impl fmt::Debug for Remembered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Remembered(<redacted>)")
    }
}

struct Memo {
    /// Weak: an idle connection must not keep an old index or state alive. (The
    /// allocation stays while a `Weak` points at it, so its address cannot be
    /// reused by a newer one.)
    index: std::sync::Weak<CredentialIndex>,
    state: std::sync::Weak<State>,
    /// The `Authorization` value verified: a secret, wiped when forgotten.
    header: Zeroizing<Vec<u8>>,
    entry: Arc<Entry>,
    expires_at: Option<UnixTime>,
}

/// Whether two secrets are equal, in time that depends only on their lengths: an
/// OR of the XORed words (eight bytes at a time, then the tail byte by byte), with
/// one constant-time comparison at the end. No branch depends on the bytes.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a_words, b_words) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail = a_words.remainder().iter().zip(b_words.remainder());
    let word = |c: &[u8]| u64::from_ne_bytes(c.try_into().unwrap_or_default());
    let diff = a_words.zip(b_words).fold(0u64, |acc, (x, y)| acc | (word(x) ^ word(y)));
    let diff = tail.fold(diff, |acc, (x, y)| acc | u64::from(x ^ y));
    diff.ct_eq(&0).into()
}

/// Why a credential was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown, malformed, revoked, or its account is disabled.
    Invalid,
    /// The session lifetime has passed.
    Expired,
}

/// The credentials of one state, keyed by id, for verification in memory.
#[derive(Debug)]
pub struct CredentialIndex {
    signer: Option<Signer>,
    entries: HashMap<[u8; ID_LEN], Arc<Entry>>,
    dirty: AtomicBool,
}

fn client_hash(client_id: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    client_id.hash(&mut h);
    h.finish() | 1 // never 0, which means "not recorded"
}

impl CredentialIndex {
    /// An index with no credentials.
    pub fn empty() -> Self {
        CredentialIndex {
            signer: None,
            entries: HashMap::new(),
            dirty: AtomicBool::new(false),
        }
    }

    /// Build the index of `state`, carrying over in-memory last-use data from
    /// `previous` for credentials that still exist.
    pub fn build(state: &State, previous: &CredentialIndex) -> Self {
        let signer = Signer::for_state(state);
        let mut entries = HashMap::with_capacity(state.sessions.len() + state.api_keys.len());
        let sessions = state.sessions.iter().map(|(id, s)| {
            (
                id,
                CredentialKind::Session,
                s.account,
                &s.verifier,
                s.created_at,
                s.via_enrollment_code,
                s.last_used_at,
                None,
            )
        });
        let keys = state.api_keys.iter().map(|(id, k)| {
            (
                id,
                CredentialKind::ApiKey,
                k.account,
                &k.verifier,
                k.created_at,
                false,
                k.last_used_at,
                k.last_client_id.as_ref(),
            )
        });
        for (id_str, kind, account, verifier, created_at, via_code, last_used, last_client) in sessions.chain(keys) {
            let (Some(id), Some(verifier)) = (decode_id(id_str), from_hex32(verifier)) else {
                tracing::warn!(credential = %id_str, "skipping a malformed credential record");
                continue;
            };
            let carried = previous.entries.get(&id).filter(|e| e.verifier == verifier);
            let last_used = carried
                .map_or(0, |e| e.last_used.load(Ordering::Relaxed))
                .max(last_used.unwrap_or(0));
            let last_client = carried
                .and_then(|e| e.last_client.lock().ok().and_then(|c| c.clone()))
                .or_else(|| last_client.cloned());
            let entry = Entry {
                kind,
                id: Arc::from(id_str.as_str()),
                account,
                verifier,
                created_at,
                via_enrollment_code: via_code,
                last_used: AtomicU64::new(last_used),
                last_client_hash: AtomicU64::new(last_client.as_deref().map_or(0, client_hash)),
                last_client: Mutex::new(last_client),
            };
            entries.insert(id, Arc::new(entry));
        }
        CredentialIndex {
            signer,
            entries,
            dirty: AtomicBool::new(previous.dirty.load(Ordering::Relaxed)),
        }
    }

    /// Verify a presented credential against `state` at time `now`.
    pub fn verify(&self, token: &str, state: &State, client_id: &str, now: UnixTime) -> Result<Principal, Refusal> {
        let (entry, expires_at) = self.check(token, state, now)?;
        self.note_use(entry, client_id, now);
        Ok(principal(entry, expires_at))
    }

    /// [`Self::verify`], and on success remember the credential for the connection
    /// it came on: `header` is the whole `Authorization` value it was presented in.
    pub fn verify_remembering(
        self: &Arc<Self>,
        token: &str,
        header: &[u8],
        state: &Arc<State>,
        client_id: &str,
        now: UnixTime,
        remembered: &Remembered,
    ) -> Result<Principal, Refusal> {
        let (entry, expires_at) = self.check(token, state, now)?;
        self.note_use(entry, client_id, now);
        remembered.keep(Memo {
            index: Arc::downgrade(self),
            state: Arc::downgrade(state),
            header: Zeroizing::new(header.to_vec()),
            entry: Arc::clone(entry),
            expires_at,
        });
        Ok(principal(entry, expires_at))
    }

    /// The answer [`Self::verify_remembering`] gave for this very `header` on this
    /// connection, if this index and `state` are still the ones it was verified
    /// against (any change to credentials, accounts or the policy makes new ones);
    /// the session's expiry is checked again. `None`: verify in full.
    pub fn recall(
        self: &Arc<Self>,
        remembered: &Remembered,
        header: &[u8],
        state: &Arc<State>,
        client_id: &str,
        now: UnixTime,
    ) -> Option<Result<Principal, Refusal>> {
        // Another stream of the same HTTP/2 connection holding it: verify in full
        // rather than wait.
        let memo = remembered.0.try_lock().ok()?;
        let memo = memo.as_ref()?;
        let current = std::ptr::eq(memo.index.as_ptr(), Arc::as_ptr(self))
            && std::ptr::eq(memo.state.as_ptr(), Arc::as_ptr(state));
        if !current || !same_secret(&memo.header, header) {
            return None;
        }
        if memo.expires_at.is_some_and(|t| now >= t) {
            return Some(Err(Refusal::Expired));
        }
        self.note_use(&memo.entry, client_id, now);
        Some(Ok(principal(&memo.entry, memo.expires_at)))
    }

    /// The entry `token` names, checked against `state` at `now`, and when it expires.
    fn check(&self, token: &str, state: &State, now: UnixTime) -> Result<(&Arc<Entry>, Option<UnixTime>), Refusal> {
        let signer = self.signer.as_ref().ok_or(Refusal::Invalid)?;
        let parsed = parse(token).ok_or(Refusal::Invalid)?;
        let entry = self.entries.get(&parsed.id).ok_or(Refusal::Invalid)?;
        let expected = signer.verifier(&parsed.id, &parsed.secret);
        let matches: bool = expected.ct_eq(&entry.verifier).into();
        if !matches || entry.kind != parsed.kind {
            return Err(Refusal::Invalid);
        }
        if !state.account(entry.account).is_some_and(|a| a.enabled) {
            return Err(Refusal::Invalid);
        }
        let expires_at = match entry.kind {
            CredentialKind::Session => state.policy.session_expiry(entry.created_at),
            _ => None,
        };
        if expires_at.is_some_and(|t| now >= t) {
            return Err(Refusal::Expired);
        }
        Ok((entry, expires_at))
    }

    fn note_use(&self, entry: &Entry, client_id: &str, now: UnixTime) {
        // Read before writing: within a second (and from the same client) nothing
        // changes, and a plain load keeps the cache line shared between cores.
        if entry.last_used.load(Ordering::Relaxed) < now && entry.last_used.fetch_max(now, Ordering::Relaxed) < now {
            self.dirty.store(true, Ordering::Relaxed);
        }
        if entry.kind == CredentialKind::ApiKey {
            let h = client_hash(client_id);
            if entry.last_client_hash.load(Ordering::Relaxed) != h
                && entry.last_client_hash.swap(h, Ordering::Relaxed) != h
            {
                if let Ok(mut last) = entry.last_client.lock() {
                    *last = Some(client_id.to_string());
                }
                self.dirty.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Whether the credential with this public id is (still) in the index.
    pub fn contains(&self, id: &str) -> bool {
        decode_id(id).is_some_and(|id| self.entries.contains_key(&id))
    }

    /// Whether last-use data changed since the last [`Self::flush_usage`].
    pub fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Relaxed)
    }

    /// Copy in-memory last-use data into `state` (before a write).
    pub fn flush_usage(&self, state: &mut State) {
        self.dirty.store(false, Ordering::Relaxed);
        self.overlay_usage(state);
    }

    /// Copy in-memory last-use data into a copy of the state (for listings), leaving
    /// the pending-write flag alone.
    pub fn overlay_usage(&self, state: &mut State) {
        for entry in self.entries.values() {
            let used = entry.last_used.load(Ordering::Relaxed);
            let used = (used > 0).then_some(used);
            match entry.kind {
                CredentialKind::Session => {
                    if let Some(rec) = state.sessions.get_mut(&*entry.id)
                        && rec.last_used_at < used
                    {
                        rec.last_used_at = used;
                    }
                }
                CredentialKind::ApiKey => {
                    if let Some(rec) = state.api_keys.get_mut(&*entry.id) {
                        if rec.last_used_at < used {
                            rec.last_used_at = used;
                        }
                        if let Ok(last) = entry.last_client.lock()
                            && last.is_some()
                            && rec.last_client_id != *last
                        {
                            rec.last_client_id.clone_from(&last);
                        }
                    }
                }
                // Never in the index: these credentials are not stored.
                CredentialKind::Legacy | CredentialKind::VendorExample => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::state::{AccountRecord, ApiKeyRecord, STATE_VERSION, SessionRecord};

    fn state() -> State {
        let accounts = Role::ALL
            .into_iter()
            .map(|r| {
                (
                    r,
                    AccountRecord {
                        enabled: true,
                        password_hash: None,
                        password_is_enrollment_code: false,
                        password_is_empty: false,
                        changed_at: 0,
                    },
                )
            })
            .collect();
        State {
            version: STATE_VERSION,
            generation: 1,
            enrollment_code: "ABC-DEF-GHJ".into(),
            signing_key: new_signing_key().unwrap(),
            accounts,
            sessions: Default::default(),
            api_keys: Default::default(),
            policy: Default::default(),
            device: Default::default(),
        }
    }

    fn add_session(s: &mut State, account: Role) -> Minted {
        let m = Signer::for_state(s).unwrap().mint_session().unwrap();
        s.sessions.insert(
            m.id.clone(),
            SessionRecord {
                account,
                verifier: m.verifier.clone(),
                created_at: 1000,
                last_used_at: None,
                client_id: "c".into(),
                client_version: "1".into(),
                remote_addr: "127.0.0.1".into(),
                via_enrollment_code: false,
            },
        );
        m
    }

    fn add_key(s: &mut State, name: &str, account: Role) -> Minted {
        let k = Signer::for_state(s).unwrap().mint_api_key().unwrap();
        let record = ApiKeyRecord {
            name: name.into(),
            account,
            verifier: k.verifier.clone(),
            created_at: 1000,
            last_used_at: None,
            last_client_id: None,
        };
        s.api_keys.insert(k.id.clone(), record);
        k
    }

    #[test]
    fn minted_tokens_have_the_documented_shape() {
        let s = state();
        let signer = Signer::for_state(&s).unwrap();
        let session = signer.mint_session().unwrap();
        assert_eq!(session.token.len(), 64);
        assert!(
            session
                .token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let key = signer.mint_api_key().unwrap();
        assert!(key.token.starts_with("rgk_"));
        assert_eq!(key.id.len(), 22);
        assert!(!key.token.contains(&key.verifier));
    }

    #[test]
    fn verify_accepts_the_minted_token_and_nothing_else() {
        let mut s = state();
        let m = add_session(&mut s, Role::General);
        let index = CredentialIndex::build(&s, &CredentialIndex::empty());
        let p = index.verify(&m.token, &s, "c", 2000).unwrap();
        assert_eq!(p.account, Role::General);
        assert_eq!(&*p.id, m.id.as_str());

        // Flip one character of the secret part.
        let mut bad = m.token.to_string();
        let last = bad.pop().unwrap();
        bad.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(index.verify(&bad, &s, "c", 2000).unwrap_err(), Refusal::Invalid);
        for garbage in [
            "",
            "x",
            &"A".repeat(64),
            &format!("rgk_{}", &m.token[..]),
            &m.token[1..],
        ] {
            assert_eq!(
                index.verify(garbage, &s, "c", 2000).unwrap_err(),
                Refusal::Invalid,
                "{garbage}"
            );
        }
    }

    /// What `recall` answers for `token` sent as `Nureva <token>`.
    fn recall(
        index: &Arc<CredentialIndex>,
        r: &Remembered,
        token: &str,
        s: &Arc<State>,
        now: UnixTime,
    ) -> Option<Result<Role, Refusal>> {
        let header = format!("Nureva {token}");
        index
            .recall(r, header.as_bytes(), s, "c", now)
            .map(|v| v.map(|p| p.account))
    }

    fn remember(index: &Arc<CredentialIndex>, r: &Remembered, token: &str, s: &Arc<State>, now: UnixTime) {
        let header = format!("Nureva {token}");
        index
            .verify_remembering(token, header.as_bytes(), s, "c", now, r)
            .unwrap();
    }

    #[test]
    fn a_connection_remembers_only_the_header_it_had_verified() {
        let mut s = state();
        let m = add_session(&mut s, Role::General);
        let k = add_key(&mut s, "k", Role::Monitor);
        let s = Arc::new(s);
        let index = Arc::new(CredentialIndex::build(&s, &CredentialIndex::empty()));
        let r = Remembered::default();
        assert_eq!(recall(&index, &r, &m.token, &s, 2000), None, "nothing verified yet");

        // A refused credential is not remembered.
        let mut bad = m.token.to_string();
        bad.replace_range(63.., if bad.ends_with('A') { "B" } else { "A" });
        let header = format!("Nureva {bad}");
        assert!(
            index
                .verify_remembering(&bad, header.as_bytes(), &s, "c", 2000, &r)
                .is_err()
        );
        assert_eq!(recall(&index, &r, &bad, &s, 2000), None);

        remember(&index, &r, &m.token, &s, 2000);
        assert_eq!(recall(&index, &r, &m.token, &s, 2001), Some(Ok(Role::General)));
        assert_eq!(recall(&index, &r, &bad, &s, 2001), None, "one character differs");
        assert_eq!(recall(&index, &r, &k.token, &s, 2001), None, "another credential");
        // The last one verified is the one remembered.
        remember(&index, &r, &k.token, &s, 2002);
        assert_eq!(recall(&index, &r, &k.token, &s, 2003), Some(Ok(Role::Monitor)));
        assert_eq!(recall(&index, &r, &m.token, &s, 2003), None);
    }

    #[test]
    fn a_remembered_credential_lapses_with_any_change_and_with_its_session() {
        let mut s = state();
        s.policy.session_lifetime_secs = Some(3600);
        let m = add_session(&mut s, Role::General);
        let s = Arc::new(s);
        let index = Arc::new(CredentialIndex::build(&s, &CredentialIndex::empty()));
        let r = Remembered::default();
        remember(&index, &r, &m.token, &s, 2000);
        assert_eq!(recall(&index, &r, &m.token, &s, 4599), Some(Ok(Role::General)));
        assert_eq!(recall(&index, &r, &m.token, &s, 4600), Some(Err(Refusal::Expired)));

        // The same content in a new state (any write), or a new index: verify again.
        let next = Arc::new(State::clone(&s));
        assert_eq!(recall(&index, &r, &m.token, &next, 2001), None);
        let rebuilt = Arc::new(CredentialIndex::build(&s, &index));
        assert_eq!(recall(&rebuilt, &r, &m.token, &s, 2001), None);

        // A revoked session fails the full verification that follows.
        let mut revoked = State::clone(&s);
        revoked.sessions.clear();
        let revoked = Arc::new(revoked);
        let index = Arc::new(CredentialIndex::build(&revoked, &index));
        assert_eq!(recall(&index, &r, &m.token, &revoked, 2001), None);
        assert_eq!(
            index.verify(&m.token, &revoked, "c", 2001).unwrap_err(),
            Refusal::Invalid
        );
    }

    #[test]
    fn same_secret_compares_every_byte() {
        assert!(same_secret(b"", b""));
        assert!(same_secret(b"Nureva abc", b"Nureva abc"));
        assert!(!same_secret(b"Nureva abc", b"Nureva abd"));
        assert!(!same_secret(b"Nureva abc", b"nureva abc"));
        assert!(!same_secret(b"Nureva abc", b"Nureva ab"));
        // Every position of secrets that fill whole words, part of one, or both: a
        // difference in any one bit of any byte is seen.
        for len in [1, 7, 8, 9, 16, 77] {
            let a: Vec<u8> = (0..len).map(|i| (i * 37 % 251) as u8).collect();
            assert!(same_secret(&a, &a.clone()), "{len}");
            for at in 0..len {
                for bit in 0..8 {
                    let mut b = a.clone();
                    b[at] ^= 1 << bit;
                    assert!(!same_secret(&a, &b), "len {len}, byte {at}, bit {bit}");
                }
            }
        }
    }

    #[test]
    fn disabled_account_revoked_session_and_new_key_refuse() {
        let mut s = state();
        let m = add_session(&mut s, Role::Integrator);
        let index = CredentialIndex::build(&s, &CredentialIndex::empty());
        s.accounts.get_mut(&Role::Integrator).unwrap().enabled = false;
        assert_eq!(index.verify(&m.token, &s, "c", 2000).unwrap_err(), Refusal::Invalid);

        let mut s2 = s.clone();
        s2.accounts.get_mut(&Role::Integrator).unwrap().enabled = true;
        s2.sessions.clear();
        let index2 = CredentialIndex::build(&s2, &index);
        assert_eq!(index2.verify(&m.token, &s2, "c", 2000).unwrap_err(), Refusal::Invalid);

        let mut s3 = s2.clone();
        let m3 = add_session(&mut s3, Role::Integrator);
        s3.signing_key = new_signing_key().unwrap();
        let index3 = CredentialIndex::build(&s3, &index2);
        assert_eq!(index3.verify(&m3.token, &s3, "c", 2000).unwrap_err(), Refusal::Invalid);
    }

    #[test]
    fn lifetime_policy_expires_sessions_not_keys() {
        let mut s = state();
        let m = add_session(&mut s, Role::General);
        let k = add_key(&mut s, "crestron", Role::General);
        s.policy.session_lifetime_secs = Some(60);
        let index = CredentialIndex::build(&s, &CredentialIndex::empty());
        assert_eq!(index.verify(&m.token, &s, "c", 1059).unwrap().expires_at, Some(1060));
        assert_eq!(index.verify(&m.token, &s, "c", 1060).unwrap_err(), Refusal::Expired);
        assert_eq!(index.verify(&k.token, &s, "c", 999_999).unwrap().expires_at, None);
    }

    #[test]
    fn usage_is_flushed_into_the_state_and_survives_rebuilds() {
        let mut s = state();
        let m = add_session(&mut s, Role::General);
        let k = add_key(&mut s, "q-sys", Role::Admin);
        let index = CredentialIndex::build(&s, &CredentialIndex::empty());
        assert!(!index.is_dirty());
        index.verify(&m.token, &s, "c", 5000).unwrap();
        index.verify(&k.token, &s, "Q-SYS Core", 6000).unwrap();
        assert!(index.is_dirty());
        let rebuilt = CredentialIndex::build(&s, &index);
        rebuilt.flush_usage(&mut s);
        assert!(!rebuilt.is_dirty());
        assert_eq!(s.sessions[&m.id].last_used_at, Some(5000));
        assert_eq!(s.api_keys[&k.id].last_used_at, Some(6000));
        assert_eq!(s.api_keys[&k.id].last_client_id.as_deref(), Some("Q-SYS Core"));
    }

    #[test]
    fn signing_keys_round_trip() {
        let k = new_signing_key().unwrap();
        assert!(decode_signing_key(&k).is_some());
        assert!(decode_signing_key("c2hvcnQ=").is_none());
        assert!(decode_signing_key("!!").is_none());
    }
}
