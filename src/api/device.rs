//! The reference device's endpoints: audio settings, volume steps, device
//! information and the device data stream (the room's are `api::room`). The
//! device model itself is `crate::device`.
//!
//! Changes go through the state store (persisted before the reply); the store's
//! listener announces them on `/api/v1/events`, whoever made them.

use http::{Response, StatusCode};
use serde_json::Value;

use crate::api::Ctx;
use crate::auth::accounts::Role;
use crate::device::audio::{AudioPatch, AudioSettings, VolumeOp, render};
use crate::device::info::hardware_document;
use crate::device::measurements::{DATA_EVENTS, data_source};
use crate::error::ApiError;
use crate::events::{self, Source};
use crate::http_util::{Body, json_response};

/// `GET /api/v1/audio`: the settings as rendered at their last change.
pub(crate) fn get_audio(ctx: &Ctx) -> Response<Body> {
    crate::http_util::json_bytes(StatusCode::OK, ctx.app.audio_json(&ctx.state.device.audio))
}

/// Apply a checked change to the audio settings; reply with the new settings.
async fn update_audio(
    ctx: &Ctx,
    change: impl FnOnce(&mut AudioSettings) -> Result<(), ApiError> + Send + 'static,
) -> Result<Response<Body>, ApiError> {
    let audio = ctx
        .app
        .update(move |s| {
            change(&mut s.device.audio)?;
            Ok(s.device.audio.clone())
        })
        .await?;
    let release = ctx.app.config().device.firmware_version.release();
    Ok(crate::http_util::json_bytes(StatusCode::OK, render(&audio, release)))
}

/// `PATCH /api/v1/audio`: all fields valid, or nothing changes.
pub(crate) async fn patch_audio(ctx: &Ctx, body: Value) -> Result<Response<Body>, ApiError> {
    let patch = AudioPatch::parse(&body, &ctx.app.config().device.firmware_version)?;
    update_audio(ctx, move |audio| patch.apply(audio)).await
}

/// `PUT /api/v1/audio/volume/change`
pub(crate) async fn change_volume(ctx: &Ctx, body: Value) -> Result<Response<Body>, ApiError> {
    let op = VolumeOp::parse(&body)?;
    update_audio(ctx, move |audio| {
        op.apply(audio);
        Ok(())
    })
    .await
}

/// `GET /api/v1/audio/hardware`: `enrollmentCode` only for admin.
pub(crate) fn hardware(ctx: &Ctx) -> Response<Body> {
    let code = (ctx.role() == Some(Role::Admin)).then_some(ctx.state.enrollment_code.as_str());
    json_response(
        StatusCode::OK,
        &hardware_document(&ctx.app.config().device, &ctx.app.ip_address(), code),
    )
}

/// The `?events=` filter: names separated by commas, the parameter repeatable.
/// `Err` holds the unknown names.
fn data_filter(query: Option<&str>) -> Result<Vec<String>, Vec<String>> {
    let mut wanted = Vec::new();
    let mut unknown = Vec::new();
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if key != "events" {
            continue;
        }
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if DATA_EVENTS.contains(&name) {
                wanted.push(name.to_string());
            } else {
                unknown.push(name.chars().filter(|c| !c.is_control()).take(64).collect());
            }
        }
    }
    if !unknown.is_empty() {
        return Err(unknown);
    }
    if wanted.is_empty() {
        wanted = DATA_EVENTS.iter().map(|s| (*s).to_string()).collect();
    }
    Ok(wanted)
}

/// `GET /api/v1/data`: the device data stream, `?events=` filtered. An unknown event
/// name gets one `event: error` and the end of the stream.
pub(crate) fn data(ctx: &Ctx) -> Result<Response<Body>, ApiError> {
    let w = super::streams::watch(ctx)?;
    let source = match data_filter(ctx.query.as_deref()) {
        Ok(wanted) => data_source(ctx.app.config().events.data_interval, &wanted),
        Err(unknown) => {
            let error = serde_json::json!({"errors": [{
                "code": "unknown_event",
                "message": format!("unknown event name(s) {}; known: {}", unknown.join(", "), DATA_EVENTS.join(", ")),
            }]});
            Source::Once(Some(events::frame("error", error.to_string().as_bytes(), None)))
        }
    };
    Ok(events::response(source, w))
}
