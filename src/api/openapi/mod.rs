//! Builds the capabilities document (`GET /api/v1`, OpenAPI 3.1) from the route table.
//!
//! Every operation carries the vendor's Nureva Extension Object, `x-nureva`:
//! `minimumRoleRequired` (the same [`crate::api::routes::Route::min_role`] the
//! pipeline enforces; `null` for public operations), `requirements` and
//! `requirementsFailed` (the route's [`crate::api::routes::Needs`], as enforced, and
//! the part this device's model and firmware fail) and `capabilities` (per-attribute
//! requirements: the audio settings' firmware gates). The vendor's reference says
//! each *path* carries `x-nureva`; clients read it either there or on the operation,
//! so both carry it — the path's is that of its least privileged operation. Also the
//! two client headers as required parameters, the security requirement, request
//! schema and the error responses the pipeline can produce.

mod operations;
mod schemas;

use serde_json::{Map, Value, json};

use crate::api::routes::Needs;
use crate::api::routes::{Op, ROUTES, Route};
use crate::config::{DeviceInfo, RouteConfig};
use crate::device::audio::AUDIO_FIELDS;
use operations::{Facts, Success, facts};

/// The vendor's title: discovery clients recognise the device's document by it.
pub(crate) const TITLE: &str = "Nureva Developer Toolkit";

/// The capabilities document of `device`: the built-in routes and the configured ones.
pub(crate) fn document(device: &DeviceInfo, forwarded: &[RouteConfig]) -> Value {
    let device_name = &device.name;
    let mut paths = Map::new();
    // A route that takes built-in endpoints over is documented instead of them.
    let taken_over = |path: &str| forwarded.iter().any(|r| crate::util::path_is_under(path, &r.prefix));
    for route in ROUTES.iter().filter(|r| !taken_over(r.path)) {
        let entry = paths
            .entry(route.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(ops) = entry.as_object_mut() {
            let extension = nureva_extension(route, device);
            // Routes are listed least privileged first within a path.
            ops.entry("x-nureva").or_insert_with(|| extension.clone());
            ops.insert(route.method.as_str().to_ascii_lowercase(), operation(route, extension));
        }
    }
    for route in forwarded {
        let ops: Map<String, Value> = route
            .methods
            .iter()
            .map(|m| (m.as_str().to_ascii_lowercase(), forwarded_operation(route, m)))
            .collect();
        paths.insert(route.prefix.clone(), Value::Object(ops));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "Local API of {device_name} ({model}, firmware {firmware}), served by roomgate. Every request carries Nureva-Client-Id and \
                 Nureva-Client-Version. Operations above role `none` need \
                 `Authorization: Nureva <authParameters>` (or `Bearer`), obtained from \
                 POST /api/v1/auth/login or an API key. Roles include the ones below \
                 them: monitor < general < integrator < admin.",
                model = device.model,
                firmware = device.firmware_version,
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "meta"}, {"name": "auth"}, {"name": "streams"}, {"name": "audio"},
            {"name": "data"}, {"name": "room"}, {"name": "integrations"}, {"name": "network"}, {"name": "admin"}, {"name": "security"}, {"name": "forwarded"}
        ],
        "paths": paths,
        "components": components(),
    })
}

/// A configured route: forwarded, with its role; covers every path under the prefix.
fn forwarded_operation(route: &RouteConfig, method: &http::Method) -> Value {
    let id: String = format!("{}{}", method.as_str().to_ascii_lowercase(), route.prefix)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    json!({
        "operationId": id,
        "summary": format!("Forwarded to a device service; also every path under {}", route.prefix),
        "tags": ["forwarded"],
        "x-nureva": {
            "minimumRoleRequired": route.min_role.as_str(),
            "requirements": null, "requirementsFailed": null, "capabilities": null,
        },
        "x-roomgate-forwarded-prefix": route.prefix,
        "parameters": [
            {"$ref": "#/components/parameters/ClientId"},
            {"$ref": "#/components/parameters/ClientVersion"}
        ],
        "security": [{"nureva": []}, {"bearer": []}],
        "responses": {
            "default": {"description": "The device service's answer, streamed through"},
            "400": {"$ref": "#/components/responses/E400"},
            "401": {"$ref": "#/components/responses/E401"},
            "403": {"$ref": "#/components/responses/E403"},
            "413": {"$ref": "#/components/responses/E413"},
            "415": {"$ref": "#/components/responses/E415"},
            "429": {"$ref": "#/components/responses/E429"},
            "502": {"$ref": "#/components/responses/E502"},
            "504": {"$ref": "#/components/responses/E504"},
        },
    })
}

/// A Requirement Object; `null` when there is none.
fn requirement(needs: Option<Needs>) -> Value {
    match needs {
        None | Some(Needs::NONE) => Value::Null,
        Some(n) => json!({
            "minimumFirmware": n.firmware.map(|f| f.to_string()),
            "minimumBars": n.bars,
            "supportedDeviceTypes": n.models,
        }),
    }
}

/// The vendor's Nureva Extension Object of a route on `device`.
fn nureva_extension(route: &Route, device: &DeviceInfo) -> Value {
    let unmet = |needs: Needs| needs.unmet(device.model, &device.firmware_version);
    json!({
        "minimumRoleRequired": route.min_role.map(|r| r.as_str()),
        "requirements": requirement(Some(route.needs)),
        "requirementsFailed": requirement(unmet(route.needs)),
        "capabilities": capabilities(route.op, &unmet),
    })
}

/// Per-attribute requirements of an operation: the audio settings newer than the
/// first firmware, each with what this device fails.
fn capabilities(op: Op, unmet: &dyn Fn(Needs) -> Option<Needs>) -> Value {
    if !matches!(op, Op::GetAudio | Op::PatchAudio) {
        return Value::Null;
    }
    let first = AUDIO_FIELDS.iter().map(|f| f.since).min();
    let items: Map<String, Value> = AUDIO_FIELDS
        .iter()
        .filter(|f| Some(f.since) != first)
        .map(|f| {
            let needs = Needs {
                firmware: Some(f.since),
                ..Needs::NONE
            };
            let item =
                json!({"requirements": requirement(Some(needs)), "requirementsFailed": requirement(unmet(needs))});
            (f.name.to_string(), item)
        })
        .collect();
    Value::Object(items)
}

fn operation(route: &Route, extension: Value) -> Value {
    let facts = facts(route.op);
    let mut op = Map::new();
    op.insert("operationId".into(), facts.operation_id.into());
    op.insert("summary".into(), facts.summary.into());
    op.insert("tags".into(), json!([facts.tag]));
    op.insert("x-nureva".into(), extension);
    let mut parameters = client_parameters(route.op);
    parameters.extend(path_parameters(route.path));
    parameters.extend(facts.query.iter().map(|(name, description)| {
        json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}})
    }));
    op.insert("parameters".into(), Value::Array(parameters));
    op.insert(
        "security".into(),
        if route.min_role.is_some() {
            json!([{"nureva": []}, {"bearer": []}])
        } else {
            json!([])
        },
    );
    if let Some(schema) = facts.body {
        op.insert(
            "requestBody".into(),
            json!({"required": route.op.body_required(), "content": {"application/json": {"schema": schema()}}}),
        );
    }
    op.insert("responses".into(), Value::Object(responses(route, &facts)));
    Value::Object(op)
}

/// The client headers: required everywhere except on the metrics endpoint, whose
/// scrapers (Prometheus 2.42, Debian 12's) cannot send headers of their own.
fn client_parameters(op: Op) -> Vec<Value> {
    if op != Op::Metrics {
        return vec![
            json!({"$ref": "#/components/parameters/ClientId"}),
            json!({"$ref": "#/components/parameters/ClientVersion"}),
        ];
    }
    let optional = |name: &str| {
        json!({"name": name, "in": "header", "required": false, "schema": {"type": "string", "minLength": 1, "maxLength": 500},
            "description": "Optional here, as a pair: when both are left out the client is named after the User-Agent"})
    };
    vec![optional("Nureva-Client-Id"), optional("Nureva-Client-Version")]
}

/// The `{name}` segments of a path pattern as OpenAPI path parameters.
fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let schema = match name {
                "account" => json!({"type": "string", "enum": ["monitor", "general", "integrator", "admin"]}),
                "profileId" => json!({"type": "string", "format": "uuid",
                    "pattern": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"}),
                _ => json!({"type": "string", "pattern": "^[A-Za-z0-9_-]{22}$"}),
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect()
}

fn responses(route: &Route, facts: &Facts) -> Map<String, Value> {
    let mut r = Map::new();
    match facts.success {
        Success::Json(status, schema) => {
            r.insert(
                status.to_string(),
                json!({"description": "Success", "content": {"application/json": {"schema": schema()}}}),
            );
        }
        Success::EventStream(event) => {
            r.insert(
                "200".into(),
                json!({"description": "An event stream; the schema describes each event", "content": {"text/event-stream": {"schema": event()}}}),
            );
        }
        Success::NoContent => {
            r.insert("204".into(), json!({"description": "Done"}));
        }
        Success::Empty(status) => {
            r.insert(status.to_string(), json!({"description": "Success"}));
        }
        Success::Exposition => {
            let text = json!({"schema": {"type": "string"}});
            r.insert(
                "200".into(),
                json!({"description": "Metrics", "content": {"text/plain": text, "application/openmetrics-text": text}}),
            );
        }
    }
    let err = |r: &mut Map<String, Value>, status: &str| {
        r.insert(
            status.into(),
            json!({"$ref": format!("#/components/responses/E{status}")}),
        );
    };
    err(&mut r, "400");
    if route.min_role.is_some() || route.op == Op::Login {
        err(&mut r, "401");
    }
    if route
        .min_role
        .is_some_and(|role| role > crate::auth::accounts::Role::Monitor)
    {
        err(&mut r, "403");
    }
    if route.path.contains('{') {
        err(&mut r, "404");
    }
    if route.needs != Needs::NONE
        || matches!(
            route.op,
            Op::UpdateAccount
                | Op::CreateKey
                | Op::Logout
                | Op::Calibrate
                | Op::CreateProfile
                | Op::RenameProfile
                | Op::InstallCertificate
                | Op::CreateCsr
        )
    {
        err(&mut r, "409");
    }
    if facts.body.is_some() {
        err(&mut r, "413");
        err(&mut r, "415");
    }
    err(&mut r, "429");
    if matches!(facts.success, Success::EventStream(_)) || matches!(route.op, Op::Login | Op::UpdateAccount) {
        err(&mut r, "503");
    }
    r
}

fn components() -> Value {
    schemas::components()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_appears_with_its_role() {
        let config = crate::config::Config::from_toml("", std::path::Path::new("/"), "t.toml").unwrap();
        let doc = document(&config.device, &[]);
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["title"], TITLE);
        for route in ROUTES {
            let op = &doc["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
            assert_eq!(op["operationId"], facts(route.op).operation_id);
            let role = &op["x-nureva"]["minimumRoleRequired"];
            match route.min_role {
                None => assert!(role.is_null(), "{} {}", route.method, route.path),
                Some(r) => assert_eq!(role, r.as_str(), "{} {}", route.method, route.path),
            }
            assert!(doc["paths"][route.path]["x-nureva"].is_object(), "{}", route.path);
        }
        let settings = &doc["paths"]["/api/v1/settings"]["get"]["x-nureva"];
        assert_eq!(settings["requirementsFailed"]["supportedDeviceTypes"][0], "hdl200");
        assert!(doc["paths"]["/api/v1/audio"]["get"]["x-nureva"]["requirementsFailed"].is_null());
    }

    #[test]
    fn requirements_follow_the_model_and_firmware() {
        let load = |t: &str| crate::config::Config::from_toml(t, std::path::Path::new("/"), "t.toml").unwrap();
        let old = load("[device]\nfirmware_version = \"1.2.100-0\"");
        let doc = document(&old.device, &[]);
        let caps = &doc["paths"]["/api/v1/audio"]["patch"]["x-nureva"]["capabilities"];
        assert_eq!(caps["dynamicBoostEnabled"]["requirements"]["minimumFirmware"], "1.9");
        assert_eq!(
            caps["dynamicBoostEnabled"]["requirementsFailed"]["minimumFirmware"],
            "1.9"
        );
        assert!(caps["echoReductionLevel"]["requirementsFailed"].is_null(), "1.2 has it");
        assert!(caps.get("microphoneMute").is_none(), "in every firmware");
        let hdl410 = load("[device]\nmodel = \"hdl410\"");
        let doc = document(&hdl410.device, &[]);
        let caps = &doc["paths"]["/api/v1/audio"]["get"]["x-nureva"]["capabilities"];
        assert!(caps["voiceAmplificationGateThreshold"]["requirementsFailed"].is_null());
    }

    #[test]
    fn every_operation_is_documented_once() {
        for (i, a) in ROUTES.iter().enumerate() {
            assert!(!facts(a.op).summary.is_empty());
            assert_eq!(facts(a.op).body.is_some(), a.op.takes_body(), "{:?}", a.op);
            for b in &ROUTES[i + 1..] {
                assert_ne!(facts(a.op).operation_id, facts(b.op).operation_id);
            }
        }
    }
}
