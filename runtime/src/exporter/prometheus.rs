//! `metrics = "prometheus"`: the SDK's Prometheus reader, and the `/metrics` endpoint that
//! serves its text exposition, on a thread of its own with a one-thread tokio runtime (so it
//! answers scrapes whatever the program's runtime is doing, or when it has none).

use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::Duration;

use http::{Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use opentelemetry_prometheus::PrometheusExporter;
use prometheus::{Encoder as _, Registry, TextEncoder};

/// The reader to add to the meter provider, and the registry it fills on each scrape.
pub(crate) fn reader() -> Result<(PrometheusExporter, Registry), String> {
    let registry = Registry::new();
    let reader = opentelemetry_prometheus::exporter()
        .with_registry(registry.clone())
        .build()
        .map_err(|error| error.to_string())?;
    Ok((reader, registry))
}

/// The running `/metrics` endpoint; stopped by [`stop`](Self::stop) at shutdown.
#[derive(Debug)]
pub(crate) struct Endpoint {
    stop: tokio::sync::oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

impl Endpoint {
    /// Serves `registry` at `http://{address}/metrics`. The address is bound here, so a
    /// port already in use is reported to the caller at once.
    pub(crate) fn start(address: &str, registry: Registry) -> Result<Endpoint, String> {
        let listener = TcpListener::bind(address)
            .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
            .map_err(|error| format!("could not listen on {address}: {error}"))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("otel-prometheus".into())
            .spawn(move || serve(listener, registry, stopped))
            .map_err(|error| format!("could not start its thread: {error}"))?;
        Ok(Endpoint { stop, thread })
    }

    /// Stops serving and waits for the thread, at most `timeout`.
    pub(crate) fn stop(self, timeout: Duration) {
        let _ = self.stop.send(());
        let deadline = std::time::Instant::now() + timeout;
        while !self.thread.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if self.thread.is_finished() {
            let _ = self.thread.join();
        }
    }
}

/// The endpoint's thread: accepts connections until told to stop (or the sender is gone),
/// then drops the runtime, which cancels the connections still open.
fn serve(listener: TcpListener, registry: Registry, stopped: tokio::sync::oneshot::Receiver<()>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            crate::diagnostics::warn_once(&format!(
                "the Prometheus endpoint could not start its runtime: {error}"
            ));
            return;
        }
    };
    let listener = match runtime.block_on(async { tokio::net::TcpListener::from_std(listener) }) {
        Ok(listener) => listener,
        Err(error) => {
            crate::diagnostics::warn_once(&format!("the Prometheus endpoint failed: {error}"));
            return;
        }
    };
    runtime.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let registry = registry.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let response = respond(&request, &registry);
                    async move { Ok::<_, std::convert::Infallible>(response) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let _ = runtime.block_on(stopped);
}

/// `GET /metrics`: the text exposition of what the reader collects now; anything else 404.
fn respond(request: &Request<Incoming>, registry: &Registry) -> Response<Full<Bytes>> {
    if request.uri().path() != "/metrics" {
        return text(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found; metrics are at /metrics\n".into(),
        );
    }
    let encoder = TextEncoder::new();
    let mut body = Vec::new();
    match encoder.encode(&registry.gather(), &mut body) {
        Ok(()) => text(StatusCode::OK, encoder.format_type(), body),
        Err(error) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            format!("encoding the metrics failed: {error}\n").into_bytes(),
        ),
    }
}

fn text(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}
