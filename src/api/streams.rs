//! Event stream endpoints: the public heartbeat and the change stream, and what
//! every stream watches (the device data stream is in `api::device`).

use http::Response;

use crate::api::Ctx;
use crate::error::ApiError;
use crate::events::{self, Source, Watch};
use crate::http_util::Body;

/// What every stream watches: shutdown, revocation of its credential, its slot
/// and its longest duration.
pub(super) fn watch(ctx: &Ctx<'_>) -> Result<Watch, ApiError> {
    let still_valid: Option<events::StillValid> = ctx.principal.clone().map(|p| {
        let app = ctx.app.clone();
        Box::new(move || app.still_valid(&p)) as events::StillValid
    });
    Ok(Watch {
        shutdown: ctx.app.shutdown_signal(),
        changes: ctx.app.change_signal(),
        still_valid,
        keepalive: ctx.app.config().events.keepalive_interval,
        _slot: ctx.app.stream_slot(ctx.principal.is_some(), ctx.remote.ip())?,
        until: ctx
            .app
            .config()
            .events
            .max_stream_duration
            .map(|d| tokio::time::Instant::now() + d),
    })
}

/// `GET /api/v1/heartbeat`
pub(crate) fn heartbeat(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let period = ctx.app.config().events.heartbeat_interval;
    Ok(events::response(events::heartbeat(period), watch(ctx)?))
}

/// `GET /api/v1/events`: ends when the credential is revoked.
pub(crate) fn events(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let w = watch(ctx)?;
    Ok(events::response(Source::Bus(ctx.app.events().subscribe()), w))
}
