//! The vendor's example credential (SPEC §6). Every curl example in the vendor's
//! documentation sends `Authorization: Nureva Z2VuZXJhbDo=`, base64 of `general:`:
//! the general account with the empty password, as a factory-default device has it.
//! While that is the general password the credential carries no secret, so it is
//! accepted without legacy mode and without hashing anything, exactly while
//!
//! - the token decodes to account `general` with the empty password,
//! - the general account is enabled and its password is the empty string, and the
//!   policy allows an empty general password (`auth::ops::usable_account`),
//! - the policy's `acceptVendorExampleCredential` is on (the default).
//!
//! Credentials with a real password stay behind legacy mode (`auth::legacy`). Like
//! a legacy credential it is not a session: it cannot be logged out, and a stream
//! opened with it ends as soon as the state stops accepting it or the general
//! account changes at all ([`still_valid`]). Its first acceptance for each state of
//! the general account is audited (`vendor_example_login`), as a legacy pair's first
//! verification is; the requests after that are not, or a controller polling every
//! few seconds would fill the audit log.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::auth::accounts::Role;
use crate::auth::audit::{self, Actor};
use crate::auth::credentials::{CredentialKind, Principal};
use crate::auth::legacy::parse_legacy;
use crate::auth::ops::usable_account;
use crate::auth::state::{AccountRecord, State};
use crate::util::UnixTime;

/// The credential's public id (in `GET /api/v1/auth/validate` and the audit log).
const ID: &str = "vendor-example";

/// Whether `token` decodes to exactly account `general` with the empty password.
fn is_example(token: &str) -> bool {
    parse_legacy(token).is_some_and(|c| c.account == Role::General && c.password.expose().is_empty())
}

/// The general account's record when `state` accepts the example credential.
fn accepting_record(state: &State) -> Option<&AccountRecord> {
    if !state.policy.accept_vendor_example_credential {
        return None;
    }
    usable_account(state, Role::General).filter(|record| record.password_is_empty)
}

/// Remembers the state of the general account (its `changed_at`) under which the
/// example credential was last audited, so that each state is audited once.
#[derive(Debug, Default)]
pub(crate) struct FirstUse(AtomicU64);

impl FirstUse {
    /// True the first time it is asked about `changed_at` (after another one).
    fn is_first(&self, changed_at: UnixTime) -> bool {
        // Stored plus one, so that the zero of a new marker matches no state.
        let stamp = changed_at.wrapping_add(1);
        self.0.load(Ordering::Relaxed) != stamp && self.0.swap(stamp, Ordering::Relaxed) != stamp
    }
}

/// Who is calling, for the audit of a first use.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caller<'a> {
    /// The client address.
    pub ip: IpAddr,
    /// `Nureva-Client-Id`.
    pub client_id: &'a str,
}

/// The principal of `token` when it is the example credential and `state` accepts
/// it; `None` otherwise (the caller goes on as for any other token).
pub(crate) fn verify(token: &str, state: &State, first_use: &FirstUse, caller: Caller<'_>) -> Option<Principal> {
    let record = accepting_record(state)?;
    if !is_example(token) {
        return None;
    }
    if first_use.is_first(record.changed_at) {
        let remote = caller.ip.to_string();
        let actor = Actor {
            account: Some(Role::General),
            client_id: caller.client_id,
            remote: &remote,
        };
        audit::record("vendor_example_login", "success", &actor, Some(ID));
    }
    Some(Principal {
        account: Role::General,
        kind: CredentialKind::VendorExample,
        id: Arc::from(ID),
        created_at: record.changed_at,
        expires_at: None,
        via_enrollment_code: false,
    })
}

/// Whether an example credential accepted earlier (`principal`) is still good in
/// `state`: the state still accepts it, and the general account has not changed
/// since (a password set and cleared again, or a disable and enable, ends it too).
pub(crate) fn still_valid(state: &State, principal: &Principal) -> bool {
    accepting_record(state).is_some_and(|record| record.changed_at == principal.created_at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::passwords::Hasher;
    use crate::auth::policy::Policy;
    use crate::config::HashParams;

    const EXAMPLE: &str = "Z2VuZXJhbDo=";

    fn factory() -> State {
        let params = HashParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let hasher = Hasher::new(params, 1, 1).unwrap();
        crate::auth::enrollment::factory_state("ABC-DEF-GHJ", &Policy::default(), &hasher, 1000).unwrap()
    }

    fn caller() -> Caller<'static> {
        Caller {
            ip: "127.0.0.1".parse().unwrap(),
            client_id: "tests",
        }
    }

    fn accepted(token: &str, state: &State) -> bool {
        verify(token, state, &FirstUse::default(), caller()).is_some()
    }

    #[test]
    fn only_general_with_the_empty_password_is_the_example() {
        assert!(is_example(EXAMPLE));
        assert!(is_example("Z2VuZXJhbDo"), "padding optional, as for legacy credentials");
        for other in [
            "Z2VuZXJhbDp4", // general:x
            "R2VuZXJhbDo=", // General:
            "YWRtaW46",     // admin:
            "bW9uaXRvcjo=", // monitor:
            "Z2VuZXJhbA==", // general (no colon)
            "Z2VuZXJhbDo6", // general::
            "not base64 at all",
        ] {
            assert!(!is_example(other), "{other}");
        }
    }

    #[test]
    fn a_factory_state_accepts_it_until_any_condition_fails() {
        let state = factory();
        let p = verify(EXAMPLE, &state, &FirstUse::default(), caller()).unwrap();
        assert_eq!(
            (p.account, p.kind, &*p.id),
            (Role::General, CredentialKind::VendorExample, ID)
        );
        assert!(still_valid(&state, &p));
        assert!(!accepted("Z2VuZXJhbDp4", &state));

        let mut off = state.clone();
        off.policy.accept_vendor_example_credential = false;
        assert!(!accepted(EXAMPLE, &off) && !still_valid(&off, &p), "the switch");

        let mut no_empty = state.clone();
        no_empty.policy.allow_empty_general_password = false;
        assert!(
            !accepted(EXAMPLE, &no_empty) && !still_valid(&no_empty, &p),
            "the empty-password policy"
        );

        let mut disabled = state.clone();
        disabled.set_enabled(Role::General, false, 2000);
        assert!(!accepted(EXAMPLE, &disabled) && !still_valid(&disabled, &p), "disabled");

        let mut with_password = state.clone();
        with_password.set_password(Role::General, Some("$argon2id$x".into()), false, 2000);
        assert!(
            !accepted(EXAMPLE, &with_password) && !still_valid(&with_password, &p),
            "a password"
        );

        let mut cleared_again = with_password.clone();
        cleared_again.set_password(Role::General, Some("$argon2id$y".into()), true, 3000);
        assert!(accepted(EXAMPLE, &cleared_again), "an empty password again");
        assert!(!still_valid(&cleared_again, &p), "but a stream from before ends");
    }

    #[test]
    fn each_state_of_the_general_account_is_audited_once() {
        let first_use = FirstUse::default();
        assert!(first_use.is_first(1000));
        assert!(!first_use.is_first(1000));
        assert!(first_use.is_first(2000));
        assert!(first_use.is_first(1000));
        assert!(FirstUse::default().is_first(0), "a new marker matches no state");
    }
}
