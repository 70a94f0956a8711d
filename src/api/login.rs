//! Login, credential validation and logout.
//!
//! Login verifies the password with argon2id on the blocking pool (bounded; 503
//! when saturated), then mints a session under the state lock, re-checking that the
//! account and its password did not change while the hash ran. A wrong password, a
//! disabled account and an account without a password all give the same 401 body,
//! and take the same time (see [`crate::auth::passwords::Hasher::verify_blocking`]).

use http::{Response, StatusCode};
use serde_json::{Value, json};

use crate::api::Ctx;
use crate::api::body::{object, only_fields, string_field};
use crate::auth::accounts::Role;
use crate::auth::audit::{self, Actor};
use crate::auth::credentials::{CredentialKind, Signer};
use crate::auth::ops::{as_typed, usable_password_hash};
use crate::auth::passwords::{HashError, Password};
use crate::auth::state::SessionRecord;
use crate::error::ApiError;
use crate::http_util::{Body, json_response, no_content};
use crate::metrics::LoginOutcome;
use crate::util::{now, rfc3339};

/// The body of `POST /api/v1/auth/login`.
#[derive(Debug)]
pub struct LoginRequest {
    /// The account.
    pub account: Role,
    /// The password (or enrollment code).
    pub password: Password,
}

impl LoginRequest {
    /// Parse and check a login body.
    pub fn parse(body: &Value) -> Result<LoginRequest, ApiError> {
        let obj = object(body)?;
        only_fields(obj, &["account", "password"])?;
        let account = Role::from_request(string_field(obj, "account")?)?;
        let password = Password::new(string_field(obj, "password")?);
        Ok(LoginRequest { account, password })
    }
}

/// 429: the account holds its cap of sessions, all of other addresses and in use.
fn too_many_sessions(retry: u64) -> ApiError {
    ApiError::rate_limited(
        "too_many_sessions",
        format!(
            "this account holds the most sessions the policy allows, all of other addresses and in \
             use; an admin can end some (DELETE /api/v1/auth/sessions/{{id}}), or one becomes free in {retry} seconds"
        ),
        retry,
    )
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "the account or password is not correct")
}

/// `POST /api/v1/auth/login`
pub(crate) async fn login(ctx: Ctx<'_>, body: Value) -> Result<Response<Body>, ApiError> {
    let LoginRequest { account, password } = LoginRequest::parse(&body)?;
    let remote = ctx.remote.ip().to_string();
    let actor = Actor {
        account: Some(account),
        client_id: &ctx.client.id,
        remote: &remote,
    };
    let state = ctx.app.snapshot();
    if let Err(e) = ctx.app.login_throttle().admit(account, ctx.remote.ip(), &state.policy) {
        audit::record("login", "throttled", &actor, None);
        ctx.app.metrics().login(LoginOutcome::Throttled);
        return Err(e);
    }
    let record = state.account(account).ok_or_else(ApiError::internal)?;
    let phc = usable_password_hash(&state, account);
    let via_code = account == Role::Admin && record.password_is_enrollment_code;
    let typed = as_typed(&state, account, password);
    let verified = ctx.app.hasher().verify(phc.clone(), typed).await.map_err(|e| {
        if matches!(e, HashError::Busy) {
            ctx.app.metrics().login(LoginOutcome::Busy);
        }
        ApiError::from(e)
    })?;
    let ok = verified && phc.is_some();
    ctx.app
        .login_throttle()
        .record(account, ctx.remote.ip(), &state.policy, ok);
    if !ok {
        audit::record("login", "failure", &actor, None);
        ctx.app.metrics().login(LoginOutcome::Failed);
        return Err(invalid_credentials());
    }

    let (client_id, client_version) = (ctx.client.id.to_string(), ctx.client.version.to_string());
    let remote_addr = remote.clone();
    let idle = ctx.app.config().limits.session_idle_takeover.as_secs();
    let issued = ctx
        .app
        .update(move |s| {
            // The hash ran without the lock: refuse if the account changed meanwhile.
            if usable_password_hash(s, account) != phc {
                return Err(invalid_credentials());
            }
            let signer = Signer::for_state(s).ok_or_else(ApiError::internal)?;
            let minted = signer.mint_session().map_err(|_| ApiError::internal())?;
            let created_at = now();
            // Make room under the policy's cap: the caller's own oldest session
            // goes, or one unused for `idle`, never one an integration is using.
            let cap = s.policy.max_sessions_per_account as usize;
            s.make_room_for_session(account, &remote_addr, cap, created_at, idle)
                .map_err(too_many_sessions)?;
            s.sessions.insert(
                minted.id.clone(),
                SessionRecord {
                    account,
                    verifier: minted.verifier.clone(),
                    created_at,
                    last_used_at: Some(created_at),
                    client_id,
                    client_version,
                    remote_addr,
                    via_enrollment_code: via_code,
                },
            );
            Ok((minted, s.policy.session_expiry(created_at)))
        })
        .await;
    let (minted, expires_at) = match issued {
        Ok(v) => v,
        Err(e) => {
            let (outcome, counted) = if e.code() == "too_many_sessions" {
                ("refused", LoginOutcome::Refused)
            } else {
                ("failure", LoginOutcome::Failed)
            };
            audit::record("login", outcome, &actor, None);
            ctx.app.metrics().login(counted);
            return Err(e);
        }
    };
    audit::record("login", "success", &actor, Some(&minted.id));
    ctx.app.metrics().login(LoginOutcome::Ok);
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "authParameters": minted.token.as_str(),
            "account": account,
            "expiresAt": expires_at.map(rfc3339),
        }),
    ))
}

/// `GET /api/v1/auth/validate`
pub(crate) fn validate(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let p = ctx.principal.as_ref().ok_or_else(ApiError::internal)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "account": p.account,
            "kind": p.kind.as_str(),
            "sessionId": &*p.id,
            "createdAt": rfc3339(p.created_at),
            "expiresAt": p.expires_at.map(rfc3339),
        }),
    ))
}

/// `POST /api/v1/auth/logout`: revoke the credential presented.
pub(crate) async fn logout(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let p = ctx.principal.clone().ok_or_else(ApiError::internal)?;
    if !p.kind.is_stored() {
        return Err(ApiError::conflict(
            "not_revocable",
            "a base64(account:password) credential cannot be logged out; change the account's password to revoke it",
        ));
    }
    let id = p.id.to_string();
    ctx.app
        .update(move |s| {
            match p.kind {
                CredentialKind::Session => {
                    s.sessions.remove(&id);
                }
                CredentialKind::ApiKey => {
                    s.api_keys.remove(&id);
                }
                CredentialKind::Legacy | CredentialKind::VendorExample => {}
            }
            Ok(())
        })
        .await?;
    let remote = ctx.remote.ip().to_string();
    audit::record(
        "logout",
        "success",
        &Actor {
            account: ctx.role(),
            client_id: &ctx.client.id,
            remote: &remote,
        },
        ctx.principal.as_ref().map(|p| &*p.id),
    );
    Ok(no_content())
}
