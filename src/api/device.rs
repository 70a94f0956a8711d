//! The reference device's endpoints: audio settings, volume steps, device
//! information.
//!
//! Changes go through the state store (persisted before the reply); the store's
//! listener announces them on `/api/v1/events`, whoever made them.

use http::{Response, StatusCode};
use serde_json::Value;

use crate::api::Ctx;
use crate::auth::accounts::Role;
use crate::device::audio::{AudioPatch, AudioSettings, VolumeOp, hardware_document};
use crate::error::ApiError;
use crate::http_util::{Body, json_response};

/// `GET /api/v1/audio`: the settings as rendered at their last change.
pub fn get_audio(ctx: &Ctx) -> Response<Body> {
    crate::http_util::json_bytes(StatusCode::OK, ctx.app.audio_json())
}

/// Apply a checked change to the audio settings; reply with the new settings.
async fn update_audio(
    ctx: &Ctx,
    change: impl FnOnce(&mut AudioSettings) + Send + 'static,
) -> Result<Response<Body>, ApiError> {
    let audio = ctx
        .app
        .update(move |s| {
            change(&mut s.audio);
            Ok(s.audio.clone())
        })
        .await?;
    Ok(json_response(StatusCode::OK, &audio))
}

/// `PATCH /api/v1/audio`: all fields valid, or nothing changes.
pub async fn patch_audio(ctx: &Ctx, body: Value) -> Result<Response<Body>, ApiError> {
    let patch = AudioPatch::parse(&body)?;
    update_audio(ctx, move |audio| patch.apply(audio)).await
}

/// `PUT /api/v1/audio/volume/change`
pub async fn change_volume(ctx: &Ctx, body: Value) -> Result<Response<Body>, ApiError> {
    let op = VolumeOp::parse(&body)?;
    update_audio(ctx, move |audio| op.apply(audio)).await
}

/// `GET /api/v1/audio/hardware`: `enrollmentCode` only for admin.
pub fn hardware(ctx: &Ctx) -> Response<Body> {
    let code = (ctx.role() == Some(Role::Admin)).then_some(ctx.state.enrollment_code.as_str());
    json_response(
        StatusCode::OK,
        &hardware_document(&ctx.app.config().device, &ctx.app.ip_address(), code),
    )
}

/// `GET /api/v1/room/layout`
pub fn get_room_layout(ctx: &Ctx) -> Response<Body> {
    json_response(StatusCode::OK, &ctx.state.room_layout)
}

/// `PATCH /api/v1/room/layout`: replaces the named top-level fields; all valid or
/// nothing changes.
pub async fn patch_room_layout(ctx: &Ctx, body: Value) -> Result<Response<Body>, ApiError> {
    let layout = ctx
        .app
        .update(move |s| {
            s.room_layout = s.room_layout.patched(&body)?;
            Ok(s.room_layout.clone())
        })
        .await?;
    Ok(json_response(StatusCode::OK, &layout))
}
