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
use crate::device::measurements::{DATA_EVENTS, Rates, RoomView, data_source};
use crate::error::ApiError;
use crate::events;
use crate::http_util::{Body, json_response};

/// `GET /api/v1/audio`: the settings as rendered at their last change.
pub(crate) fn get_audio(ctx: &Ctx<'_>) -> Response<Body> {
    crate::http_util::json_bytes(StatusCode::OK, ctx.app.audio_json(&ctx.state.device.audio))
}

/// Apply a checked change to the audio settings; reply with the new settings.
async fn update_audio(
    ctx: &Ctx<'_>,
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
pub(crate) async fn patch_audio(ctx: &Ctx<'_>, body: Value) -> Result<Response<Body>, ApiError> {
    let patch = AudioPatch::parse(&body, &ctx.app.config().device.firmware_version)?;
    update_audio(ctx, move |audio| patch.apply(audio)).await
}

/// `PUT /api/v1/audio/volume/change`
pub(crate) async fn change_volume(ctx: &Ctx<'_>, body: Value) -> Result<Response<Body>, ApiError> {
    let op = VolumeOp::parse(&body)?;
    update_audio(ctx, move |audio| {
        op.apply(audio);
        Ok(())
    })
    .await
}

/// `GET /api/v1/audio/hardware`: `enrollmentCode` only for admin.
pub(crate) fn hardware(ctx: &Ctx<'_>) -> Response<Body> {
    let code = (ctx.role() == Some(Role::Admin)).then_some(ctx.state.enrollment_code.as_str());
    json_response(
        StatusCode::OK,
        &hardware_document(&ctx.app.config().device, &ctx.app.ip_address(), code),
    )
}

/// `GET /api/v1/status`: the device's status in the vendor's schema, plus
/// roomgate's `certificate` health (`notAfter`, `daysLeft`, `expiringSoon`), a member
/// the vendor's schema does not forbid and vendor clients do not read.
pub(crate) fn status(ctx: &Ctx<'_>) -> Response<Body> {
    #[derive(serde::Serialize)]
    struct WithCertificate {
        #[serde(flatten)]
        device: crate::device::status::StatusDocument,
        #[serde(skip_serializing_if = "Option::is_none")]
        certificate: Option<crate::certificate::Expiry>,
    }
    let doc = WithCertificate {
        device: ctx.app.live_device().status(),
        certificate: ctx.app.certificate_expiry(),
    };
    json_response(StatusCode::OK, &doc)
}

/// `POST /api/v1/audio/identify`: the LEDs light for `device.identify_time`;
/// 200 with no body ("Success"), as the vendor's reference.
pub(crate) fn identify(ctx: &Ctx<'_>) -> Response<Body> {
    let duration = ctx.app.config().device.identify_time;
    ctx.app.live_device().identify(ctx.app.events(), duration);
    let mut resp = crate::http_util::no_content();
    *resp.status_mut() = StatusCode::OK;
    resp
}

/// `POST /api/v1/audio/calibrate`: 202 `{"status":"started"}`; the end is
/// announced on `/api/v1/events`.
pub(crate) fn calibrate(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let config = ctx.app.config();
    if config.device.device_status != "Ok" {
        return Err(ApiError::conflict(
            "speaker_bar_disconnected",
            "no microphone and speaker bar is connected; calibration needs the bars",
        ));
    }
    ctx.app
        .live_device()
        .calibrate(ctx.app.events(), config.device.calibration_time)?;
    Ok(crate::http_util::json_bytes(
        StatusCode::ACCEPTED,
        crate::device::status::calibration_json("started"),
    ))
}

/// The `?events=` filter: names separated by commas, the parameter repeatable;
/// absent, every event. Unknown names are returned apart (each gets the vendor's
/// error frame, and the known ones still flow).
fn data_filter(query: Option<&str>) -> (Vec<&'static str>, Vec<String>) {
    let mut wanted = Vec::new();
    let mut unknown = Vec::new();
    let mut named = false;
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if key != "events" {
            continue;
        }
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            named = true;
            match DATA_EVENTS.iter().find(|k| **k == name) {
                Some(known) if !wanted.contains(known) => wanted.push(*known),
                Some(_) => {}
                None if unknown.len() < 8 => unknown.push(name.to_string()),
                None => {}
            }
        }
    }
    if !named {
        wanted = DATA_EVENTS.to_vec();
    }
    (wanted, unknown)
}

/// What the simulated talker sees of the room now: read from the state at each
/// tick, so a layout or voice-amplification change applies at once.
fn room_view(app: &crate::app::App) -> RoomView {
    let state = app.snapshot();
    let r = state.device.room_layout.room_dimensions();
    RoomView {
        bounds: [r.x_min, r.x_max, r.y_min, r.y_max],
        voice_amplification: state.device.audio.voice_amplification_enabled,
        coordinates: app.config().device.model.is_hdl410(),
    }
}

/// The zones holding a point, from the layout in force.
fn zones_at(app: &crate::app::App, x: i32, y: i32) -> Vec<Value> {
    let state = app.snapshot();
    let zones = state.device.room_layout.triggered_zones(x, y);
    zones
        .iter()
        .map(|z| serde_json::to_value(z).unwrap_or(Value::Null))
        .collect()
}

/// `GET /api/v1/data`: the device data stream, `?events=` filtered; an unknown
/// event name gets one `event: error (<name>)` frame and the others keep flowing.
pub(crate) fn data(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let w = super::streams::watch(ctx)?;
    let (wanted, unknown) = data_filter(ctx.query.as_deref());
    let events = &ctx.app.config().events;
    let rates = Rates {
        sound_location: events.sound_location_interval,
        device_metrics: events.data_interval,
    };
    let (app, app2) = (ctx.app.clone(), ctx.app.clone());
    let look = Box::new(move || room_view(&app));
    let zones = Box::new(move |x, y| zones_at(&app2, x, y));
    Ok(events::response(data_source(rates, &wanted, &unknown, look, zones), w))
}
