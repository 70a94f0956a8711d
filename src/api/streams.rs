//! Event stream endpoints: the public heartbeat and the change stream.

use http::Response;

use crate::api::Ctx;
use crate::error::ApiError;
use crate::events::{self, Source, Watch};
use crate::http_util::Body;

fn watch(ctx: &Ctx) -> Result<Watch, ApiError> {
    let still_valid: Option<events::StillValid> = ctx.principal.clone().map(|p| {
        let app = ctx.app.clone();
        Box::new(move || app.still_valid(&p)) as events::StillValid
    });
    Ok(Watch {
        shutdown: ctx.app.shutdown_signal(),
        changes: ctx.app.change_signal(),
        still_valid,
        keepalive: ctx.app.config().events.keepalive_interval,
        slot: ctx.app.stream_slot()?,
        until: ctx
            .app
            .config()
            .events
            .max_stream_duration
            .map(|d| tokio::time::Instant::now() + d),
    })
}

/// `GET /api/v1/heartbeat`
pub fn heartbeat(ctx: &Ctx) -> Result<Response<Body>, ApiError> {
    let period = ctx.app.config().events.heartbeat_interval;
    Ok(events::response(events::heartbeat(period), watch(ctx)?))
}

/// Event names of the device data stream. The reference device emits
/// `deviceMetrics`; `soundLocation` is known (a real device's microphone array
/// reports it) but never emitted by the simulation.
pub const DATA_EVENTS: [&str; 2] = ["deviceMetrics", "soundLocation"];

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
pub fn data(ctx: &Ctx) -> Result<Response<Body>, ApiError> {
    let w = watch(ctx)?;
    let source = match data_filter(ctx.query.as_deref()) {
        Ok(wanted) => events::metrics(
            ctx.app.config().events.data_interval,
            wanted.iter().any(|n| n == "deviceMetrics"),
        ),
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

/// `GET /api/v1/events`: ends when the credential is revoked.
pub fn events(ctx: &Ctx) -> Result<Response<Body>, ApiError> {
    let w = watch(ctx)?;
    Ok(events::response(Source::Bus(ctx.app.events().subscribe()), w))
}
