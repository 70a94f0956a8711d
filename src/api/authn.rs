//! Authentication and authorisation of a request: the presented credential
//! (`Nureva` or `Bearer` scheme), its verification (sessions and API keys, then the
//! vendor's example credential, then legacy credentials), the role check, and the
//! rule that an enrollment-code admin credential must change the password first.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{HeaderMap, HeaderValue, header};

use crate::api::Peer;
use crate::api::client::Client;
use crate::api::heads::Seen;
use crate::app::App;
use crate::auth::accounts::Role;
use crate::auth::credentials::{Principal, Refusal};
use crate::auth::state::State;
use crate::auth::{legacy, vendor_example};
use crate::error::ApiError;

/// The credential text from `Authorization: Nureva <token>` (or `Bearer`).
pub fn presented_credential(headers: &HeaderMap) -> Result<&str, ApiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(ApiError::unauthorized(
            "missing_authorization",
            "Authorization header is missing; log in with POST /api/v1/auth/login and send `Authorization: Nureva <authParameters>`",
        ));
    };
    let malformed = || {
        ApiError::unauthorized(
            "invalid_authorization",
            "Authorization header must be `Nureva <authParameters>` (or `Bearer <authParameters>`)",
        )
    };
    if values.next().is_some() {
        return Err(malformed());
    }
    let text = value.to_str().map_err(|_| malformed())?;
    let (scheme, rest) = text.trim().split_once(' ').ok_or_else(malformed)?;
    if !(scheme.eq_ignore_ascii_case("nureva") || scheme.eq_ignore_ascii_case("bearer")) {
        return Err(ApiError::unauthorized(
            "unsupported_auth_scheme",
            "Authorization scheme must be Nureva (or Bearer)",
        ));
    }
    let token = rest.trim();
    if token.is_empty() {
        return Err(malformed());
    }
    Ok(token)
}

fn invalid_auth_parameters() -> ApiError {
    ApiError::unauthorized(
        "invalid_auth_parameters",
        "the credential is not valid, or has been revoked; log in again",
    )
}

/// Verify the presented credential against `state`: a session or API key in
/// memory, else the vendor's example credential (while the state accepts it), else
/// (when the policy allows) a legacy `base64(account:password)`. `authorization` is
/// what the request sent as `Authorization` (found by [`Heads::scan`]).
///
/// [`Heads::scan`]: crate::api::heads::Heads::scan
pub(super) async fn authenticate(
    app: &App,
    headers: &HeaderMap,
    authorization: Seen<'_>,
    peer: &Peer,
    client: &Client<'_>,
    state: &Arc<State>,
) -> Result<Principal, ApiError> {
    let index = app.credentials();
    let now = crate::util::now_coarse();
    let header = authorization.only().map(HeaderValue::as_bytes);
    if let Some(header) = header
        && let Some(verdict) = index.recall(&peer.remembered, header, state, &client.id, now)
    {
        return verdict.map_err(|_| session_expired());
    }
    let token = presented_credential(headers)?;
    let header = header.unwrap_or_default();
    match index.verify_remembering(token, header, state, &client.id, now, &peer.remembered) {
        Ok(principal) => Ok(principal),
        Err(Refusal::Invalid) => not_stored(app, token, peer.remote, client, state).await,
        Err(Refusal::Expired) => Err(session_expired()),
    }
}

fn session_expired() -> ApiError {
    ApiError::unauthorized("credential_expired", "the session has expired; log in again")
}

/// A token that is no session or API key: the vendor's example credential, or (in
/// legacy mode) `base64(account:password)`; anything else is refused.
async fn not_stored(
    app: &App,
    token: &str,
    remote: SocketAddr,
    client: &Client<'_>,
    state: &State,
) -> Result<Principal, ApiError> {
    let caller = vendor_example::Caller {
        ip: remote.ip(),
        client_id: &client.id,
    };
    if let Some(principal) = vendor_example::verify(token, state, app.example_first_use(), caller) {
        return Ok(principal);
    }
    if !state.policy.legacy_basic_credentials {
        return Err(invalid_auth_parameters());
    }
    let verifier = legacy::Verifier {
        hasher: app.hasher(),
        cache: app.legacy_cache(),
        throttle: app.login_throttle(),
    };
    Box::pin(verifier.verify(token, remote.ip(), &client.id, state))
        .await?
        .ok_or_else(invalid_auth_parameters)
}

pub(super) fn authorize(
    principal: &Principal,
    required: Role,
    method: &http::Method,
    path: &str,
) -> Result<(), ApiError> {
    if principal.account < required {
        return Err(ApiError::forbidden(
            "insufficient_role",
            format!(
                "{method} {path} requires the {required} role or higher; this credential is {}",
                principal.account
            ),
        ));
    }
    Ok(())
}

/// Whether `principal` is an admin credential obtained with the enrollment code
/// while the policy requires the admin password to be changed first.
pub(crate) fn must_change_password(principal: &Principal, state: &State) -> bool {
    principal.account == Role::Admin
        && principal.via_enrollment_code
        && state.policy.require_admin_password_change
        && state
            .account(Role::Admin)
            .is_some_and(|a| a.password_is_enrollment_code)
}

/// The refusal while [`must_change_password`] holds.
pub(crate) fn password_change_required() -> ApiError {
    ApiError::forbidden(
        "password_change_required",
        "this admin credential was obtained with the enrollment code; change the admin password first \
         (PATCH /api/v1/auth/accounts/admin with password and currentPassword)",
    )
}
