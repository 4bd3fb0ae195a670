//! The HTTP trigger: accepts requests, routes them as Spin does, adds the
//! `spin-*` headers, and runs the matched component in a fresh instance.

use crate::app::App;
use crate::routes::RESERVED_PREFIX;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

pub async fn serve(app: Arc<App>, listener: TcpListener) -> anyhow::Result<()> {
    loop {
        let (stream, client) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let local = stream.local_addr()?;
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(app, req, client, local).await) }
            });
            if let Err(e) = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await {
                if !e.is_incomplete_message() {
                    eprintln!("connection from {client}: {e}");
                }
            }
        });
    }
}

fn text(status: u16, body: &'static str) -> hyper::Response<HyperOutgoingBody> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(Full::new(Bytes::from_static(body.as_bytes())).map_err(|never| match never {}).boxed_unsync())
        .expect("static response")
}

async fn handle(
    app: Arc<App>,
    mut req: hyper::Request<hyper::body::Incoming>,
    client: SocketAddr,
    local: SocketAddr,
) -> hyper::Response<HyperOutgoingBody> {
    let path = req.uri().path().to_string();
    if path.starts_with(RESERVED_PREFIX) {
        return match path.as_str() {
            "/.well-known/spin/health" => text(200, "OK"),
            _ => text(404, "Not Found"),
        };
    }
    let Some(matched) = app.router.route_for(&path) else {
        return text(404, "Not Found");
    };
    let Some(component) = app.components.get(&matched.route.component).cloned() else {
        return text(500, "Internal Server Error");
    };
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| local.to_string());
    let full_url = format!(
        "http://{host}{}",
        req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    let component_route = matched.route.base.trim_end_matches('/').to_string();
    let headers = req.headers_mut();
    for (name, value) in [
        ("spin-full-url", full_url),
        ("spin-path-info", matched.path_info.clone()),
        ("spin-matched-route", matched.route.raw.clone()),
        ("spin-base-path", "/".to_string()),
        ("spin-raw-component-route", matched.route.raw.clone()),
        ("spin-component-route", component_route),
        ("spin-client-addr", client.to_string()),
    ] {
        if let Ok(v) = http::HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    // The URI must be absolute for wasi:http's authority; keep the path.
    let pq = req.uri().path_and_query().cloned();
    if let Ok(uri) = http::Uri::builder()
        .scheme("http")
        .authority(host.as_str())
        .path_and_query(pq.map(|p| p.to_string()).unwrap_or_else(|| "/".into()))
        .build()
    {
        *req.uri_mut() = uri;
    }
    match app.invoke(&component, req).await {
        Ok(resp) => resp,
        Err(_) => text(500, "Internal Server Error"),
    }
}
