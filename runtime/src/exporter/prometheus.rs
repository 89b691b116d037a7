//! `metrics = "prometheus"`: the SDK's Prometheus reader, and the `/metrics` endpoint that
//! serves its text exposition, on a thread of its own with a one-thread tokio runtime (so it
//! answers scrapes whatever the program's runtime is doing, or when it has none). Anyone who
//! can reach the port is a client: connections are capped, slow ones closed, accept errors
//! waited out.

use std::collections::VecDeque;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs as _};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use http::{Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::{TokioIo, TokioTimer};
use opentelemetry_prometheus::PrometheusExporter;
use prometheus::{Encoder as _, Registry, TextEncoder};
use tokio::task::AbortHandle;

/// The reader to add to the meter provider, and the registry it fills on each scrape.
pub(crate) fn reader() -> Result<(PrometheusExporter, Registry), String> {
    let registry = Registry::new();
    let reader = opentelemetry_prometheus::exporter()
        .with_registry(registry.clone())
        .build()
        .map_err(|error| error.to_string())?;
    Ok((reader, registry))
}

/// How many connections the endpoint keeps open at once: far below the usual limit of 1,024
/// file descriptors, which the program needs for itself.
const MAX_CONNECTIONS: usize = 128;

/// How long a client has to send its request header (a scraper sends it at once).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a connection may stay open in all: one request, its answer, and no keep-alive.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest pause after a failed accept (out of file descriptors, say) before the next.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// The running `/metrics` endpoint; stopped by [`stop`](Self::stop) at shutdown.
#[derive(Debug)]
pub(crate) struct Endpoint {
    stop: tokio::sync::oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

impl Endpoint {
    /// Serves `registry` at `http://{address}/metrics`, on every address the host part
    /// resolves to (`localhost` is often both `127.0.0.1` and `::1`). The addresses are bound
    /// here: none bound is an error for the caller; an address that could not be bound when
    /// another was is a warning naming it.
    pub(crate) fn start(address: &str, registry: Registry) -> Result<Endpoint, String> {
        let listeners = bind_all(address)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("otel-prometheus".into())
            .spawn(move || serve(listeners, registry, stopped))
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

/// A listener per address `address` resolves to.
fn bind_all(address: &str) -> Result<Vec<TcpListener>, String> {
    let resolved: Vec<SocketAddr> = address
        .to_socket_addrs()
        .map_err(|error| format!("could not resolve {address}: {error}"))?
        .collect();
    let (listeners, failed) = bind_each(&resolved);
    if listeners.is_empty() {
        return Err(format!(
            "could not listen on {address}: {}",
            failed.join(", ")
        ));
    }
    if !failed.is_empty() {
        crate::diagnostics::warn_once(&format!(
            "the Prometheus endpoint listens on {} but not on {}, which {address} also \
             resolves to: a scraper using that address reaches whatever listens there",
            listeners
                .iter()
                .filter_map(|listener| listener.local_addr().ok())
                .map(|bound| bound.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            failed.join(", ")
        ));
    }
    Ok(listeners)
}

/// Binds each address: the listeners, and each address that failed with why.
fn bind_each(addresses: &[SocketAddr]) -> (Vec<TcpListener>, Vec<String>) {
    let mut listeners = Vec::new();
    let mut failed = Vec::new();
    for address in addresses {
        match TcpListener::bind(address)
            .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
        {
            Ok(listener) => listeners.push(listener),
            Err(error) => failed.push(format!("{address} ({error})")),
        }
    }
    (listeners, failed)
}

/// The endpoint's thread: accepts connections on every listener until told to stop (or the
/// sender is gone), then drops the runtime, which closes the connections still open.
fn serve(
    listeners: Vec<TcpListener>,
    registry: Registry,
    stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
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
    let connections = Connections::default();
    for listener in listeners {
        let listener = match runtime.block_on(async { tokio::net::TcpListener::from_std(listener) })
        {
            Ok(listener) => listener,
            Err(error) => {
                crate::diagnostics::warn_once(&format!("the Prometheus endpoint failed: {error}"));
                continue;
            }
        };
        runtime.spawn(accept_loop(listener, registry.clone(), connections.clone()));
    }
    let _ = runtime.block_on(stopped);
}

/// Accepts connections for as long as the endpoint runs. A failed accept (no file descriptor
/// left, say) waits before the next try, doubling the wait up to [`MAX_ACCEPT_BACKOFF`], rather
/// than spinning on a CPU.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    registry: Registry,
    connections: Connections,
) {
    let mut backoff = Duration::from_millis(10);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => {
                backoff = Duration::from_millis(10);
                stream
            }
            Err(_) => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_ACCEPT_BACKOFF);
                continue;
            }
        };
        let Some(slot) = connections.admit() else {
            // Every slot is serving a request: this one is closed at once.
            continue;
        };
        let registry = registry.clone();
        let id = slot.id;
        let task = tokio::spawn(async move {
            let request_read = slot.request_read.clone();
            let service = hyper::service::service_fn(move |request| {
                request_read.store(true, Ordering::Relaxed);
                let response = respond(&request, &registry);
                async move { Ok::<_, std::convert::Infallible>(response) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_TIMEOUT, connection).await;
            slot.close();
        });
        connections.started(id, task.abort_handle());
    }
}

/// The open connections, oldest first. When all [`MAX_CONNECTIONS`] are taken, a new one
/// closes the oldest that has not yet sent its request: a client that opens connections and
/// never finishes its header cannot keep a scraper out, nor take the program's file
/// descriptors.
#[derive(Debug, Clone, Default)]
struct Connections(Arc<Mutex<Open>>);

#[derive(Debug, Default)]
struct Open {
    next_id: u64,
    slots: VecDeque<OpenSlot>,
}

#[derive(Debug)]
struct OpenSlot {
    id: u64,
    request_read: Arc<AtomicBool>,
    /// Set once the connection's task is spawned.
    abort: Option<AbortHandle>,
}

/// A connection's place in [`Connections`]; [`close`](Self::close) gives it back.
struct Slot {
    id: u64,
    request_read: Arc<AtomicBool>,
    connections: Connections,
}

impl Connections {
    /// A slot for a new connection, making room when needed; `None` when every connection is
    /// busy serving a request.
    fn admit(&self) -> Option<Slot> {
        let mut open = crate::sync::lock(&self.0);
        if open.slots.len() >= MAX_CONNECTIONS {
            let waiting = open
                .slots
                .iter()
                .position(|slot| !slot.request_read.load(Ordering::Relaxed))?;
            if let Some(evicted) = open.slots.remove(waiting)
                && let Some(abort) = evicted.abort
            {
                abort.abort();
            }
        }
        open.next_id += 1;
        let id = open.next_id;
        let request_read = Arc::new(AtomicBool::new(false));
        open.slots.push_back(OpenSlot {
            id,
            request_read: request_read.clone(),
            abort: None,
        });
        Some(Slot {
            id,
            request_read,
            connections: self.clone(),
        })
    }

    /// The task serving slot `id` (gone already if the connection ended).
    fn started(&self, id: u64, abort: AbortHandle) {
        if let Some(slot) = crate::sync::lock(&self.0)
            .slots
            .iter_mut()
            .find(|slot| slot.id == id)
        {
            slot.abort = Some(abort);
        }
    }
}

impl Slot {
    fn close(self) {
        let mut open = crate::sync::lock(&self.connections.0);
        if let Some(index) = open.slots.iter().position(|slot| slot.id == self.id) {
            open.slots.remove(index);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_address_is_bound_and_the_one_taken_is_named() {
        let taken = TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = taken.local_addr().expect("its address").port();
        let addresses: Vec<SocketAddr> = [format!("127.0.0.1:{port}"), format!("127.0.0.2:{port}")]
            .iter()
            .map(|address| address.parse().expect("an address"))
            .collect();
        let (listeners, failed) = bind_each(&addresses);
        assert_eq!(listeners.len(), 1);
        assert_eq!(
            listeners[0].local_addr().expect("bound").to_string(),
            format!("127.0.0.2:{port}")
        );
        assert_eq!(failed.len(), 1);
        assert!(
            failed[0].starts_with(&format!("127.0.0.1:{port} (")),
            "{failed:?}"
        );
    }
}
