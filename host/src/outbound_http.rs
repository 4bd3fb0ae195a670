//! Outbound HTTP of a component: `http://<component>.spin.internal/...` runs
//! that component in-process (Spin's service chaining); any other host is
//! sent over the network only if `allowed_outbound_hosts` allows it, else
//! the guest gets `HTTP-request-denied`, as on Spin. A `*.spin.internal`
//! host naming no component of the app is denied the same way (Spin does
//! not answer `destination-not-found` for it).
//!
//! This module does not know the app: it runs chained requests through the
//! [`Chain`] it is given (the app implements it), so the calls point down
//! from the app to here and never back.

use crate::allowed_hosts::AllowedHost;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::p2::types::{HostFutureIncomingResponse, IncomingResponse, OutgoingRequestConfig};
use wasmtime_wasi_http::p2::{default_send_request, HttpResult, WasiHttpHooks};

pub const CHAINING_SUFFIX: &str = ".spin.internal";

/// A response from a component run in-process, or why there is none.
pub type ChainedResponse = Result<hyper::Response<HyperOutgoingBody>, ErrorCode>;

/// The in-process side of service chaining: runs a request in another
/// component of the same app.
pub trait Chain: Send + Sync {
    /// Runs `request` in a fresh instance of component `id`; `None` when the
    /// app has no component of that name.
    fn run(
        self: Arc<Self>,
        id: &str,
        request: hyper::Request<HyperOutgoingBody>,
    ) -> Option<Pin<Box<dyn Future<Output = ChainedResponse> + Send>>>;
}

/// The `wasi:http` hooks of one instance: where its outgoing requests go.
pub struct OutboundHttp {
    /// The component making the requests (for the host's messages).
    pub component: Arc<str>,
    pub allowed_hosts: Arc<[AllowedHost]>,
    pub chain: Arc<dyn Chain>,
}

impl WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        request: hyper::Request<HyperOutgoingBody>,
        config: OutgoingRequestConfig,
    ) -> HttpResult<HostFutureIncomingResponse> {
        let uri = request.uri();
        let scheme = uri.scheme_str().unwrap_or("http").to_ascii_lowercase();
        let host = uri.host().unwrap_or_default().to_ascii_lowercase();
        let port = uri.port_u16().unwrap_or(if scheme == "https" { 443 } else { 80 });
        let allowed = self.allowed_hosts.iter().any(|a| a.allows(&scheme, &host, port));
        if !allowed {
            eprintln!(
                "component '{}' tried to send a request to {scheme}://{host}:{port}, which its allowed_outbound_hosts does not allow",
                self.component
            );
            return Ok(denied());
        }
        let Some(target_id) = host.strip_suffix(CHAINING_SUFFIX) else {
            return Ok(default_send_request(request, config));
        };
        let Some(response) = self.chain.clone().run(target_id, with_chaining_headers(request)) else {
            // Spin treats a `*.spin.internal` host that names no component of
            // the app as a destination that is not allowed, even when a
            // wildcard in allowed_outbound_hosts covers it.
            eprintln!(
                "component '{}' chained to unknown component '{target_id}': outbound network destination not allowed: {scheme}://{host}",
                self.component
            );
            return Ok(denied());
        };
        let first_byte_timeout = config.first_byte_timeout;
        let between_bytes_timeout = config.between_bytes_timeout;
        let handle = wasmtime_wasi::runtime::spawn(async move {
            Ok(match tokio::time::timeout(first_byte_timeout, response).await {
                Err(_elapsed) => Err(ErrorCode::ConnectionReadTimeout),
                Ok(Err(code)) => Err(code),
                Ok(Ok(resp)) => Ok(IncomingResponse { resp, worker: None, between_bytes_timeout }),
            })
        });
        Ok(HostFutureIncomingResponse::pending(handle))
    }
}

fn denied() -> HostFutureIncomingResponse {
    HostFutureIncomingResponse::ready(Ok(Err(ErrorCode::HttpRequestDenied)))
}

/// Chained requests carry the same `spin-*` headers an inbound one would,
/// with the whole path as path info (a private component has no route).
fn with_chaining_headers(mut request: hyper::Request<HyperOutgoingBody>) -> hyper::Request<HyperOutgoingBody> {
    let full_url = request.uri().to_string();
    let path = request.uri().path().to_string();
    let headers = request.headers_mut();
    for (name, value) in [
        ("spin-full-url", full_url.as_str()),
        ("spin-path-info", path.as_str()),
        ("spin-matched-route", "/..."),
        ("spin-component-route", ""),
        ("spin-raw-component-route", "/..."),
        ("spin-base-path", "/"),
        ("spin-client-addr", "127.0.0.1:0"),
    ] {
        if let Ok(v) = http::HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    }
    request
}
