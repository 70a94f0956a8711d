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
use crate::auth::accounts::Role;
use crate::auth::audit::{self, Actor};
use crate::auth::credentials::{CredentialKind, Signer};
use crate::auth::passwords::{HashError, Password};
use crate::auth::state::{SessionRecord, State};
use crate::error::ApiError;
use crate::http_util::{Body, json_response, no_content};
use crate::util::{UnixTime, now, rfc3339};

/// The body of `POST /api/v1/auth/login`.
#[derive(Debug)]
pub struct LoginRequest {
    /// The account.
    pub account: Role,
    /// The password (or enrollment code).
    pub password: Password,
}

/// Pull a required string field out of a JSON object.
pub fn string_field<'a>(obj: &'a serde_json::Map<String, Value>, name: &'static str) -> Result<&'a str, ApiError> {
    match obj.get(name) {
        None => Err(ApiError::bad_request("missing_field", format!("`{name}` is required"))),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(ApiError::bad_request(
            "invalid_type",
            format!("`{name}` must be a string"),
        )),
    }
}

/// Refuse fields other than `allowed` (the name shown is truncated).
pub fn only_fields(obj: &serde_json::Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => Err(ApiError::bad_request(
            "unknown_field",
            format!(
                "`{}` is not a field of this request (allowed: {})",
                k.chars().filter(|c| !c.is_control()).take(64).collect::<String>(),
                allowed.join(", ")
            ),
        )),
    }
}

/// The body as a JSON object, or 400.
pub fn object(body: &Value) -> Result<&serde_json::Map<String, Value>, ApiError> {
    body.as_object()
        .ok_or_else(|| ApiError::bad_request("invalid_body", "request body must be a JSON object"))
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

/// The hash a login for `account` is checked against: none when the account is
/// disabled, has no password, or has an empty password the policy no longer allows.
pub fn usable_password_hash(state: &State, account: Role) -> Option<String> {
    let record = state.account(account)?;
    let empty_refused =
        record.password_is_empty && !(account == Role::General && state.policy.allow_empty_general_password);
    record
        .password_hash
        .clone()
        .filter(|_| record.enabled && !empty_refused)
}

/// What the user typed, as it is hashed: the enrollment code is normalised (case,
/// dashes) while the admin password is still the code.
pub fn as_typed(state: &State, account: Role, password: Password) -> Password {
    let via_code = account == Role::Admin && state.account(account).is_some_and(|a| a.password_is_enrollment_code);
    match via_code
        .then(|| crate::auth::enrollment::normalize(password.expose()))
        .flatten()
    {
        Some(bare) => Password::new(bare.as_str()),
        None => password,
    }
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "the account or password is not correct")
}

/// Map a hashing failure to the API.
pub fn hash_error(e: HashError) -> ApiError {
    match e {
        HashError::Busy => ApiError::busy(
            "server_busy",
            "the device is busy checking other passwords; try again shortly",
            1,
        ),
        HashError::Failed => ApiError::internal(),
    }
}

/// Expiry of a session created at `created_at` under the state's policy.
pub fn session_expiry(state: &State, created_at: UnixTime) -> Option<UnixTime> {
    state.policy.session_lifetime_secs.map(|l| created_at.saturating_add(l))
}

/// Refuse a password check that the login throttle does not allow now. Checked
/// before hashing, so throttled attempts cost nothing.
pub fn check_throttle(
    app: &crate::app::App,
    account: Role,
    ip: std::net::IpAddr,
    state: &State,
) -> Result<(), ApiError> {
    app.login_throttle()
        .check(account, ip, &state.policy, std::time::Instant::now())
        .map_err(|retry| {
            ApiError::rate_limited(
                "login_rate_limited",
                format!("too many failed logins; this is a rate limit, try again in {retry} seconds"),
                retry,
            )
        })
}

/// Count the outcome of a password check in the login throttle.
pub fn record_outcome(app: &crate::app::App, account: Role, ip: std::net::IpAddr, state: &State, ok: bool) {
    let throttle = app.login_throttle();
    if ok {
        throttle.record_success(ip);
    } else {
        throttle.record_failure(account, ip, &state.policy, std::time::Instant::now());
    }
}

/// `POST /api/v1/auth/login`
pub async fn login(ctx: Ctx, body: Value) -> Result<Response<Body>, ApiError> {
    let LoginRequest { account, password } = LoginRequest::parse(&body)?;
    let remote = ctx.remote.ip().to_string();
    let actor = Actor {
        account: Some(account),
        client_id: &ctx.client.id,
        remote: &remote,
    };
    let state = ctx.app.snapshot();
    if let Err(e) = check_throttle(&ctx.app, account, ctx.remote.ip(), &state) {
        audit::record("login", "throttled", &actor, None);
        return Err(e);
    }
    let record = state.account(account).ok_or_else(ApiError::internal)?;
    let phc = usable_password_hash(&state, account);
    let via_code = account == Role::Admin && record.password_is_enrollment_code;
    let typed = as_typed(&state, account, password);
    let verified = ctx.app.hasher().verify(phc.clone(), typed).await.map_err(hash_error)?;
    let ok = verified && phc.is_some();
    record_outcome(&ctx.app, account, ctx.remote.ip(), &state, ok);
    if !ok {
        audit::record("login", "failure", &actor, None);
        return Err(invalid_credentials());
    }

    let client = ctx.client.clone();
    let remote_addr = remote.clone();
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
            // Make room under the policy's cap: the oldest sessions go.
            let keep = (s.policy.max_sessions_per_account as usize).saturating_sub(1);
            s.trim_sessions_of(account, keep);
            s.sessions.insert(
                minted.id.clone(),
                SessionRecord {
                    account,
                    verifier: minted.verifier.clone(),
                    created_at,
                    last_used_at: Some(created_at),
                    client_id: client.id,
                    client_version: client.version,
                    remote_addr,
                    via_enrollment_code: via_code,
                },
            );
            Ok((minted, session_expiry(s, created_at)))
        })
        .await;
    let (minted, expires_at) = match issued {
        Ok(v) => v,
        Err(e) => {
            audit::record("login", "failure", &actor, None);
            return Err(e);
        }
    };
    audit::record("login", "success", &actor, Some(&minted.id));
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
pub fn validate(ctx: &Ctx) -> Result<Response<Body>, ApiError> {
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
pub async fn logout(ctx: &Ctx) -> Result<Response<Body>, ApiError> {
    let p = ctx.principal.clone().ok_or_else(ApiError::internal)?;
    if p.kind == CredentialKind::Legacy {
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
                CredentialKind::Legacy => {}
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
