//! The operations layer, shared by the admin API and the technician's console:
//! views of accounts, sessions and keys (never a secret or a hash), the rules of
//! every state change (admin cannot be disabled, key names and the key cap, policy
//! validation, which password hash a login is checked against), and the changes
//! themselves, each returning its audit event. Written once against `&mut State`,
//! so the API and the console only parse input and render output and cannot
//! behave differently.

use serde::Serialize;
use serde_json::Value;

use crate::auth::accounts::Role;
use crate::auth::audit::{Audited, Event};
use crate::auth::credentials::{Minted, Signer};
use crate::auth::passwords::{Hasher, Password};
use crate::auth::policy::Policy;
use crate::auth::state::{AccountRecord, ApiKeyRecord, State};
use crate::auth::store::StoreError;
use crate::config::Config;
use crate::error::{ApiError, ErrorEntry};
use crate::util::{UnixTime, rfc3339};

/// Longest API key name, in characters.
pub(crate) const KEY_NAME_MAX: usize = 64;

/// One account as listed (no hash).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccountView {
    /// The account.
    pub account: Role,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Whether a password is set (an empty password counts as set).
    pub password_set: bool,
    /// Whether the password is the empty string.
    pub password_empty: bool,
    /// Whether the (admin) password is still the enrollment code.
    pub password_is_enrollment_code: bool,
    /// Last change of password or enabled state.
    pub changed_at: String,
}

/// One session as listed (no credential, no verifier).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionView {
    /// Public session id.
    pub id: String,
    /// The account.
    pub account: Role,
    /// `Nureva-Client-Id` at login.
    pub client_id: String,
    /// `Nureva-Client-Version` at login.
    pub client_version: String,
    /// Client address at login.
    pub remote_address: String,
    /// Creation time.
    pub created_at: String,
    /// Last use (written to the state at most every few minutes).
    pub last_used_at: Option<String>,
    /// Expiry under the current policy.
    pub expires_at: Option<String>,
    /// Logged in with the enrollment code.
    pub via_enrollment_code: bool,
}

/// One API key as listed (never the key).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyView {
    /// Public key id.
    pub id: String,
    /// Name given at creation.
    pub name: String,
    /// The account level it acts as.
    pub account: Role,
    /// Creation time.
    pub created_at: String,
    /// Last use.
    pub last_used_at: Option<String>,
    /// `Nureva-Client-Id` of the last use.
    pub last_client_id: Option<String>,
}

/// The view of one account.
pub(crate) fn account_view(state: &State, account: Role) -> Option<AccountView> {
    state.account(account).map(|a| AccountView {
        account,
        enabled: a.enabled,
        password_set: a.password_hash.is_some(),
        password_empty: a.password_hash.is_some() && a.password_is_empty,
        password_is_enrollment_code: a.password_is_enrollment_code,
        changed_at: rfc3339(a.changed_at),
    })
}

/// All accounts, lowest role first.
pub(crate) fn account_views(state: &State) -> Vec<AccountView> {
    Role::ALL.into_iter().filter_map(|r| account_view(state, r)).collect()
}

/// All sessions, oldest first.
pub(crate) fn session_views(state: &State) -> Vec<SessionView> {
    let mut v: Vec<SessionView> = state
        .sessions
        .iter()
        .map(|(id, s)| SessionView {
            id: id.clone(),
            account: s.account,
            client_id: s.client_id.clone(),
            client_version: s.client_version.clone(),
            remote_address: s.remote_addr.clone(),
            created_at: rfc3339(s.created_at),
            last_used_at: s.last_used_at.map(rfc3339),
            expires_at: state.policy.session_expiry(s.created_at).map(rfc3339),
            via_enrollment_code: s.via_enrollment_code,
        })
        .collect();
    v.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    v
}

fn key_view(id: &str, k: &ApiKeyRecord) -> KeyView {
    KeyView {
        id: id.to_string(),
        name: k.name.clone(),
        account: k.account,
        created_at: rfc3339(k.created_at),
        last_used_at: k.last_used_at.map(rfc3339),
        last_client_id: k.last_client_id.clone(),
    }
}

/// All API keys, oldest first.
pub(crate) fn key_views(state: &State) -> Vec<KeyView> {
    let mut v: Vec<KeyView> = state.api_keys.iter().map(|(id, k)| key_view(id, k)).collect();
    v.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    v
}

/// The record of `account` when a login for it can succeed: enabled, with a
/// password, and not an empty password the policy no longer allows.
pub(crate) fn usable_account(state: &State, account: Role) -> Option<&AccountRecord> {
    let record = state.account(account)?;
    let empty_refused =
        record.password_is_empty && !(account == Role::General && state.policy.allow_empty_general_password);
    (record.enabled && record.password_hash.is_some() && !empty_refused).then_some(record)
}

/// The hash a login for `account` is checked against: none when the account is
/// disabled, has no password, or has an empty password the policy no longer allows.
pub(crate) fn usable_password_hash(state: &State, account: Role) -> Option<String> {
    usable_account(state, account).and_then(|record| record.password_hash.clone())
}

/// What the user typed, as it is hashed: the enrollment code is normalised (case,
/// dashes) while the admin password is still the code.
pub(crate) fn as_typed(state: &State, account: Role, password: Password) -> Password {
    let via_code = account == Role::Admin && state.account(account).is_some_and(|a| a.password_is_enrollment_code);
    match via_code
        .then(|| crate::auth::enrollment::normalize(password.expose()))
        .flatten()
    {
        Some(bare) => Password::new(bare.as_str()),
        None => password,
    }
}

/// Enable or disable an account (admin cannot be disabled). Disabling ends every
/// session of the account at once; its API keys are refused while it is disabled.
pub(crate) fn set_enabled(
    state: &mut State,
    account: Role,
    enabled: bool,
    now: UnixTime,
) -> Result<Audited<usize>, ApiError> {
    check_enabled_change(account, enabled)?;
    Ok(Audited {
        value: state.set_enabled(account, enabled, now),
        event: Event::new(
            if enabled { "account_enable" } else { "account_disable" },
            Some(account.as_str()),
        ),
    })
}

/// Set an account's password (already checked and hashed; `empty` when it is the
/// empty string). Every session of the account ends; API keys stay (SPEC §7).
pub(crate) fn set_password(
    state: &mut State,
    account: Role,
    hash: String,
    empty: bool,
    now: UnixTime,
) -> Audited<usize> {
    Audited {
        value: state.set_password(account, Some(hash), empty, now),
        event: Event::new("password_change", Some(account.as_str())),
    }
}

/// The rule [`set_enabled`] enforces, for callers that refuse before doing
/// anything costly: admin cannot be disabled.
pub(crate) fn check_enabled_change(account: Role, enabled: bool) -> Result<(), ApiError> {
    if !enabled && !account.can_be_disabled() {
        return Err(ApiError::conflict(
            "admin_cannot_be_disabled",
            "the admin account cannot be disabled",
        ));
    }
    Ok(())
}

/// Check an API key name: 1–64 characters, no control characters, not in use.
fn check_key_name(state: &State, name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > KEY_NAME_MAX || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_value",
            format!("`name` must be 1 to {KEY_NAME_MAX} characters without control characters"),
        ));
    }
    if state.api_keys.values().any(|k| k.name.eq_ignore_ascii_case(name)) {
        return Err(ApiError::conflict("key_name_taken", "an API key with this name exists"));
    }
    Ok(name.to_string())
}

/// Create an API key; the returned `Minted::token` is shown once and never stored.
pub fn create_key(
    state: &mut State,
    name: &str,
    account: Role,
    max_keys: usize,
    now: UnixTime,
) -> Result<Audited<(Minted, KeyView)>, ApiError> {
    let name = check_key_name(state, name)?;
    if state.api_keys.len() >= max_keys {
        return Err(ApiError::conflict(
            "too_many_keys",
            format!("the device holds at most {max_keys} API keys; revoke one first"),
        ));
    }
    let signer = Signer::for_state(state).ok_or_else(ApiError::internal)?;
    let minted = signer.mint_api_key().map_err(|_| ApiError::internal())?;
    let record = ApiKeyRecord {
        name,
        account,
        verifier: minted.verifier.clone(),
        created_at: now,
        last_used_at: None,
        last_client_id: None,
    };
    let view = key_view(&minted.id, &record);
    state.api_keys.insert(minted.id.clone(), record);
    let event = Event::new("key_create", Some(&view.id));
    Ok(Audited {
        value: (minted, view),
        event,
    })
}

/// The answer to a key creation, the same from the API and the console: the key's
/// listing plus the key itself, shown this once.
pub(crate) fn key_created_document(minted: &Minted, view: &KeyView) -> serde_json::Value {
    serde_json::json!({
        "id": view.id,
        "key": minted.token.as_str(),
        "name": view.name,
        "account": view.account,
        "createdAt": view.created_at,
    })
}

/// Revoke an API key by id.
pub(crate) fn revoke_key(state: &mut State, id: &str) -> Result<Audited<KeyView>, ApiError> {
    let key = state
        .api_keys
        .remove(id)
        .ok_or_else(|| ApiError::no_such("key_not_found", "no API key has this id"))?;
    Ok(Audited {
        value: key_view(id, &key),
        event: Event::new("key_revoke", Some(id)),
    })
}

/// Revoke a session by id; the value is the session's account.
pub(crate) fn revoke_session(state: &mut State, id: &str) -> Result<Audited<Role>, ApiError> {
    let session = state
        .sessions
        .remove(id)
        .ok_or_else(|| ApiError::no_such("session_not_found", "no session has this id"))?;
    Ok(Audited {
        value: session.account,
        event: Event::new("session_revoke", Some(id)),
    })
}

/// Apply a PATCH of the policy: only known fields, each of the right type; the
/// result must validate. Every problem is reported, one entry per field.
pub fn patch_policy(current: &Policy, body: &Value) -> Result<Policy, ApiError> {
    let (merged, mut errors) = crate::error::merge_top_level(current, body, "policy")?;
    // Each named field must keep its type, so every problem is named.
    let defaults = serde_json::to_value(current).map_err(|_| ApiError::internal())?;
    for (name, value) in body.as_object().into_iter().flatten() {
        let (ok, what) = match (name.as_str(), defaults.get(name)) {
            (_, None) => continue, // reported as unknown
            ("sessionLifetimeSecs", _) => (
                value.is_null() || value.as_u64().is_some(),
                "a number of seconds or null",
            ),
            (_, Some(Value::Bool(_))) => (value.is_boolean(), "a boolean"),
            _ => (
                value.as_u64().is_some_and(|n| n <= u64::from(u32::MAX)),
                "a non-negative integer",
            ),
        };
        if !ok {
            errors.push(ErrorEntry {
                code: "invalid_type",
                message: format!("`{name}` must be {what}"),
            });
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::many(http::StatusCode::BAD_REQUEST, errors));
    }
    let policy: Policy = serde_json::from_value(Value::Object(merged)).map_err(|_| ApiError::internal())?;
    policy.validate().map_err(|violations| {
        let entries = violations
            .into_iter()
            .map(|v| ErrorEntry {
                code: "out_of_range",
                message: format!("`{}` {}", v.field, v.reason),
            })
            .collect();
        ApiError::many(http::StatusCode::BAD_REQUEST, entries)
    })?;
    Ok(policy)
}

/// Apply a policy PATCH ([`patch_policy`]) and put the result in force. A lowered
/// session cap ends the oldest sessions at once.
pub(crate) fn change_policy(state: &mut State, body: &Value) -> Result<Audited<Policy>, ApiError> {
    let policy = patch_policy(&state.policy, body)?;
    let cap = policy.max_sessions_per_account as usize;
    state.policy = policy;
    for role in Role::ALL {
        state.trim_sessions_of(role, cap);
    }
    Ok(Audited {
        value: state.policy.clone(),
        event: Event::new("policy_change", Some("security_policy")),
    })
}

/// Enrollment reset (technician): the new code, the admin password set to it
/// (`admin`, hashed outside the lock), every admin session revoked. Other accounts,
/// API keys and settings are untouched.
pub(crate) fn reset_enrollment(state: &mut State, code: String, admin: AccountRecord) -> Event {
    crate::auth::enrollment::apply_enrollment_reset(state, code, admin);
    Event::new("enrollment_reset", Some("admin"))
}

/// A new factory state for this configuration: factory (or fresh) enrollment code,
/// new signing key, default accounts, the config's policy, default settings.
pub(crate) fn factory_state(config: &Config, hasher: &Hasher) -> Result<State, StoreError> {
    let code = crate::auth::enrollment::fresh_code(config.enrollment_code_file.as_deref())
        .map_err(|e| StoreError::Init(e.to_string()))?;
    crate::auth::enrollment::factory_state(&code, &config.policy, hasher, crate::util::now())
        .map_err(|e| StoreError::Init(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state() -> State {
        let hasher = Hasher::new(
            crate::config::HashParams {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            1,
            0,
        )
        .unwrap();
        crate::auth::enrollment::factory_state("ABC-DEF-GHJ", &Policy::default(), &hasher, 1).unwrap()
    }

    #[test]
    fn views_never_carry_secrets() {
        let mut s = state();
        let (minted, _) = create_key(&mut s, "Crestron room 4", Role::General, 10, 5)
            .unwrap()
            .value;
        let text = serde_json::to_string(&(account_views(&s), key_views(&s), session_views(&s))).unwrap();
        assert!(!text.contains("argon2"));
        assert!(!text.contains(minted.token.as_str()));
        assert!(!text.contains(&minted.verifier));
        assert!(!text.contains("ABC-DEF-GHJ"));
        let general = &account_views(&s)[1];
        assert!(general.password_set && general.password_empty && general.enabled);
        let admin = &account_views(&s)[3];
        assert!(admin.password_is_enrollment_code && !admin.password_empty);
    }

    #[test]
    fn keys_are_named_unique_capped_and_revocable() {
        let mut s = state();
        let (m, v) = create_key(&mut s, " Q-SYS ", Role::Integrator, 2, 5).unwrap().value;
        assert_eq!(v.name, "Q-SYS");
        assert_eq!(
            create_key(&mut s, "q-sys", Role::General, 2, 5).unwrap_err().code(),
            "key_name_taken"
        );
        assert_eq!(
            create_key(&mut s, "", Role::General, 2, 5).unwrap_err().code(),
            "invalid_value"
        );
        assert_eq!(
            create_key(&mut s, "a\nb", Role::General, 2, 5).unwrap_err().code(),
            "invalid_value"
        );
        create_key(&mut s, "Extron", Role::General, 2, 5).unwrap();
        assert_eq!(
            create_key(&mut s, "third", Role::General, 2, 5).unwrap_err().code(),
            "too_many_keys"
        );
        assert_eq!(revoke_key(&mut s, &m.id).unwrap().value.name, "Q-SYS");
        assert_eq!(revoke_key(&mut s, &m.id).unwrap_err().code(), "key_not_found");
    }

    #[test]
    fn admin_cannot_be_disabled() {
        let mut s = state();
        assert_eq!(
            set_enabled(&mut s, Role::Admin, false, 2).unwrap_err().code(),
            "admin_cannot_be_disabled"
        );
        assert!(set_enabled(&mut s, Role::Integrator, true, 2).is_ok());
        assert!(s.account(Role::Integrator).unwrap().enabled);
    }

    #[test]
    fn policy_patches_are_typed_and_validated() {
        let p = Policy::default();
        let ok = patch_policy(
            &p,
            &json!({"sessionLifetimeSecs": 3600, "legacyBasicCredentials": true}),
        )
        .unwrap();
        assert_eq!(ok.session_lifetime_secs, Some(3600));
        assert!(ok.legacy_basic_credentials);
        assert_eq!(
            patch_policy(&ok, &json!({"sessionLifetimeSecs": null}))
                .unwrap()
                .session_lifetime_secs,
            None
        );
        let codes = |v: Value| -> Vec<&'static str> {
            patch_policy(&p, &v)
                .unwrap_err()
                .entries()
                .iter()
                .map(|e| e.code)
                .collect()
        };
        assert_eq!(codes(json!({"bogus": 1})), ["unknown_field"]);
        assert_eq!(codes(json!({"maxSessionsPerAccount": "5"})), ["invalid_type"]);
        assert_eq!(codes(json!({"maxSessionsPerAccount": -5})), ["invalid_type"]);
        assert_eq!(codes(json!({"requireAdminPasswordChange": 1})), ["invalid_type"]);
        assert_eq!(codes(json!({"loginFailuresPerHour": 1000})), ["out_of_range"]);
        assert_eq!(
            codes(json!({"passwordMinLength": 50, "passwordMaxLength": 20})),
            ["out_of_range"]
        );
        assert_eq!(codes(json!([])), ["invalid_body"]);
    }

    #[test]
    fn a_lower_session_cap_ends_the_oldest_sessions() {
        let mut s = state();
        for i in 0..5u64 {
            s.sessions.insert(
                format!("s{i}"),
                crate::auth::state::SessionRecord {
                    account: Role::General,
                    verifier: "00".repeat(32),
                    created_at: 100 + i,
                    last_used_at: None,
                    client_id: "c".into(),
                    client_version: "1".into(),
                    remote_addr: "x".into(),
                    via_enrollment_code: false,
                },
            );
        }
        change_policy(&mut s, &json!({"maxSessionsPerAccount": 2})).unwrap();
        let left: Vec<_> = s.sessions.keys().cloned().collect();
        assert_eq!(left, ["s3", "s4"]);
    }

    fn session_from(remote: &str, created_at: u64) -> crate::auth::state::SessionRecord {
        crate::auth::state::SessionRecord {
            account: Role::General,
            verifier: "00".repeat(32),
            created_at,
            last_used_at: None,
            client_id: "c".into(),
            client_version: "1".into(),
            remote_addr: remote.into(),
            via_enrollment_code: false,
        }
    }

    #[test]
    fn a_login_at_the_cap_replaces_its_own_session_or_an_unused_one_never_one_in_use() {
        const IDLE: u64 = 3600;
        let mut s = state();
        let mut integration = session_from("10.0.0.2", 100);
        integration.last_used_at = Some(10_000);
        s.sessions.insert("integration".into(), integration);
        s.sessions.insert("stale".into(), session_from("10.0.0.3", 50));
        s.sessions.insert("other".into(), session_from("10.0.0.4", 9_000));
        // At the cap, a stranger may take only the place of the session unused for an hour.
        assert_eq!(
            s.make_room_for_session(Role::General, "10.0.1.1", 3, 10_010, IDLE),
            Ok(())
        );
        assert!(!s.sessions.contains_key("stale") && s.sessions.len() == 2);
        s.sessions.insert("stranger".into(), session_from("10.0.1.1", 10_010));
        // Then every session is in use: the next stranger waits, and nothing ends.
        let wait = s.make_room_for_session(Role::General, "10.0.1.2", 3, 10_020, IDLE);
        assert_eq!(
            wait,
            Err(9_000 + IDLE - 10_020),
            "until `other` has been unused for an hour"
        );
        assert_eq!(s.sessions.len(), 3);
        // A caller holding a session replaces its own oldest.
        assert_eq!(
            s.make_room_for_session(Role::General, "10.0.1.1", 3, 10_030, IDLE),
            Ok(())
        );
        assert!(!s.sessions.contains_key("stranger") && s.sessions.contains_key("integration"));
        // Other accounts do not count.
        let mut admin = session_from("10.0.0.9", 1);
        admin.account = Role::Admin;
        s.sessions.insert("admin".into(), admin);
        assert_eq!(
            s.make_room_for_session(Role::General, "10.0.1.9", 3, 10_040, IDLE),
            Ok(())
        );
        assert_eq!(s.sessions.len(), 3, "two general sessions leave room for one more");
    }
}
