//! The persisted state document: accounts, enrollment code, credential signing key,
//! sessions, API keys, policy and device settings.
//!
//! This is plain data. [`crate::auth::store`] owns reading and writing it; the state file
//! is mode 0600 and holds no usable credential: sessions and keys are stored as
//! HMAC verifiers, passwords as argon2id PHC strings. `Debug` is written by hand so
//! that the enrollment code, signing key and hashes never reach a log line.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::auth::accounts::Role;
use crate::auth::policy::Policy;
use crate::device::DeviceSettings;
use crate::device::audio::AudioSettings;
use crate::device::room::RoomLayout;
use crate::util::UnixTime;

/// Version of the document layout.
pub(crate) const STATE_VERSION: u32 = 1;

/// The whole persisted state.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StateFile", into = "StateFile")]
pub struct State {
    /// Layout version (`STATE_VERSION`).
    pub version: u32,
    /// Incremented by every write.
    pub generation: u64,
    /// The enrollment code, `XXX-XXX-XXX`.
    pub enrollment_code: String,
    /// Base64 of the 32-byte HMAC key that credential verifiers are made with.
    pub signing_key: String,
    /// The four accounts.
    pub accounts: BTreeMap<Role, AccountRecord>,
    /// Sessions by id.
    pub sessions: BTreeMap<String, SessionRecord>,
    /// API keys by id.
    pub api_keys: BTreeMap<String, ApiKeyRecord>,
    /// The live security policy.
    pub policy: Policy,
    /// The reference device's settings.
    pub device: DeviceSettings,
}

/// The state file's layout: the device's settings sit at its top level, as they
/// did before the device had a folder of its own. Spelled out rather than
/// `#[serde(flatten)]`, whose buffering code cost 18 KiB of binary.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StateFile {
    version: u32,
    generation: u64,
    enrollment_code: String,
    signing_key: String,
    accounts: BTreeMap<Role, AccountRecord>,
    #[serde(default)]
    sessions: BTreeMap<String, SessionRecord>,
    #[serde(default)]
    api_keys: BTreeMap<String, ApiKeyRecord>,
    #[serde(default)]
    policy: Policy,
    #[serde(default)]
    audio: AudioSettings,
    #[serde(default)]
    room_layout: RoomLayout,
}

impl From<StateFile> for State {
    fn from(f: StateFile) -> State {
        State {
            version: f.version,
            generation: f.generation,
            enrollment_code: f.enrollment_code,
            signing_key: f.signing_key,
            accounts: f.accounts,
            sessions: f.sessions,
            api_keys: f.api_keys,
            policy: f.policy,
            device: DeviceSettings {
                audio: f.audio,
                room_layout: f.room_layout,
            },
        }
    }
}

impl From<State> for StateFile {
    fn from(s: State) -> StateFile {
        StateFile {
            version: s.version,
            generation: s.generation,
            enrollment_code: s.enrollment_code,
            signing_key: s.signing_key,
            accounts: s.accounts,
            sessions: s.sessions,
            api_keys: s.api_keys,
            policy: s.policy,
            audio: s.device.audio,
            room_layout: s.device.room_layout,
        }
    }
}

/// One account.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountRecord {
    /// Whether logins and credentials of this account are accepted.
    pub enabled: bool,
    /// argon2id PHC string; `None` when no password is set.
    pub password_hash: Option<String>,
    /// True while the admin password is still the enrollment code. The code is then
    /// normalised (case, dashes) before hashing at login.
    #[serde(default)]
    pub password_is_enrollment_code: bool,
    /// True when the password is the empty string (the general account's factory
    /// state). Lets the policy refuse it at once without hashing anything.
    #[serde(default)]
    pub password_is_empty: bool,
    /// When the password or enabled state last changed.
    pub changed_at: UnixTime,
}

/// One login session.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecord {
    /// The account it acts as.
    pub account: Role,
    /// Hex HMAC-SHA256 verifier of the credential (never the credential).
    pub verifier: String,
    /// Creation time.
    pub created_at: UnixTime,
    /// Last use, flushed from memory with the next write.
    #[serde(default)]
    pub last_used_at: Option<UnixTime>,
    /// `Nureva-Client-Id` at login.
    pub client_id: String,
    /// `Nureva-Client-Version` at login.
    pub client_version: String,
    /// Client address at login.
    pub remote_addr: String,
    /// Logged in with the enrollment code as admin password.
    #[serde(default)]
    pub via_enrollment_code: bool,
}

/// One per-integration API key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyRecord {
    /// Name given by the admin.
    pub name: String,
    /// The account level it acts as.
    pub account: Role,
    /// Hex HMAC-SHA256 verifier of the key (never the key).
    pub verifier: String,
    /// Creation time.
    pub created_at: UnixTime,
    /// Last use.
    #[serde(default)]
    pub last_used_at: Option<UnixTime>,
    /// `Nureva-Client-Id` of the last use.
    #[serde(default)]
    pub last_client_id: Option<String>,
}

impl State {
    /// The record of an account. Every state holds all four (checked at load).
    pub fn account(&self, role: Role) -> Option<&AccountRecord> {
        self.accounts.get(&role)
    }

    /// Set (or clear) an account's password; `empty` says whether the new password
    /// is the empty string. Every session of the account is revoked at once; API keys
    /// are not (SPEC §7). Returns how many sessions ended.
    pub fn set_password(&mut self, account: Role, password_hash: Option<String>, empty: bool, now: UnixTime) -> usize {
        if let Some(rec) = self.accounts.get_mut(&account) {
            rec.password_hash = password_hash;
            rec.password_is_enrollment_code = false;
            rec.password_is_empty = empty;
            rec.changed_at = now;
        }
        self.revoke_sessions_of(account)
    }

    /// Enable or disable an account. Disabling revokes every session of the account;
    /// its API keys stay but are refused while it is disabled.
    pub fn set_enabled(&mut self, account: Role, enabled: bool, now: UnixTime) -> usize {
        if let Some(rec) = self.accounts.get_mut(&account)
            && rec.enabled != enabled
        {
            rec.enabled = enabled;
            rec.changed_at = now;
        }
        if enabled { 0 } else { self.revoke_sessions_of(account) }
    }

    /// Keep at most `keep` sessions of an account, ending the oldest.
    pub fn trim_sessions_of(&mut self, account: Role, keep: usize) {
        let mut mine: Vec<(UnixTime, String)> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.account == account)
            .map(|(id, s)| (s.created_at, id.clone()))
            .collect();
        if mine.len() <= keep {
            return;
        }
        mine.sort();
        let excess = mine.len() - keep;
        for (_, id) in mine.into_iter().take(excess) {
            self.sessions.remove(&id);
        }
    }

    /// Make room for one more session of `account`, opened from `remote`, under
    /// `cap` sessions. What goes, in this order:
    /// 1. the oldest session `remote` itself opened (a controller logging in again
    ///    replaces its own);
    /// 2. the least recently used session of another address that has not been used
    ///    for `idle` (a controller replaced long ago);
    /// 3. nothing: `Err(seconds)` says when a session of another address will have
    ///    been unused for `idle` at the earliest, and the login must wait.
    ///
    /// So strangers' logins, from any number of addresses, never end a session that
    /// an integration is using. Ties are broken by session id, the same on every run.
    pub fn make_room_for_session(
        &mut self,
        account: Role,
        remote: &str,
        cap: usize,
        now: UnixTime,
        idle: u64,
    ) -> Result<(), u64> {
        loop {
            let mine = self.sessions.iter().filter(|(_, s)| s.account == account);
            if mine.clone().count() < cap.max(1) {
                return Ok(());
            }
            let (own, others): (Vec<_>, Vec<_>) = mine.partition(|(_, s)| s.remote_addr == remote);
            let last_use = |s: &SessionRecord| s.last_used_at.unwrap_or(s.created_at).max(s.created_at);
            let victim = match own.into_iter().min_by_key(|(id, s)| (s.created_at, *id)) {
                Some((id, _)) => id.clone(),
                None => {
                    let Some((id, s)) = others.into_iter().min_by_key(|(id, s)| (last_use(s), *id)) else {
                        return Ok(());
                    };
                    let evictable_at = last_use(s).saturating_add(idle);
                    if evictable_at > now {
                        return Err(evictable_at - now);
                    }
                    id.clone()
                }
            };
            self.sessions.remove(&victim);
        }
    }

    /// End every session of an account. Returns how many ended.
    pub fn revoke_sessions_of(&mut self, account: Role) -> usize {
        let before = self.sessions.len();
        self.sessions.retain(|_, s| s.account != account);
        before - self.sessions.len()
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("version", &self.version)
            .field("generation", &self.generation)
            .field("enrollment_code", &"<redacted>")
            .field("signing_key", &"<redacted>")
            .field("accounts", &self.accounts)
            .field("sessions", &self.sessions.len())
            .field("api_keys", &self.api_keys.len())
            .field("policy", &self.policy)
            .field("device", &self.device)
            .finish()
    }
}

impl fmt::Debug for AccountRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountRecord")
            .field("enabled", &self.enabled)
            .field("password_set", &self.password_hash.is_some())
            .field("password_is_enrollment_code", &self.password_is_enrollment_code)
            .field("password_is_empty", &self.password_is_empty)
            .field("changed_at", &self.changed_at)
            .finish()
    }
}

impl fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRecord")
            .field("account", &self.account)
            .field("created_at", &self.created_at)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ApiKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyRecord")
            .field("name", &self.name)
            .field("account", &self.account)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_keeps_the_device_settings_at_its_top_level() {
        let file = serde_json::json!({
            "version": 1, "generation": 3, "enrollmentCode": "ABC-DEF-GHJ", "signingKey": "k",
            "accounts": {}, "audio": {"speakerVolume": 7},
            "roomLayout": serde_json::to_value(RoomLayout::default()).unwrap(),
        });
        let mut state: State = serde_json::from_value(file).unwrap();
        assert_eq!(state.device.audio.speaker_volume, 7);
        state.device.audio.speaker_volume = 9;
        let written = serde_json::to_value(&state).unwrap();
        assert_eq!(written["audio"]["speakerVolume"], 9);
        assert!(written["roomLayout"].is_object());
        assert!(written.get("device").is_none());
        let back: State = serde_json::from_value(written).unwrap();
        assert!(back == state);
    }
}
