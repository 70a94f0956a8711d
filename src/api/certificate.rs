//! Operator certificate endpoints (admin): show the certificate served, make a
//! certificate signing request, install a signed chain.
//!
//! The checks and files are [`crate::certificate`]'s, shared with the console. An
//! installation is applied live through the reload task ([`App::apply_certificate`]):
//! new connections get the new chain, open ones keep their TLS session. If the
//! service cannot use what was written, the previous files are put back.
//!
//! [`App::apply_certificate`]: crate::app::App::apply_certificate

use http::{Response, StatusCode};
use serde_json::{Value, json};

use crate::api::Ctx;
use crate::api::body::{object, only_fields, string_field};
use crate::certificate::{self as cert, CertError};
use crate::error::ApiError;
use crate::http_util::{Body, json_response};

/// One installation at a time (the check, the writes and the swap belong together).
static INSTALLING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl From<CertError> for ApiError {
    fn from(e: CertError) -> Self {
        match e.code() {
            Some(code) if e.is_conflict() => ApiError::conflict(code, e.to_string()),
            Some(code) => ApiError::bad_request(code, e.to_string()),
            None => {
                tracing::error!(error = %e, "certificate operation failed");
                ApiError::internal()
            }
        }
    }
}

fn now() -> i64 {
    i64::try_from(crate::util::now()).unwrap_or(i64::MAX)
}

/// The document of the certificate served.
fn document(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let live = ctx.app.certificate().ok_or_else(ApiError::internal)?;
    let config = ctx.app.config();
    let view = cert::view(
        &config.tls,
        &live.leaf,
        live.chain_len,
        config.tls.expiry_warning,
        now(),
    )
    .ok_or_else(ApiError::internal)?;
    serde_json::to_value(view).map_err(|_| ApiError::internal())
}

/// `GET /api/v1/security/certificate`
pub(crate) fn get(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    Ok(json_response(StatusCode::OK, &document(ctx)?))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, CertError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(ApiError::from)
}

/// `POST /api/v1/security/certificate/csr` `{"newKey": bool}` (body optional) →
/// `{"csr": PEM, "newKey": bool}`.
pub(crate) async fn create_csr(ctx: &Ctx<'_>, body: Option<Value>) -> Result<Response<Body>, ApiError> {
    let new_key = match &body {
        None => false,
        Some(body) => {
            let obj = object(body)?;
            only_fields(obj, &["newKey"])?;
            match obj.get("newKey") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(ApiError::bad_request("invalid_type", "`newKey` must be a boolean")),
            }
        }
    };
    let config = ctx.app.config();
    let (tls, name) = (config.tls.clone(), config.device.name.clone());
    drop(config);
    let result = blocking(move || cert::create_csr(&tls, &name, new_key)).await;
    let csr = match result {
        Ok(csr) => csr,
        Err(e) => {
            ctx.audit("certificate_request", "failure", None);
            return Err(e);
        }
    };
    ctx.audit(
        "certificate_request",
        "success",
        Some(if new_key { "new key" } else { "device key" }),
    );
    Ok(json_response(StatusCode::OK, &json!({"csr": csr, "newKey": new_key})))
}

/// `PUT /api/v1/security/certificate` `{"chain": PEM}` → the new certificate's
/// document. Refused (nothing changed): `invalid_certificate`,
/// `certificate_key_mismatch`, `certificate_not_valid_now`,
/// `certificate_names_not_covered`, `certificate_operator_supplied`.
pub(crate) async fn install(ctx: &Ctx<'_>, body: Value) -> Result<Response<Body>, ApiError> {
    let obj = object(&body)?;
    only_fields(obj, &["chain"])?;
    let chain = string_field(obj, "chain")?.to_string();
    let _one = INSTALLING.lock().await;
    let tls = ctx.app.config().tls.clone();
    let cfg = tls.clone();
    let installed = match blocking(move || cert::install(&cfg, &chain, now())).await {
        Ok(installed) => installed,
        Err(e) => {
            let code = e.code();
            ctx.audit("certificate_install", "failure", Some(code));
            return Err(e);
        }
    };
    match ctx.app.apply_certificate().await {
        Some(Ok(fingerprint)) if fingerprint == installed.fingerprint => {}
        // No listener (the pipeline without a socket): the files are in place.
        None => {}
        Some(other) => {
            let reason = match other {
                Ok(fingerprint) => format!("the service loaded {fingerprint} instead"),
                Err(reason) => reason,
            };
            tracing::error!("the installed certificate could not be applied ({reason}); the previous one is put back");
            let previous = installed.previous;
            if let Err(e) = blocking(move || cert::roll_back(&tls, previous)).await {
                tracing::error!(error = ?e.code(), "the previous certificate could not be put back");
            }
            let _ = ctx.app.apply_certificate().await;
            ctx.audit("certificate_install", "failure", Some("apply"));
            return Err(ApiError::internal());
        }
    }
    ctx.audit("certificate_install", "success", Some(&installed.fingerprint));
    if installed.promoted_key {
        tracing::info!("the pending key is now the device key");
    }
    Ok(json_response(StatusCode::OK, &document(ctx)?))
}
