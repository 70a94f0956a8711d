//! Security audit events.
//!
//! Every security-relevant action (login success and failure, logout, password
//! change, enable/disable, key create/revoke, session revoke, policy change,
//! enrollment and factory reset, certificate regeneration) is one structured tracing
//! event with target `roomgate::audit`, naming the action, its outcome, the account,
//! the client id and the remote address. Callers pass identifiers only; there is no
//! field a secret could be put in.

use crate::accounts::Role;

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

/// Record one audit event. `subject` names what was acted on (an account, a session
/// or key id, a policy), never a secret.
pub fn record(action: &'static str, outcome: &'static str, actor: &Actor<'_>, subject: Option<&str>) {
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
