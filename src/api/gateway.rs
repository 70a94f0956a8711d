//! Routes to the device's own services: `[[route]]` prefixes forwarded to an upstream
//! on the device (`http://127.0.0.1:PORT` or a Unix socket).
//!
//! The pipeline has already refused non-canonical paths (`api::canonical`), checked
//! the client headers, authenticated the caller, checked the route's role and read
//! the request body whole within the body limit and timeout. A route prefix matches
//! whole segments, case-sensitively, longest first; a path that matches a prefix only
//! when letter case is ignored (`/api/v1/svc/ADMIN` against `/api/v1/svc/admin`) is
//! refused (400 `non_canonical_path`), as an upstream that ignores case would serve
//! it as the stricter route. Forwarding then removes `Authorization`, hop-by-hop
//! headers (`Proxy-Connection` included) and anything an upstream could take as
//! roomgate's word about the caller or the request: `X-Roomgate-*`, `X-Forwarded-*`,
//! `Forwarded`, client-address headers (`X-Real-IP`, `True-Client-IP`…), path and
//! method overrides, and every name with `_` (CGI reads `X_Roomgate_Account` as
//! `X-Roomgate-Account`). It adds who the caller is (`X-Roomgate-Account`,
//! `X-Roomgate-Client-Id`, `X-Roomgate-Client-Version`, `X-Forwarded-For`,
//! `X-Forwarded-Proto`: `http` for a request from the plain-HTTP listener, else
//! `https`). The path that was matched and the query are forwarded unchanged; the
//! response body streams back without buffering, so an upstream event stream reaches
//! the client event by event. Connections to each upstream are pooled. An upstream
//! that refuses or dies gives 502; one that does not answer within the route's
//! timeout, 504.
//!
//! This module is the only one that uses hyper's client types.

use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, Uri, Version};
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::UnixStream;

use crate::auth::accounts::Role;
use crate::config::{RouteConfig, Upstream};
use crate::error::ApiError;
use crate::http_util::{Body, BodyError, PlainHttp};

/// Idle upstream connections kept per route.
const POOL_IDLE_PER_ROUTE: usize = 8;
/// An idle pooled upstream connection is closed after this.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Headers that describe one hop, never forwarded (RFC 9110 §7.6.1; `Proxy-Connection`
/// is the obsolete spelling some clients still send).
const HOP_BY_HOP: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    HeaderName::from_static("proxy-connection"),
];

/// Request headers an upstream could take as a trusted statement about the caller
/// (client address headers set by other proxies), or that would make it serve
/// another path or method than the one roomgate checked the role for.
const CLIENT_CLAIMS: [&str; 14] = [
    "forwarded",
    "x-real-ip",
    "true-client-ip",
    "x-client-ip",
    "x-cluster-client-ip",
    "client-ip",
    "cf-connecting-ip",
    "fastly-client-ip",
    "x-originating-ip",
    "x-original-url",
    "x-rewrite-url",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

/// Who the caller is, as told to the upstream.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The client address.
    pub remote: IpAddr,
    /// The authenticated account.
    pub account: Role,
    /// `Nureva-Client-Id`.
    pub client_id: &'a str,
    /// `Nureva-Client-Version`.
    pub client_version: &'a str,
}

/// Connects to a Unix socket whatever the URI says.
#[derive(Debug, Clone)]
struct UnixConnector(Arc<PathBuf>);

impl tower_service::Service<Uri> for UnixConnector {
    type Response = TokioIo<UnixStream>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let path = Arc::clone(&self.0);
        Box::pin(async move { Ok(TokioIo::new(UnixStream::connect(&*path).await?)) })
    }
}

#[derive(Debug, Clone)]
enum UpstreamClient {
    Http {
        client: Client<HttpConnector, Body>,
        authority: String,
    },
    Unix {
        client: Client<UnixConnector, Body>,
    },
}

/// One configured route with its pooled client.
#[derive(Debug)]
pub struct ProxyRoute {
    /// The route as configured.
    pub config: RouteConfig,
    client: UpstreamClient,
    /// Its request counters (labelled with the prefix; a reload starts them anew).
    pub(crate) stats: crate::metrics::Target,
}

/// All configured routes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gateway {
    routes: Vec<Arc<ProxyRoute>>,
}

impl Gateway {
    /// Pooled clients for the configured routes (already sorted longest first).
    pub(crate) fn new(routes: &[RouteConfig]) -> Gateway {
        let routes = routes
            .iter()
            .map(|config| {
                let client = match &config.upstream {
                    Upstream::Http { authority } => {
                        let mut connector = HttpConnector::new();
                        connector.set_nodelay(true);
                        connector.set_connect_timeout(Some(config.timeout));
                        UpstreamClient::Http {
                            client: pooled(connector),
                            authority: authority.clone(),
                        }
                    }
                    Upstream::Unix { path } => UpstreamClient::Unix {
                        client: pooled(UnixConnector(Arc::new(path.clone()))),
                    },
                };
                Arc::new(ProxyRoute {
                    config: config.clone(),
                    client,
                    stats: crate::metrics::Target::any_method(),
                })
            })
            .collect();
        Gateway { routes }
    }

    /// Every configured route, longest prefix first.
    pub(crate) fn routes(&self) -> &[Arc<ProxyRoute>] {
        &self.routes
    }

    /// The route serving `path`: the longest prefix that equals it or is followed by `/`.
    /// 400 when the path is under some prefix only if letter case is ignored: an
    /// upstream that ignores case would serve `/api/v1/svc/ADMIN` as the admin
    /// route's path while roomgate checked the role of `/api/v1/svc`.
    pub(crate) fn lookup(&self, path: &str) -> Result<Option<&Arc<ProxyRoute>>, ApiError> {
        if let Some(r) = self.routes.iter().find(|r| is_case_variant(path, &r.config.prefix)) {
            return Err(ApiError::bad_request(
                "non_canonical_path",
                format!(
                    "the request path differs from the route `{}` only in letter case",
                    r.config.prefix
                ),
            ));
        }
        Ok(self
            .routes
            .iter()
            .find(|r| crate::util::path_is_under(path, &r.config.prefix)))
    }
}

/// Whether `path` is under `prefix` when ASCII case is ignored but not as written.
fn is_case_variant(path: &str, prefix: &str) -> bool {
    let (path, prefix) = (path.as_bytes(), prefix.as_bytes());
    let (Some(head), Some(rest)) = (path.get(..prefix.len()), path.get(prefix.len()..)) else {
        return false;
    };
    head != prefix && head.eq_ignore_ascii_case(prefix) && (rest.is_empty() || rest[0] == b'/')
}

fn pooled<C>(connector: C) -> Client<C, Body>
where
    C: hyper_util::client::legacy::connect::Connect + Clone,
{
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .pool_max_idle_per_host(POOL_IDLE_PER_ROUTE)
        .build(connector)
}

/// Remove hop-by-hop headers, including those the `Connection` header names.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named.iter().chain(HOP_BY_HOP.iter()) {
        headers.remove(name);
    }
}

/// `X-Forwarded-Proto` of a request: `http` when it came over the plain-HTTP
/// listener, `https` otherwise.
fn forwarded_proto(extensions: &http::Extensions) -> &'static str {
    match extensions.get::<PlainHttp>() {
        Some(PlainHttp) => "http",
        None => "https",
    }
}

/// Whether a client's header (names arrive lower-case) must not reach an upstream
/// because only roomgate may say it. Any name with `_` goes: CGI, WSGI and PHP map
/// `-` and `_` to the same variable, so `X_Roomgate_Account` would read as
/// roomgate's `X-Roomgate-Account` (or, sent alongside it, win); no header the
/// vendor's clients send has one, and nginx drops them by default for the same reason.
fn is_spoofable(name: &str) -> bool {
    name.contains('_')
        || name.starts_with("x-roomgate-")
        || name.starts_with("x-forwarded-")
        || CLIENT_CLAIMS.contains(&name)
}

/// The headers sent upstream: the client's, minus credentials, hop-by-hop and
/// anything claiming to come from roomgate, plus who the caller is and the scheme
/// it used (`proto`).
fn upstream_headers(mut headers: HeaderMap, caller: &Caller<'_>, proto: &'static str) -> HeaderMap {
    strip_hop_by_hop(&mut headers);
    headers.remove(header::AUTHORIZATION);
    headers.remove(header::HOST);
    // roomgate has read the body; a client's expectation of `100 Continue` was ours.
    headers.remove(header::EXPECT);
    let spoofable: Vec<HeaderName> = headers.keys().filter(|k| is_spoofable(k.as_str())).cloned().collect();
    for name in spoofable {
        headers.remove(name);
    }
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_bytes(value.as_bytes()) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    set("x-roomgate-account", caller.account.as_str());
    set("x-roomgate-client-id", caller.client_id);
    set("x-roomgate-client-version", caller.client_version);
    set("x-forwarded-for", &caller.remote.to_string());
    set("x-forwarded-proto", proto);
    headers
}

fn unavailable() -> ApiError {
    ApiError::new(
        http::StatusCode::BAD_GATEWAY,
        "upstream_unavailable",
        "the device service for this path is not answering",
    )
}

impl ProxyRoute {
    /// Forward a request whose body the pipeline has read, and stream the answer back.
    /// The path sent is the one `Gateway::lookup` matched, as written (it is canonical,
    /// so there is no other spelling the upstream could be given).
    pub async fn forward(&self, req: Request<Bytes>, caller: &Caller<'_>) -> Result<Response<Body>, ApiError> {
        let (parts, body) = req.into_parts();
        let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let authority = match &self.client {
            UpstreamClient::Http { authority, .. } => authority.as_str(),
            UpstreamClient::Unix { .. } => "localhost",
        };
        let uri: Uri = format!("http://{authority}{path_and_query}")
            .parse()
            .map_err(|_| ApiError::bad_request("invalid_path", "the request path cannot be forwarded"))?;
        let body: Body = crate::http_util::full(body);
        let mut upstream = Request::new(body);
        *upstream.method_mut() = parts.method;
        *upstream.uri_mut() = uri;
        *upstream.version_mut() = Version::HTTP_11;
        *upstream.headers_mut() = upstream_headers(parts.headers, caller, forwarded_proto(&parts.extensions));

        let sent = match &self.client {
            UpstreamClient::Http { client, .. } => {
                tokio::time::timeout(self.config.timeout, client.request(upstream)).await
            }
            UpstreamClient::Unix { client } => {
                tokio::time::timeout(self.config.timeout, client.request(upstream)).await
            }
        };
        let response = match sent {
            Err(_) => {
                tracing::warn!(route = %self.config.prefix, upstream = %self.config.upstream, "upstream timed out");
                return Err(ApiError::new(
                    http::StatusCode::GATEWAY_TIMEOUT,
                    "upstream_timeout",
                    "the device service for this path did not answer in time",
                ));
            }
            Ok(Err(e)) => {
                tracing::warn!(route = %self.config.prefix, upstream = %self.config.upstream, error = %e, "upstream failed");
                return Err(unavailable());
            }
            Ok(Ok(response)) => response,
        };
        let (mut parts, body) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        let body = Body::stream(body.map_err(|e| -> BodyError { Box::new(e) }));
        Ok(Response::from_parts(parts, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_headers_drop_credentials_and_spoofs() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Nureva secret"));
        h.insert(header::CONNECTION, HeaderValue::from_static("keep-alive, x-private"));
        h.insert("x-private", HeaderValue::from_static("hop"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("x-roomgate-account", HeaderValue::from_static("admin"));
        h.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4"));
        h.insert(header::FORWARDED, HeaderValue::from_static("for=1.2.3.4"));
        h.insert("nureva-client-id", HeaderValue::from_static("Crestron"));
        h.insert(header::ACCEPT, HeaderValue::from_static("text/event-stream"));
        let caller = Caller {
            remote: "10.0.0.5".parse().unwrap(),
            account: Role::General,
            client_id: "Crestron",
            client_version: "2.1",
        };
        for (name, value) in [
            ("x_roomgate_account", "admin"),
            ("x_forwarded_for", "6.6.6.6"),
            ("nureva_client_id", "x"),
            ("x-real-ip", "6.6.6.6"),
            ("true-client-ip", "6.6.6.6"),
            ("x-client-ip", "6.6.6.6"),
            ("x-cluster-client-ip", "6.6.6.6"),
            ("client-ip", "6.6.6.6"),
            ("proxy-connection", "keep-alive"),
            ("x-original-url", "/api/v1/svc/admin"),
            ("x-http-method-override", "DELETE"),
            ("expect", "100-continue"),
        ] {
            h.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
        let out = upstream_headers(h.clone(), &caller, "https");
        for gone in [
            "x_roomgate_account",
            "x_forwarded_for",
            "nureva_client_id",
            "x-real-ip",
            "true-client-ip",
            "x-client-ip",
            "x-cluster-client-ip",
            "client-ip",
            "proxy-connection",
            "x-original-url",
            "x-http-method-override",
            "expect",
        ] {
            assert!(!out.contains_key(gone), "{gone}");
        }
        for gone in ["authorization", "connection", "x-private", "keep-alive", "forwarded"] {
            assert!(!out.contains_key(gone), "{gone}");
        }
        assert_eq!(out["x-roomgate-account"], "general");
        assert_eq!(out["x-roomgate-client-id"], "Crestron");
        assert_eq!(out["x-roomgate-client-version"], "2.1");
        assert_eq!(out["x-forwarded-for"], "10.0.0.5");
        assert_eq!(out.get_all("x-forwarded-for").iter().count(), 1);
        assert_eq!(out["accept"], "text/event-stream");
        assert_eq!(out["nureva-client-id"], "Crestron");
        assert_eq!(out["x-forwarded-proto"], "https");
        let mut plain = http::Extensions::new();
        assert_eq!(forwarded_proto(&plain), "https");
        plain.insert(PlainHttp);
        assert_eq!(forwarded_proto(&plain), "http");
        let out = upstream_headers(h, &caller, forwarded_proto(&plain));
        assert_eq!(out["x-forwarded-proto"], "http");
    }

    #[test]
    fn lookup_matches_whole_segments_longest_first() {
        let route = |prefix: &str| RouteConfig {
            prefix: prefix.into(),
            min_role: Role::General,
            upstream: Upstream::Http {
                authority: "127.0.0.1:1".into(),
            },
            methods: vec![http::Method::GET],
            timeout: Duration::from_secs(1),
            override_builtin: false,
        };
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let _guard = rt.enter();
        let g = Gateway::new(&[route("/api/v1/camera/ptz"), route("/api/v1/camera")]);
        let found = |p: &str| g.lookup(p).unwrap().map(|r| r.config.prefix.clone());
        assert_eq!(found("/api/v1/camera").as_deref(), Some("/api/v1/camera"));
        assert_eq!(found("/api/v1/camera/zoom").as_deref(), Some("/api/v1/camera"));
        assert_eq!(found("/api/v1/camera/ptz/left").as_deref(), Some("/api/v1/camera/ptz"));
        assert_eq!(found("/api/v1/camera/ptzx").as_deref(), Some("/api/v1/camera"));
        assert_eq!(found("/api/v1/cameras"), None);
        assert_eq!(found("/api/v1/audio"), None);
        // A case variant of a prefix is refused, whichever route it would fall under.
        for variant in [
            "/api/v1/camera/PTZ",
            "/api/v1/camera/Ptz/left",
            "/api/v1/Camera/ptz",
            "/api/v1/CAMERA",
        ] {
            assert_eq!(g.lookup(variant).unwrap_err().code(), "non_canonical_path", "{variant}");
        }
        assert_eq!(found("/api/v1/camera/PTZX").as_deref(), Some("/api/v1/camera"));
        assert_eq!(found("/api/v1/CAMERAS"), None);
    }
}
