//! Security audit events.
//!
//! Every security-relevant action (login success and failure, logout, password
//! change, enable/disable, key create/revoke, session revoke, policy change,
//! enrollment and factory reset, certificate regeneration) is one structured tracing
//! event with target `roomgate::audit` (a stable name operators filter on), naming the action, its outcome, the account,
//! the client id and the remote address. Callers pass identifiers only; there is no
//! field a secret could be put in.

use crate::auth::accounts::Role;
use crate::auth::state::State;

/// Who did it and from where.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// The account acted as (or attempted), if known.
    pub account: Option<Role>,
    /// `Nureva-Client-Id`, or `local-cli` for the console.
    pub client_id: &'a str,
    /// Remote address, or `console`.
    pub remote: &'a str,
}

impl Actor<'static> {
    /// The technician at the device console.
    pub const CONSOLE: Actor<'static> = Actor {
        account: None,
        client_id: "local-cli",
        remote: "console",
    };
}

/// What a state change did, for the audit trail. The operations layer
/// (`crate::auth::ops`) says what happened; the API or the console, which know who
/// asked, record it with [`Event::record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The action, e.g. `key_revoke`.
    pub action: &'static str,
    /// What was acted on (an account, a session or key id), never a secret.
    pub subject: Option<String>,
}

impl Event {
    /// A successful `action` on `subject`.
    pub fn new(action: &'static str, subject: Option<&str>) -> Event {
        Event {
            action,
            subject: subject.map(str::to_string),
        }
    }

    /// Record it as done by `actor`.
    pub fn record(&self, actor: &Actor<'_>) {
        record(self.action, "success", actor, self.subject.as_deref());
    }
}

/// A state change's result and its audit event.
#[derive(Debug)]
pub struct Audited<T> {
    /// What the change returns to its caller.
    pub value: T,
    /// What it did.
    pub event: Event,
}

/// Record one audit event. `subject` names what was acted on (an account, a session
/// or key id, a policy), never a secret.
pub(crate) fn record(action: &'static str, outcome: &'static str, actor: &Actor<'_>, subject: Option<&str>) {
    let account = actor.account.map_or("-", Role::as_str);
    let subject = subject.unwrap_or("-");
    if outcome == "success" {
        tracing::info!(
            target: "roomgate::audit",
            action, outcome, account, client_id = actor.client_id, remote = actor.remote, subject,
            "audit"
        );
    } else {
        tracing::warn!(
            target: "roomgate::audit",
            action, outcome, account, client_id = actor.client_id, remote = actor.remote, subject,
            "audit"
        );
    }
}

/// Audit what another process (the technician's CLI) changed in the state, as seen
/// by the running service when it reloads: the service's log then holds one audit
/// trail whoever made the change.
pub(crate) fn record_external_changes(before: &State, after: &State) {
    let console = Actor::CONSOLE;
    if before.signing_key != after.signing_key {
        record("factory_reset", "success", &console, None);
        return;
    }
    if before.enrollment_code != after.enrollment_code {
        record("enrollment_reset", "success", &console, Some("admin"));
    }
    let mut explained: Vec<Role> = Vec::new();
    for role in Role::ALL {
        let (Some(b), Some(a)) = (before.account(role), after.account(role)) else {
            continue;
        };
        let who = Actor {
            account: Some(role),
            ..console
        };
        if b.enabled != a.enabled {
            record(
                if a.enabled { "account_enable" } else { "account_disable" },
                "success",
                &who,
                Some(role.as_str()),
            );
            explained.push(role);
        }
        if b.password_hash != a.password_hash {
            // An enrollment reset changes the admin password too; it is audited above.
            if before.enrollment_code == after.enrollment_code {
                record("password_change", "success", &who, Some(role.as_str()));
            }
            explained.push(role);
        }
    }
    for id in after.api_keys.keys().filter(|id| !before.api_keys.contains_key(*id)) {
        record("key_create", "success", &console, Some(id));
    }
    for id in before.api_keys.keys().filter(|id| !after.api_keys.contains_key(*id)) {
        record("key_revoke", "success", &console, Some(id));
    }
    for (id, s) in before
        .sessions
        .iter()
        .filter(|(id, _)| !after.sessions.contains_key(*id))
    {
        if !explained.contains(&s.account) {
            record(
                "session_revoke",
                "success",
                &Actor {
                    account: Some(s.account),
                    ..console
                },
                Some(id),
            );
        }
    }
    if before.policy != after.policy {
        record("policy_change", "success", &console, Some("security_policy"));
    }
}
