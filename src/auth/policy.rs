//! The security policy: session lifetime and cap, password rules, login throttle and
//! request rate, admin password-change requirement, legacy credential acceptance and
//! the vendor's example credential.
//!
//! The config's `[policy]` section gives the factory defaults; the live policy is part
//! of the persisted state, so an admin's changes survive restarts and a factory reset
//! brings the config's values back. One validator serves both paths.

use serde::{Deserialize, Serialize};

/// Upper bound for `max_sessions_per_account`: keeps the state document small.
pub(crate) const MAX_SESSIONS_CAP: u32 = 1000;
/// Upper bound for `password_max_length`.
pub(crate) const PASSWORD_LENGTH_CAP: u32 = 1024;
/// OWASP ASVS 2.2.1: at most 100 failed attempts per account per hour.
pub(crate) const LOGIN_FAILURES_CAP: u32 = 100;

/// The live security policy (persisted in the state document).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Policy {
    /// Session lifetime in seconds; `None` means sessions do not expire.
    pub session_lifetime_secs: Option<u64>,
    /// Sessions kept per account; at the cap a login replaces its own address's oldest
    /// (see `State::make_room_for_session`).
    pub max_sessions_per_account: u32,
    /// Minimum password length in characters for new passwords.
    pub password_min_length: u32,
    /// Maximum password length in characters for new passwords.
    pub password_max_length: u32,
    /// Whether the `general` account may have an empty password (the factory state).
    pub allow_empty_general_password: bool,
    /// When on, an admin credential obtained with the enrollment code may only be used
    /// to change the admin password.
    pub require_admin_password_change: bool,
    /// Accept `Nureva base64(account:password)` credentials (off by default).
    pub legacy_basic_credentials: bool,
    /// Accept the vendor's example credential, base64(`general:`), while the general
    /// account's password is empty (on by default; see `auth::vendor_example`).
    pub accept_vendor_example_credential: bool,
    /// Failed logins allowed per account per hour before 429.
    pub login_failures_per_hour: u32,
    /// Failed logins from one address before the growing delay starts.
    pub login_failures_before_delay: u32,
    /// Requests per minute per client address; 0 turns the limit off.
    pub requests_per_minute: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            session_lifetime_secs: None,
            max_sessions_per_account: 32,
            password_min_length: 8,
            password_max_length: 128,
            allow_empty_general_password: true,
            require_admin_password_change: false,
            legacy_basic_credentials: false,
            accept_vendor_example_credential: true,
            login_failures_per_hour: LOGIN_FAILURES_CAP,
            login_failures_before_delay: 5,
            requests_per_minute: 600,
        }
    }
}

/// One reason a policy is invalid: the field (as the API and the config file name
/// it) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyViolation {
    /// camelCase field name.
    pub field: &'static str,
    /// The config file's key for the same setting, e.g. `policy.password_min_length`.
    pub key: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl Policy {
    /// When a session created at `created_at` expires under this policy (`None`:
    /// never). Evaluated against the live policy wherever a session is checked or
    /// shown, so a lifetime change applies to existing sessions at once.
    pub fn session_expiry(&self, created_at: crate::util::UnixTime) -> Option<crate::util::UnixTime> {
        self.session_lifetime_secs.map(|l| created_at.saturating_add(l))
    }

    /// Check every field; returns all violations, not just the first.
    pub fn validate(&self) -> Result<(), Vec<PolicyViolation>> {
        let mut v = Vec::new();
        let mut bad = |(field, key): (&'static str, &'static str), reason: String| {
            v.push(PolicyViolation { field, key, reason });
        };
        if self.session_lifetime_secs == Some(0) {
            bad(
                ("sessionLifetimeSecs", "policy.session_lifetime"),
                "must be at least 1 second, or null for no expiry".into(),
            );
        }
        if !(1..=MAX_SESSIONS_CAP).contains(&self.max_sessions_per_account) {
            bad(
                ("maxSessionsPerAccount", "policy.max_sessions_per_account"),
                format!("must be between 1 and {MAX_SESSIONS_CAP}"),
            );
        }
        if !(1..=PASSWORD_LENGTH_CAP).contains(&self.password_min_length) {
            bad(
                ("passwordMinLength", "policy.password_min_length"),
                format!("must be between 1 and {PASSWORD_LENGTH_CAP}"),
            );
        }
        if !(1..=PASSWORD_LENGTH_CAP).contains(&self.password_max_length) {
            bad(
                ("passwordMaxLength", "policy.password_max_length"),
                format!("must be between 1 and {PASSWORD_LENGTH_CAP}"),
            );
        } else if self.password_max_length < self.password_min_length {
            bad(
                ("passwordMaxLength", "policy.password_max_length"),
                "must not be smaller than passwordMinLength".into(),
            );
        }
        if !(1..=LOGIN_FAILURES_CAP).contains(&self.login_failures_per_hour) {
            bad(
                ("loginFailuresPerHour", "policy.login_failures_per_hour"),
                format!("must be between 1 and {LOGIN_FAILURES_CAP}"),
            );
        }
        if !(1..=LOGIN_FAILURES_CAP).contains(&self.login_failures_before_delay) {
            bad(
                ("loginFailuresBeforeDelay", "policy.login_failures_before_delay"),
                format!("must be between 1 and {LOGIN_FAILURES_CAP}"),
            );
        }
        if self.requests_per_minute > 1_000_000 {
            bad(
                ("requestsPerMinute", "limits.requests_per_minute"),
                "must be between 0 (off) and 1000000".into(),
            );
        }
        if v.is_empty() { Ok(()) } else { Err(v) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_valid() {
        assert_eq!(Policy::default().validate(), Ok(()));
    }

    #[test]
    fn every_violation_is_reported() {
        let p = Policy {
            session_lifetime_secs: Some(0),
            max_sessions_per_account: 0,
            password_min_length: 20,
            password_max_length: 10,
            login_failures_per_hour: 101,
            ..Policy::default()
        };
        let fields: Vec<_> = p.validate().unwrap_err().iter().map(|v| v.field).collect();
        assert_eq!(
            fields,
            [
                "sessionLifetimeSecs",
                "maxSessionsPerAccount",
                "passwordMaxLength",
                "loginFailuresPerHour"
            ]
        );
    }
}
