//! The baseline roomgate is measured against: hyper 1 + hyper-util `auto` over
//! tokio-rustls with the same TLS settings as roomgate (ring, TLS 1.3 and 1.2, ALPN h2
//! and http/1.1, session tickets, the server's cipher order) and the same HTTP limits,
//! answering every request with the same JSON body and headers roomgate sends for
//! `GET /api/v1/audio` — and nothing else: no authentication, no routing, no limits.
//!
//!   reference-server LISTEN_ADDR CERT_PEM KEY_PEM

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

const BODY: &[u8] = br#"{"microphoneMute":false,"audienceMute":false,"microphonePickupState":"Mono","microphoneGain":0,"speakerVolume":50,"speakerTrebleLevel":50,"speakerBassLevel":50,"echoReductionLevel":"Medium","noiseReductionLevel":"Medium","auxiliaryOutputState":"LineLevel","voiceAmplificationEnabled":false,"voiceAmplificationLevel":20,"voiceAmplificationAuxInLevel":"Line","dynamicBoostEnabled":false,"microphoneDuckingEnabled":false,"voiceAmplificationGateThreshold":128,"voiceAmplificationUsbOutputGainLevel":20}"#;

async fn answer(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut resp = Response::new(Full::new(Bytes::from_static(BODY)));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(resp)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, listen, cert, key] = &args[..] else {
        eprintln!("usage: reference-server LISTEN_ADDR CERT_PEM KEY_PEM");
        std::process::exit(2);
    };
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(cert).expect("cert").collect::<Result<_, _>>().expect("cert");
    let key = PrivateKeyDer::from_pem_file(key).expect("key");
    // roomgate's provider: ring's suites with AES-128-GCM/SHA-256 first (src/transport/tls.rs).
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites.sort_by_key(|suite| {
        !matches!(
            suite.suite(),
            rustls::CipherSuite::TLS13_AES_128_GCM_SHA256
                | rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
                | rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        )
    });
    let mut tls = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("certificate");
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tls.ignore_client_order = true;
    tls.ticketer = rustls::crypto::ring::Ticketer::new().expect("ticketer");
    tls.send_tls13_tickets = 1;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().keep_alive(true).max_buf_size(16 * 1024).max_headers(64);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(32)
        .max_header_list_size(16 * 1024)
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20));
    let builder = Arc::new(builder);

    let listener = tokio::net::TcpListener::bind(listen).await.expect("bind");
    eprintln!("listening on https://{}", listener.local_addr().expect("addr"));
    loop {
        let Ok((tcp, _)) = listener.accept().await else { continue };
        let _ = tcp.set_nodelay(true);
        let (acceptor, builder) = (acceptor.clone(), Arc::clone(&builder));
        tokio::spawn(async move {
            let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await else {
                return;
            };
            let _ = builder.serve_connection(TokioIo::new(tls), service_fn(answer)).await;
        });
    }
}
