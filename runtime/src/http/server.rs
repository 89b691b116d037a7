//! The server side: a tower [`Layer`] that makes every request a server span, current while
//! the handler runs, and records the HTTP server metrics.

use std::borrow::Cow;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use http::{HeaderValue, Request, Response, Version};
use opentelemetry::metrics::{Histogram, UpDownCounter};
use opentelemetry::trace::{
    SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue, global};
use tower_layer::Layer;
use tower_service::Service;

use super::captured::{CapturedHeaders, Side};
use super::excluded::{self, ExcludedUrls};
use super::headers::HeaderExtractor;

/// Instruments every request of the service it wraps: a server span named `{method} {route}`
/// (or `{method}` when no route template is known) with the HTTP semantic-convention
/// attributes, continuing the caller's trace from the incoming headers (through the installed
/// propagators), current while the handler runs so `#[otel::span]` functions and logs inside
/// join it; `http.server.request.duration` and `http.server.active_requests`; and the
/// `traceresponse` header on the response.
///
/// Responses with a 5xx status, handler errors and panics mark the span failed; 4xx do not
/// (the server did its job). With the `axum` feature the route is axum's template
/// (`/items/{id}`), so a path with many values makes one span name and one metric series.
///
/// ```
/// // With axum: `Router::new().route("/items/{id}", get(item)).layer(layer)`; with any tower
/// // service: `tower::ServiceBuilder::new().layer(layer).service(service)`.
/// let layer = otel::http::ServerLayer::new()
///     .exclude("/health$")
///     .trace_response(true);
/// # let _ = layer;
/// ```
#[derive(Debug, Clone)]
pub struct ServerLayer {
    options: Options,
    shared: Arc<Shared>,
}

/// What the builder was told, kept to build [`Shared`] again after each step.
#[derive(Debug, Clone)]
struct Options {
    patterns: Vec<String>,
    trace_response: bool,
    record_query: bool,
    request_headers: Vec<String>,
    response_headers: Vec<String>,
}

#[derive(Debug)]
struct Shared {
    excluded: ExcludedUrls,
    trace_response: bool,
    record_query: bool,
    request_headers: Option<CapturedHeaders>,
    response_headers: Option<CapturedHeaders>,
    instruments: super::PerGeneration<Instruments>,
    tracer: super::PerGeneration<Arc<global::BoxedTracer>>,
}

#[derive(Debug, Clone)]
struct Instruments {
    duration: Histogram<f64>,
    active: UpDownCounter<i64>,
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("otel.http.server")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

impl Default for ServerLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerLayer {
    /// A layer that instruments every request, except URLs matching
    /// `OTEL_RUST_EXCLUDED_URLS` (comma-separated regular expressions), and returns the
    /// `traceresponse` header.
    pub fn new() -> Self {
        Self::build(Options {
            patterns: Vec::new(),
            trace_response: true,
            record_query: false,
            request_headers: Vec::new(),
            response_headers: Vec::new(),
        })
    }

    /// Leaves requests whose URL (`scheme://host/path?query`, or the path when the host is
    /// unknown) matches the regular expression `pattern` uninstrumented: no span, no metric.
    /// Adds to `OTEL_RUST_EXCLUDED_URLS`.
    pub fn exclude(self, pattern: impl Into<String>) -> Self {
        let mut options = self.options;
        options.patterns.push(pattern.into());
        Self::build(options)
    }

    /// Whether responses carry the server span's context in a `traceresponse` header (W3C
    /// Trace Context Level 2), so a caller can find the trace. On by default.
    pub fn trace_response(self, enabled: bool) -> Self {
        Self::build(Options {
            trace_response: enabled,
            ..self.options
        })
    }

    /// Whether spans record `url.query`. Off by default: query strings often carry tokens.
    pub fn record_query(self, enabled: bool) -> Self {
        Self::build(Options {
            record_query: enabled,
            ..self.options
        })
    }

    /// Records these request headers as `http.request.header.<name>` (names are
    /// case-insensitive regular expressions), next to
    /// `OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST`. Credentials
    /// (`authorization`, cookies, and names in
    /// `OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS`) are recorded as
    /// `[REDACTED]`.
    pub fn capture_request_headers(
        self,
        names: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        let mut options = self.options;
        options
            .request_headers
            .extend(names.into_iter().map(Into::into));
        Self::build(options)
    }

    /// Records these response headers as `http.response.header.<name>`, next to
    /// `OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE`, redacted as
    /// [`capture_request_headers`](Self::capture_request_headers) says.
    pub fn capture_response_headers(
        self,
        names: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        let mut options = self.options;
        options
            .response_headers
            .extend(names.into_iter().map(Into::into));
        Self::build(options)
    }

    fn build(options: Options) -> Self {
        let env = std::env::var(excluded::VARIABLE).ok();
        let excluded =
            ExcludedUrls::new(options.patterns.iter().map(String::as_str), env.as_deref());
        Self {
            shared: Arc::new(Shared {
                excluded,
                trace_response: options.trace_response,
                record_query: options.record_query,
                request_headers: CapturedHeaders::from_env(
                    Side::ServerRequest,
                    &options.request_headers,
                ),
                response_headers: CapturedHeaders::from_env(
                    Side::ServerResponse,
                    &options.response_headers,
                ),
                instruments: super::PerGeneration::new(),
                tracer: super::PerGeneration::new(),
            }),
            options,
        }
    }
}

impl<S> Layer<S> for ServerLayer {
    type Service = ServerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ServerService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// A service wrapped by [`ServerLayer`].
#[derive(Debug, Clone)]
pub struct ServerService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S, B, R> Service<Request<B>> for ServerService<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, task: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(task)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let shared = &self.shared;
        let host = host(&request);
        if !shared.excluded.is_empty()
            && shared
                .excluded
                .excludes(&full_url(&request, host.as_deref()))
        {
            return ResponseFuture {
                inner: self.inner.call(request),
                recording: None,
            };
        }
        let recording = Recording::start(shared.clone(), &request, host.as_deref());
        let inner = {
            let _current = recording.cx.clone().attach();
            self.inner.call(request)
        };
        ResponseFuture {
            inner,
            recording: Some(recording),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response of a [`ServerService`]: its span is current on every poll and ends with
    /// the response.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        recording: Option<Recording>,
    }
}

impl<F, R, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = Result<Response<R>, E>;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(recording) = this.recording.as_ref() else {
            return this.inner.poll(task);
        };
        let current = recording.cx.clone().attach();
        let watch = PanicWatch(&recording.panicked);
        let Poll::Ready(mut result) = this.inner.poll(task) else {
            return Poll::Pending;
        };
        drop(watch);
        if let Some(recording) = this.recording.take() {
            recording.finish(&mut result);
        }
        drop(current);
        Poll::Ready(result)
    }
}

/// One request's span and metric attributes, from its start to its response.
#[derive(Debug)]
struct Recording {
    shared: Arc<Shared>,
    /// Fetched once per request: the in-flight decrement goes where the increment went.
    instruments: Instruments,
    cx: Context,
    started: Instant,
    /// `http.request.method`, `url.scheme`: the in-flight counter's attributes, and the
    /// start of the duration's.
    common: [KeyValue; 2],
    route: Option<String>,
    version: &'static str,
    finished: bool,
    /// Set when the handler panicked while polled: the runtime catches the panic and drops
    /// the future later, no longer unwinding.
    panicked: Cell<bool>,
}

/// Notes a panic that unwinds through a poll of the handler.
struct PanicWatch<'a>(&'a Cell<bool>);

impl Drop for PanicWatch<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.set(true);
        }
    }
}

impl Recording {
    fn start<B>(shared: Arc<Shared>, request: &Request<B>, host: Option<&str>) -> Self {
        let method = method(request);
        let route = route(request);
        let scheme = scheme(request);
        let version = version(request.version());
        let name: Cow<'static, str> = match &route {
            Some(route) => format!("{method} {route}").into(),
            None if method == "_OTHER" => "HTTP".into(),
            None => method.into(),
        };
        let mut attributes = vec![
            KeyValue::new("http.request.method", method),
            KeyValue::new("url.path", request.uri().path().to_owned()),
            KeyValue::new("url.scheme", scheme),
            KeyValue::new("network.protocol.version", version),
        ];
        if method == "_OTHER" {
            attributes.push(KeyValue::new(
                "http.request.method_original",
                request.method().as_str().to_owned(),
            ));
        }
        if let Some(route) = &route {
            attributes.push(KeyValue::new("http.route", route.clone()));
        }
        if shared.record_query
            && let Some(query) = request.uri().query()
        {
            attributes.push(KeyValue::new("url.query", query.to_owned()));
        }
        if let Some(host) = host {
            let (address, port) = split_host(host);
            attributes.push(KeyValue::new("server.address", address.to_owned()));
            if let Some(port) = port {
                attributes.push(KeyValue::new("server.port", i64::from(port)));
            }
        }
        if let Some(client) = client_address(request) {
            attributes.push(KeyValue::new("client.address", client));
        }
        if let Some(agent) = header_text(request, http::header::USER_AGENT) {
            attributes.push(KeyValue::new("user_agent.original", agent.to_owned()));
        }
        if let Some(captured) = &shared.request_headers {
            captured.record(request.headers(), &mut attributes);
        }

        let parent = global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderExtractor(request.headers()))
        });
        let tracer = shared.tracer();
        let span = tracer
            .span_builder(name)
            .with_kind(SpanKind::Server)
            .with_attributes(attributes)
            .start_with_context(&*tracer, &parent);
        let cx = parent.with_span(span);
        let common = [
            KeyValue::new("http.request.method", method),
            KeyValue::new("url.scheme", scheme),
        ];
        let instruments = shared.instruments();
        instruments.active.add(1, &common);
        Self {
            instruments,
            shared,
            cx,
            started: Instant::now(),
            common,
            route,
            version,
            finished: false,
            panicked: Cell::new(false),
        }
    }

    /// Records the response (or the handler's error) and ends the span.
    fn finish<R, E>(mut self, result: &mut Result<Response<R>, E>) {
        self.finished = true;
        let span = self.cx.span();
        let error_type = match result {
            Ok(response) => {
                let status = response.status();
                span.set_attribute(KeyValue::new(
                    "http.response.status_code",
                    i64::from(status.as_u16()),
                ));
                if let Some(captured) = &self.shared.response_headers {
                    let mut headers = Vec::new();
                    captured.record(response.headers(), &mut headers);
                    span.set_attributes(headers);
                }
                if self.shared.trace_response
                    && let Some(value) = trace_response(&self.cx)
                {
                    response.headers_mut().insert("traceresponse", value);
                }
                status
                    .is_server_error()
                    .then(|| Cow::Owned(status.as_u16().to_string()))
            }
            Err(_) => Some(Cow::Borrowed(std::any::type_name::<E>())),
        };
        let status_code = result
            .as_ref()
            .ok()
            .map(|response| i64::from(response.status().as_u16()));
        self.record(status_code, error_type);
    }

    /// Ends the span and records the metrics: `error_type` set for failures.
    fn record(&self, status_code: Option<i64>, error_type: Option<Cow<'static, str>>) {
        let span = self.cx.span();
        let mut attributes = Vec::with_capacity(6);
        attributes.extend_from_slice(&self.common);
        attributes.push(KeyValue::new("network.protocol.version", self.version));
        if let Some(route) = &self.route {
            attributes.push(KeyValue::new("http.route", route.clone()));
        }
        if let Some(code) = status_code {
            attributes.push(KeyValue::new("http.response.status_code", code));
        }
        if let Some(error_type) = error_type {
            span.set_attribute(KeyValue::new("error.type", error_type.clone()));
            span.set_status(Status::error(""));
            attributes.push(KeyValue::new("error.type", error_type));
        }
        self.instruments
            .duration
            .record(self.started.elapsed().as_secs_f64(), &attributes);
        self.instruments.active.add(-1, &self.common);
        span.end();
    }
}

impl Drop for Recording {
    /// Dropped before its response: the handler panicked (the panic hook already recorded
    /// it on the span), or the connection went away and the future was cancelled.
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if self.panicked.get() || std::thread::panicking() {
            self.record(None, Some(Cow::Borrowed("panic")));
        } else {
            self.cx
                .span()
                .set_attribute(KeyValue::new("rust.future.cancelled", true));
            self.record(None, None);
        }
    }
}

impl Shared {
    fn tracer(&self) -> Arc<global::BoxedTracer> {
        self.tracer.get(crate::trace::installed::generation(), || {
            Arc::new(global::tracer_provider().tracer_with_scope(scope()))
        })
    }

    fn instruments(&self) -> Instruments {
        self.instruments
            .get(crate::metrics::backend::generation(), || {
                let meter = global::meter_provider().meter_with_scope(scope());
                Instruments {
                    duration: meter
                        .f64_histogram("http.server.request.duration")
                        .with_unit("s")
                        .with_description("Duration of HTTP server requests.")
                        .with_boundaries(super::DURATION_BUCKETS.to_vec())
                        .build(),
                    active: meter
                        .i64_up_down_counter("http.server.active_requests")
                        .with_unit("{request}")
                        .with_description("Number of active HTTP server requests.")
                        .build(),
                }
            })
    }
}

fn method<B>(request: &Request<B>) -> &'static str {
    super::method_name(request.method())
}

/// The route template: axum's `MatchedPath` when the `axum` feature is on.
fn route<B>(request: &Request<B>) -> Option<String> {
    #[cfg(feature = "axum")]
    if let Some(path) = request.extensions().get::<axum::extract::MatchedPath>() {
        return Some(path.as_str().to_owned());
    }
    let _ = request;
    None
}

fn scheme<B>(request: &Request<B>) -> &'static str {
    match request.uri().scheme_str() {
        Some("https") => "https",
        _ => "http",
    }
}

fn version(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => "1.1",
    }
}

fn header_text<B>(request: &Request<B>, name: http::header::HeaderName) -> Option<&str> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}

/// The `Host` header, or the authority of an absolute request URI (HTTP/2).
fn host<B>(request: &Request<B>) -> Option<String> {
    header_text(request, http::header::HOST)
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()))
}

/// `scheme://host/path?query`, or the path and query when the host is not known.
fn full_url<B>(request: &Request<B>, host: Option<&str>) -> String {
    match host {
        Some(host) => format!("{}://{host}{}", scheme(request), request.uri()),
        None => request.uri().to_string(),
    }
}

/// `host:port` → (`host`, port); `[::1]:8080` → (`::1`, 8080).
fn split_host(host: &str) -> (&str, Option<u16>) {
    if let Some(rest) = host.strip_prefix('[')
        && let Some((address, port)) = rest.split_once(']')
    {
        return (address, port.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    match host.rsplit_once(':') {
        Some((address, port)) if !address.contains(':') => (address, port.parse().ok()),
        _ => (host, None),
    }
}

/// The client: the first `X-Forwarded-For` entry, else the peer address axum's
/// `ConnectInfo` recorded.
fn client_address<B>(request: &Request<B>) -> Option<String> {
    if let Some(forwarded) = header_text(
        request,
        http::header::HeaderName::from_static("x-forwarded-for"),
    ) && let Some(first) = forwarded.split(',').next()
        && !first.trim().is_empty()
    {
        return Some(first.trim().to_owned());
    }
    #[cfg(feature = "axum")]
    if let Some(info) = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    {
        return Some(info.0.ip().to_string());
    }
    None
}

/// `traceresponse: 00-{trace id}-{span id}-{flags}` for the server span.
fn trace_response(cx: &Context) -> Option<HeaderValue> {
    let span = cx.span();
    let context = span.span_context();
    if !context.is_valid() {
        return None;
    }
    HeaderValue::from_str(&format!(
        "00-{}-{}-{:02x}",
        context.trace_id(),
        context.span_id(),
        context.trace_flags().to_u8()
    ))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_split_into_address_and_port() {
        assert_eq!(split_host("shop:8080"), ("shop", Some(8080)));
        assert_eq!(split_host("shop"), ("shop", None));
        assert_eq!(split_host("[::1]:9464"), ("::1", Some(9464)));
        assert_eq!(split_host("::1"), ("::1", None));
    }

    #[test]
    fn unknown_methods_are_other() {
        let request = Request::builder()
            .method("PURGE")
            .body(())
            .expect("request");
        assert_eq!(method(&request), "_OTHER");
        let request = Request::builder().method("GET").body(()).expect("request");
        assert_eq!(method(&request), "GET");
    }
}
