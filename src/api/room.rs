//! The reference device's room endpoints: layout, zone input maps, room profiles,
//! the camera switcher integration, and the network configuration. The rules
//! are `crate::device::room` and `crate::device::camera`.
//!
//! Every change is made on a copy of the stored room and kept only if all of it
//! is valid; it is persisted before the reply, and the store's listener announces
//! it on `/api/v1/events`.

use http::{Response, StatusCode};
use serde_json::Value;

use crate::api::Ctx;
use crate::device::network;
use crate::device::room::{RoomDevice, RoomLayout};
use crate::error::ApiError;
use crate::http_util::{Body, json_response, no_content};

fn room_device(ctx: &Ctx<'_>) -> RoomDevice {
    RoomDevice::from_info(&ctx.app.config().device)
}

/// Change the stored room with `change`; nothing is kept if it fails.
async fn update_room<T: Send + 'static>(
    ctx: &Ctx<'_>,
    change: impl FnOnce(&mut RoomLayout, &RoomDevice) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let device = room_device(ctx);
    ctx.app
        .update(move |s| {
            let mut next = s.device.room_layout.clone();
            let out = change(&mut next, &device)?;
            s.device.room_layout = next;
            Ok(out)
        })
        .await
}

/// The path's `{profileId}`.
fn profile_id(ctx: &Ctx<'_>) -> String {
    ctx.params.first().cloned().unwrap_or_default()
}

/// `GET /api/v1/room/layout`
pub(crate) fn get_room_layout(ctx: &Ctx<'_>) -> Response<Body> {
    json_response(
        StatusCode::OK,
        &ctx.state.device.room_layout.document(&room_device(ctx)),
    )
}

/// `PATCH /api/v1/room/layout`: replaces the named top-level fields.
pub(crate) async fn patch_room_layout(ctx: &Ctx<'_>, body: Value) -> Result<Response<Body>, ApiError> {
    let doc = update_room(ctx, move |room, device| {
        *room = room.patched(&body, device)?;
        Ok(room.document(device))
    })
    .await?;
    Ok(json_response(StatusCode::OK, &doc))
}

/// `PATCH /api/v1/room/zone-input-maps` (HDL410).
pub(crate) async fn patch_zone_input_maps(ctx: &Ctx<'_>, body: Value) -> Result<Response<Body>, ApiError> {
    let doc = update_room(ctx, move |room, device| {
        *room = room.patched_input_maps(&body, device)?;
        Ok(room.input_maps_document())
    })
    .await?;
    Ok(json_response(StatusCode::OK, &doc))
}

/// `GET /api/v1/room/profiles` (HDL410).
pub(crate) fn list_profiles(ctx: &Ctx<'_>) -> Response<Body> {
    json_response(StatusCode::OK, &ctx.state.device.room_layout.profiles_document())
}

/// `POST /api/v1/room/profiles` (HDL410): 201 with the new profile.
pub(crate) async fn create_profile(ctx: &Ctx<'_>, body: Value) -> Result<Response<Body>, ApiError> {
    let p = update_room(ctx, move |room, _| room.create_profile(&body)).await?;
    Ok(json_response(StatusCode::CREATED, &p.summary()))
}

/// `PATCH /api/v1/room/profiles/{profileId}` (HDL410): rename.
pub(crate) async fn rename_profile(ctx: &Ctx<'_>, body: Value) -> Result<Response<Body>, ApiError> {
    let id = profile_id(ctx);
    let p = update_room(ctx, move |room, _| room.rename_profile(&id, &body)).await?;
    Ok(json_response(StatusCode::OK, &p.summary()))
}

/// `POST /api/v1/room/profiles/{profileId}/active` (HDL410): its zones and cameras
/// become the layout's.
pub(crate) async fn activate_profile(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let id = profile_id(ctx);
    let p = update_room(ctx, move |room, _| room.activate_profile(&id)).await?;
    Ok(json_response(StatusCode::OK, &p.summary()))
}

/// `DELETE /api/v1/room/profiles/{profileId}` (HDL410): 204.
pub(crate) async fn delete_profile(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let id = profile_id(ctx);
    update_room(ctx, move |room, _| room.delete_profile(&id)).await?;
    Ok(no_content())
}

/// `GET /api/v1/integrations/camera-switcher` (HDL410).
pub(crate) fn get_camera_switcher(ctx: &Ctx<'_>) -> Response<Body> {
    json_response(StatusCode::OK, &ctx.state.device.room_layout.camera_switcher_document())
}

/// `PATCH /api/v1/integrations/camera-switcher` (HDL410).
pub(crate) async fn patch_camera_switcher(ctx: &Ctx<'_>, body: Value) -> Result<Response<Body>, ApiError> {
    let doc = update_room(ctx, move |room, _| {
        room.camera_switcher = room.camera_switcher.patched(&body)?;
        Ok(room.camera_switcher_document())
    })
    .await?;
    Ok(json_response(StatusCode::OK, &doc))
}

/// `GET /api/v1/network/configuration`
pub(crate) fn network_configuration(ctx: &Ctx<'_>) -> Response<Body> {
    json_response(
        StatusCode::OK,
        &network::document(&ctx.app.config().device, &ctx.app.ip_address()),
    )
}
