//! The four fixed accounts, their order, and the rules for new passwords.
//!
//! Each level includes the ones below it: `monitor` < `general` < `integrator` <
//! `admin`. Account names are exact lowercase words; anything else is refused with a
//! message naming the allowed values.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::auth::policy::Policy;
use crate::error::ApiError;

/// An account, which is also its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// May read data streams.
    Monitor,
    /// + day-to-day operation (audio settings).
    General,
    /// + room and integration configuration.
    Integrator,
    /// + security policy, accounts, credentials.
    Admin,
}

/// The allowed account names, lowest role first.
pub(crate) const ACCOUNT_NAMES: &str = "monitor, general, integrator, admin";

impl Role {
    /// All accounts, lowest first.
    pub const ALL: [Role; 4] = [Role::Monitor, Role::General, Role::Integrator, Role::Admin];

    /// The account name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Monitor => "monitor",
            Role::General => "general",
            Role::Integrator => "integrator",
            Role::Admin => "admin",
        }
    }

    /// Parse an exact lowercase account name.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// Parse an account name from a request, or a 400 naming the allowed values.
    pub fn from_request(name: &str) -> Result<Role, ApiError> {
        Role::parse(name).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_account",
                format!("account must be one of {ACCOUNT_NAMES} (exact lowercase)"),
            )
        })
    }

    /// Whether this account can be disabled (admin cannot).
    pub fn can_be_disabled(self) -> bool {
        self != Role::Admin
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Minimum role an endpoint requires: `None` means anyone may call it.
pub(crate) type MinRole = Option<Role>;

/// The name a minimum role has in the capabilities document.
pub fn min_role_name(role: MinRole) -> &'static str {
    role.map_or("none", Role::as_str)
}

/// Check a new password against the policy. Never echoes the password.
pub(crate) fn check_new_password(account: Role, password: &str, policy: &Policy) -> Result<(), ApiError> {
    let chars = password.chars().count();
    if chars == 0 {
        return if account == Role::General && policy.allow_empty_general_password {
            Ok(())
        } else {
            Err(ApiError::bad_request(
                "password_policy",
                format!("the {account} password must not be empty"),
            ))
        };
    }
    let (min, max) = (policy.password_min_length as usize, policy.password_max_length as usize);
    if chars < min || chars > max {
        return Err(ApiError::bad_request(
            "password_policy",
            format!("password must be {min} to {max} characters"),
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "password_policy",
            "password must not contain control characters",
        ));
    }
    if password.eq_ignore_ascii_case(account.as_str()) {
        return Err(ApiError::bad_request(
            "password_policy",
            "password must not be the account name",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_inclusive() {
        assert!(Role::Monitor < Role::General);
        assert!(Role::General < Role::Integrator);
        assert!(Role::Integrator < Role::Admin);
    }

    #[test]
    fn names_are_exact_lowercase() {
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::parse("ADMIN"), None);
        assert_eq!(Role::parse(" admin"), None);
        let e = Role::from_request("Admin").unwrap_err();
        assert_eq!(e.code(), "invalid_account");
        assert!(e.entries()[0].message.contains(ACCOUNT_NAMES));
    }

    #[test]
    fn password_rules() {
        let p = Policy::default();
        assert!(check_new_password(Role::General, "", &p).is_ok());
        assert!(check_new_password(Role::Admin, "", &p).is_err());
        assert!(check_new_password(Role::Admin, "short", &p).is_err());
        assert!(
            check_new_password(
                Role::Admin,
                "admin",
                &Policy {
                    password_min_length: 1,
                    ..p.clone()
                }
            )
            .is_err()
        );
        assert!(check_new_password(Role::Admin, "correct horse", &p).is_ok());
        assert!(check_new_password(Role::Admin, &"x".repeat(129), &p).is_err());
        let strict = Policy {
            allow_empty_general_password: false,
            ..p
        };
        assert!(check_new_password(Role::General, "", &strict).is_err());
    }
}
