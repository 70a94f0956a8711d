//! Admin endpoints: accounts, sessions, API keys, security policy.
//!
//! The state changes themselves live in [`crate::auth::ops`], shared with the CLI. Every
//! change is one audit event.

use http::{Response, StatusCode};
use serde_json::{Value, json};

use crate::api::Ctx;
use crate::api::authn::password_change_required;
use crate::api::body::{object, only_fields, optional_password, string_field};
use crate::auth::accounts::{Role, check_new_password};
use crate::auth::ops;
use crate::auth::ops::{as_typed, usable_password_hash};
use crate::auth::passwords::Password;
use crate::error::ApiError;
use crate::http_util::{Body, json_response, no_content};
use crate::util::now;

/// `GET /api/v1/auth/accounts`
pub(crate) fn list_accounts(ctx: &Ctx<'_>) -> Response<Body> {
    json_response(StatusCode::OK, &json!({"accounts": ops::account_views(&ctx.state)}))
}

/// The fields of an account PATCH.
#[derive(Debug)]
pub struct AccountPatch {
    /// New enabled state.
    pub enabled: Option<bool>,
    /// New password.
    pub password: Option<Password>,
    /// The current password (for the admin's own change).
    pub current_password: Option<Password>,
}

impl AccountPatch {
    /// Parse and check an account PATCH body.
    pub fn parse(body: &Value) -> Result<AccountPatch, ApiError> {
        let obj = object(body)?;
        only_fields(obj, &["enabled", "password", "currentPassword"])?;
        let enabled = match obj.get("enabled") {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(ApiError::bad_request("invalid_type", "`enabled` must be a boolean")),
        };
        let patch = AccountPatch {
            enabled,
            password: optional_password(obj, "password")?,
            current_password: optional_password(obj, "currentPassword")?,
        };
        if patch.enabled.is_none() && patch.password.is_none() {
            return Err(ApiError::bad_request(
                "missing_field",
                "give `enabled` and/or `password` to change",
            ));
        }
        Ok(patch)
    }
}

/// `PATCH /api/v1/auth/accounts/{account}`
pub(crate) async fn update_account(ctx: &Ctx<'_>, body: Value) -> Result<Response<Body>, ApiError> {
    let target = Role::from_request(ctx.params.first().map_or("", String::as_str))?;
    let patch = AccountPatch::parse(&body)?;
    if let Some(enabled) = patch.enabled {
        ops::check_enabled_change(target, enabled)?;
    }
    if ctx.must_change_password() && (target != Role::Admin || patch.password.is_none() || patch.enabled.is_some()) {
        return Err(password_change_required());
    }

    // Checks that need a password hash run before the state lock is taken.
    let mut verified_admin_hash = None;
    let new_hash = match &patch.password {
        None => None,
        Some(password) => {
            check_new_password(target, password.expose(), &ctx.state.policy)?;
            if target == Role::Admin {
                verified_admin_hash = Some(verify_current_admin_password(ctx, patch.current_password.clone()).await?);
            }
            let empty = password.expose().is_empty();
            Some((ctx.app.hasher().hash(password.clone()).await?, empty))
        }
    };

    let (view, revoked, events) = ctx
        .app
        .update(move |s| {
            if let Some(verified) = verified_admin_hash
                && usable_password_hash(s, Role::Admin).as_ref() != Some(&verified)
            {
                return Err(ApiError::conflict(
                    "password_changed_meanwhile",
                    "the admin password changed while this request was checked; try again",
                ));
            }
            let mut revoked = 0;
            let mut events = Vec::new();
            if let Some(enabled) = patch.enabled {
                let done = ops::set_enabled(s, target, enabled, now())?;
                revoked += done.value;
                events.push(done.event);
            }
            if let Some((hash, empty)) = new_hash {
                let done = ops::set_password(s, target, hash, empty, now());
                revoked += done.value;
                events.push(done.event);
            }
            let view = ops::account_view(s, target).ok_or_else(ApiError::internal)?;
            Ok((view, revoked, events))
        })
        .await?;
    for event in &events {
        ctx.record(event);
    }
    let mut out = serde_json::to_value(view).map_err(|_| ApiError::internal())?;
    if let Some(o) = out.as_object_mut() {
        o.insert("sessionsRevoked".into(), revoked.into());
    }
    Ok(json_response(StatusCode::OK, &out))
}

/// Changing the admin password needs the current one; returns the hash it matched.
async fn verify_current_admin_password(ctx: &Ctx<'_>, current: Option<Password>) -> Result<String, ApiError> {
    let Some(current) = current else {
        return Err(ApiError::bad_request(
            "current_password_required",
            "changing the admin password needs `currentPassword`",
        ));
    };
    // Guessing the current password is throttled like a login.
    ctx.app
        .login_throttle()
        .admit(Role::Admin, ctx.remote.ip(), &ctx.state.policy)?;
    let phc = usable_password_hash(&ctx.state, Role::Admin).ok_or_else(ApiError::internal)?;
    let typed = as_typed(&ctx.state, Role::Admin, current);
    let ok = ctx.app.hasher().verify(Some(phc.clone()), typed).await?;
    ctx.app
        .login_throttle()
        .record(Role::Admin, ctx.remote.ip(), &ctx.state.policy, ok);
    if !ok {
        ctx.audit("password_change", "failure", Some("admin"));
        return Err(ApiError::forbidden(
            "current_password_incorrect",
            "`currentPassword` is not the current admin password",
        ));
    }
    Ok(phc)
}

/// The state with last-use times that are still only in memory.
fn with_usage(ctx: &Ctx<'_>) -> crate::auth::state::State {
    let mut state = (*ctx.state).clone();
    ctx.app.credentials().overlay_usage(&mut state);
    state
}

/// `GET /api/v1/auth/sessions`
pub(crate) fn list_sessions(ctx: &Ctx<'_>) -> Response<Body> {
    json_response(
        StatusCode::OK,
        &json!({"sessions": ops::session_views(&with_usage(ctx))}),
    )
}

/// `DELETE /api/v1/auth/sessions/{id}`
pub(crate) async fn revoke_session(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let id = ctx.params.first().cloned().unwrap_or_default();
    let done = ctx.app.update(move |s| ops::revoke_session(s, &id)).await?;
    ctx.record(&done.event);
    Ok(no_content())
}

/// `POST /api/v1/auth/keys` → 201 with the key, shown this once.
pub(crate) async fn create_key(ctx: &Ctx<'_>, body: Value) -> Result<Response<Body>, ApiError> {
    let obj = object(&body)?;
    only_fields(obj, &["name", "account"])?;
    let name = string_field(obj, "name")?.to_string();
    let account = Role::from_request(string_field(obj, "account")?)?;
    let max = ctx.app.config().limits.max_api_keys;
    let done = ctx
        .app
        .update(move |s| ops::create_key(s, &name, account, max, now()))
        .await?;
    ctx.record(&done.event);
    let (minted, view) = done.value;
    let mut resp = json_response(StatusCode::CREATED, &ops::key_created_document(&minted, &view));
    if let Ok(location) = http::HeaderValue::from_str(&format!("/api/v1/auth/keys/{}", view.id)) {
        resp.headers_mut().insert(http::header::LOCATION, location);
    }
    Ok(resp)
}

/// `GET /api/v1/auth/keys`
pub(crate) fn list_keys(ctx: &Ctx<'_>) -> Response<Body> {
    json_response(StatusCode::OK, &json!({"keys": ops::key_views(&with_usage(ctx))}))
}

/// `DELETE /api/v1/auth/keys/{id}`
pub(crate) async fn revoke_key(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let id = ctx.params.first().cloned().unwrap_or_default();
    let done = ctx.app.update(move |s| ops::revoke_key(s, &id)).await?;
    ctx.record(&done.event);
    Ok(no_content())
}

/// `GET /api/v1/security/policy`
pub(crate) fn get_policy(ctx: &Ctx<'_>) -> Response<Body> {
    json_response(StatusCode::OK, &ctx.state.policy)
}

/// `PATCH /api/v1/security/policy`: applies at once.
pub(crate) async fn patch_policy(ctx: &Ctx<'_>, body: Value) -> Result<Response<Body>, ApiError> {
    let done = ctx.app.update(move |s| ops::change_policy(s, &body)).await?;
    ctx.record(&done.event);
    Ok(json_response(StatusCode::OK, &done.value))
}
