//! The HTTP trigger: accepts connections (within the connection cap and the
//! header-read timeout), routes requests as Spin does, adds the `spin-*`
//! headers, and runs the matched component in a fresh instance.

use crate::app::App;
use crate::connections::{ConnGuard, Connections};
use crate::routes::RESERVED_PREFIX;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper_util::rt::TokioTimer;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// How the server treats its clients (docs/host.md, "Limits").
pub struct ServerLimits {
    /// The most connections open at once (see `connections`).
    pub connections: Arc<Connections>,
    /// How long a client may take to send a request head, and how long an
    /// idle keep-alive connection stays open.
    pub header_read_timeout: Option<Duration>,
}

/// The backlog of pending connections, as Spin's listener has it (the
/// standard library's 128 drops connection attempts in bursts).
const LISTEN_BACKLOG: u32 = 1024;

/// Binds `address` (`host:port`; `localhost` is 127.0.0.1 first, as on Spin).
pub async fn listen(address: &str) -> std::io::Result<TcpListener> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(address).await?.collect();
    let addr = addrs
        .iter()
        .find(|a| a.ip() == std::net::Ipv4Addr::LOCALHOST)
        .or(addrs.first())
        .copied()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "the address resolves to nothing"))?;
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Accepts connections until the process ends. A failed `accept` (out of
/// file descriptors, a connection reset before it was accepted) is logged
/// and retried after a pause, never fatal.
pub async fn serve(app: Arc<App>, listener: TcpListener, limits: ServerLimits) {
    let limits = Arc::new(limits);
    let mut pause = ACCEPT_RETRY_MIN;
    loop {
        limits.connections.room().await;
        match listener.accept().await {
            Ok((stream, client)) => {
                pause = ACCEPT_RETRY_MIN;
                let guard = limits.connections.open();
                tokio::spawn(serve_connection(app.clone(), stream, client, guard, limits.clone()));
            }
            Err(e) => {
                eprintln!("accepting a connection failed: {e} (retrying in {} ms)", pause.as_millis());
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(ACCEPT_RETRY_MAX);
            }
        }
    }
}

const ACCEPT_RETRY_MIN: Duration = Duration::from_millis(10);
const ACCEPT_RETRY_MAX: Duration = Duration::from_secs(1);

async fn serve_connection(
    app: Arc<App>,
    stream: TcpStream,
    client: SocketAddr,
    guard: ConnGuard,
    limits: Arc<ServerLimits>,
) {
    let _ = stream.set_nodelay(true);
    let Ok(local) = stream.local_addr() else { return };
    let guard = Arc::new(guard);
    let service = {
        let guard = guard.clone();
        hyper::service::service_fn(move |req| {
            let app = app.clone();
            // Busy until the response body has been sent (or dropped).
            let busy = guard.busy();
            async move {
                let resp = handle(app, req, client, local).await;
                Ok::<_, std::convert::Infallible>(resp.map(|body| {
                    body.map_frame(move |frame| {
                        let _busy = &busy;
                        frame
                    })
                    .boxed_unsync()
                }))
            }
        })
    };
    let mut builder = http1::Builder::new();
    builder.keep_alive(true).timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = guard.evicted() => {
            if guard.is_idle() {
                return; // dropped: closed at once
            }
            // A request arrived meanwhile: close after its response.
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        if !e.is_incomplete_message() && !e.is_timeout() {
            eprintln!("connection from {client}: {e}");
        }
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
    let full_url = format!("http://{host}{}", req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/"));
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
