//! The server side: a tower [`Layer`] that makes every request a server span, current while
//! the handler runs, and records the HTTP server metrics.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context as TaskContext, Poll};
use std::time::{Instant, SystemTime};

use http::{HeaderName, HeaderValue, Request, Response, Version};
use http_body::Body;
use opentelemetry::metrics::{BoundUpDownCounter, Histogram, UpDownCounter};
use opentelemetry::trace::{
    SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue, StringValue, global};
use opentelemetry_semantic_conventions::{attribute, metric};
use tower_layer::Layer;
use tower_service::Service;

use crate::grpc;
use crate::limits::request_string;
use crate::profiler::labels::SpanLabels;
use crate::trace::handler_errors::HandlerErrors;

use super::body::ResponseBody;
use super::captured::{CapturedHeaders, Side};
use super::excluded::{self, ExcludedUrls};
use super::headers::HeaderExtractor;
use crate::conventions;
use crate::metrics::bound::BoundHistograms;

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
/// gRPC calls (`content-type: application/grpc`) are recorded as RPCs instead: span
/// `{package.Service}/{Method}` with `rpc.system`, `rpc.service`, `rpc.method` and
/// `rpc.grpc.status_code`, open until the status arrives in the trailers, failed for the
/// statuses that are the server's fault, and `rpc.server.duration` (milliseconds) in place of
/// the HTTP metrics. See [`crate::grpc`].
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
    handler_errors: bool,
}

#[derive(Debug)]
struct Shared {
    excluded: ExcludedUrls,
    trace_response: bool,
    record_query: bool,
    handler_errors: bool,
    request_headers: Option<CapturedHeaders>,
    response_headers: Option<CapturedHeaders>,
    instruments: super::PerGeneration<Arc<Instruments>>,
    rpc_duration: super::PerGeneration<Histogram<f64>>,
    tracer: super::PerGeneration<Arc<global::BoxedTracer>>,
}

/// What names the attribute set of a response's `http.server.request.duration`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct DurationKey {
    method: usize,
    https: bool,
    version: &'static str,
    route: Option<StringValue>,
    status: u16,
}

#[derive(Debug)]
struct Instruments {
    /// Bound per response attribute set.
    duration: BoundHistograms<DurationKey>,
    /// For requests that ended without a response (errors, panics, cancellations).
    duration_unbound: Histogram<f64>,
    active: UpDownCounter<i64>,
    /// `active` bound to each (method, scheme) on first use: the in-flight counter's
    /// attribute sets are few and known, so a request skips the SDK's attribute lookup.
    active_bound: [[OnceLock<BoundUpDownCounter<i64>>; 2]; super::METHODS.len()],
}

impl Instruments {
    fn active(
        &self,
        method: usize,
        https: bool,
        attributes: &[KeyValue],
    ) -> BoundUpDownCounter<i64> {
        self.active_bound[method][usize::from(https)]
            .get_or_init(|| self.active.bind(attributes))
            .clone()
    }
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
            handler_errors: false,
        })
    }

    /// Leaves requests whose URL without its query (`scheme://host/path`, or the path when
    /// the host is unknown) matches the regular expression `pattern` uninstrumented: no span,
    /// no metric. Adds to `OTEL_RUST_EXCLUDED_URLS`; a pattern given here may contain commas.
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

    /// Whether a 5xx response's server span also records the error behind it: the last `Err`
    /// an `#[otel::span]` fn (or `otel::current_span::record_error`) recorded while the
    /// request was served becomes an `exception` event on the server span, and its message
    /// the span's status description, as the reference stacks record an exception escaping
    /// the handler. Off by default: the error is already on the span of the fn that
    /// returned it, and a handler that maps it to a 5xx may not want it repeated. For plain
    /// HTTP responses (a gRPC status is not a 5xx).
    ///
    /// ```
    /// let layer = otel::http::ServerLayer::new().record_handler_errors(true);
    /// # let _ = layer;
    /// ```
    pub fn record_handler_errors(self, enabled: bool) -> Self {
        Self::build(Options {
            handler_errors: enabled,
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
                handler_errors: options.handler_errors,
                request_headers: CapturedHeaders::from_env(
                    Side::ServerRequest,
                    &options.request_headers,
                ),
                response_headers: CapturedHeaders::from_env(
                    Side::ServerResponse,
                    &options.response_headers,
                ),
                instruments: super::PerGeneration::new(),
                rpc_duration: super::PerGeneration::new(),
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
    R: Body,
{
    type Response = Response<ResponseBody<R>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, task: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(task)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let shared = &self.shared;
        let host = host(&request);
        if !shared.excluded.is_empty()
            && shared.excluded.excludes(&url_without_query(&request, host))
        {
            return ResponseFuture {
                inner: self.inner.call(request),
                recording: None,
            };
        }
        let recording = Recording::start(shared.clone(), &request, host);
        let inner = {
            let _current = recording.context().clone().attach();
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
    /// the response (for gRPC, with the status in the trailers).
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
    R: Body,
{
    type Output = Result<Response<ResponseBody<R>>, E>;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(recording) = this.recording.as_ref() else {
            return this
                .inner
                .poll(task)
                .map_ok(|response| response.map(ResponseBody::plain));
        };
        let current = recording.context().clone().attach();
        let labels = recording.labels.as_ref().map(SpanLabels::enter);
        let watch = PanicWatch(recording.panicked());
        let Poll::Ready(result) = this.inner.poll(task) else {
            return Poll::Pending;
        };
        drop(watch);
        // The labels point into the recording, which the response consumes.
        drop(labels);
        let result = match this.recording.take() {
            Some(recording) => recording.respond(result),
            None => result.map(|response| response.map(ResponseBody::plain)),
        };
        drop(current);
        Poll::Ready(result)
    }
}

/// Notes a panic that unwinds through a poll of the handler.
struct PanicWatch<'a>(&'a AtomicBool);

impl Drop for PanicWatch<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

/// One request, from its start to its response.
#[derive(Debug)]
struct Recording {
    shared: Arc<Shared>,
    call: Call,
    /// The profiler's labels while one runs: the server span is a local root.
    labels: Option<SpanLabels>,
}

/// A plain HTTP request, or a gRPC call.
#[derive(Debug)]
enum Call {
    Http(HttpCall),
    Grpc(grpc::Pending),
}

impl Recording {
    fn start<B>(shared: Arc<Shared>, request: &Request<B>, host: Option<&str>) -> Self {
        let version = version(request.version());
        let grpc = grpc::is_grpc(request.headers())
            .then(|| grpc::service_and_method(request.uri().path()))
            .flatten()
            .map(|(service, method)| {
                let call =
                    grpc::Call::new(grpc::Side::Server, service, method, shared.rpc_duration());
                (request_string(&format!("{service}/{method}")), call)
            });
        let (name, mut attributes, route) = match &grpc {
            Some((name, call)) => (Cow::Owned(name.clone()), call.attributes().to_vec(), None),
            None => {
                let (name, attributes, route) = http_attributes(&shared, request);
                (name, attributes, route)
            }
        };
        attributes.push(KeyValue::new(attribute::NETWORK_PROTOCOL_VERSION, version));
        if let Some(host) = host {
            let (address, port) = split_host(host);
            attributes.push(KeyValue::new(
                attribute::SERVER_ADDRESS,
                request_string(address),
            ));
            if let Some(port) = port {
                attributes.push(KeyValue::new(attribute::SERVER_PORT, i64::from(port)));
            }
        }
        if let Some(client) = client_address(request) {
            attributes.push(KeyValue::new(
                attribute::CLIENT_ADDRESS,
                request_string(&client),
            ));
        }
        if let Some(agent) = header_text(request, http::header::USER_AGENT) {
            attributes.push(KeyValue::new(
                attribute::USER_AGENT_ORIGINAL,
                request_string(agent),
            ));
        }
        if let Some(captured) = &shared.request_headers {
            captured.record(request.headers(), &mut attributes);
        }

        let parent = global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderExtractor(request.headers()))
        });
        let tracer = shared.tracer();
        // The span's start on the wall clock, and the duration on the monotonic one; the
        // span ends at start + duration, so the histogram records exactly the span's length.
        let started = SystemTime::now();
        let started_at = Instant::now();
        let name_for_labels =
            crate::profiler::labels::active().then(|| label_name(request, &name, grpc.is_some()));
        let span = tracer
            .span_builder(name)
            .with_kind(SpanKind::Server)
            .with_start_time(started)
            .with_attributes(attributes)
            .start_with_context(&*tracer, &parent);
        let mut cx = parent.with_span(span);
        if shared.handler_errors && grpc.is_none() {
            cx = HandlerErrors::attach_to(cx);
        }
        let labels =
            name_for_labels.and_then(|name| crate::profiler::labels::local_root(&cx, name));
        let call = match grpc {
            Some((_, call)) => Call::Grpc(grpc::Pending::new(cx, started_at, call)),
            None => Call::Http(HttpCall::start(
                &shared,
                cx,
                (started, started_at),
                request,
                route,
                version,
            )),
        };
        Self {
            shared,
            call,
            labels,
        }
    }

    fn context(&self) -> &Context {
        match &self.call {
            Call::Http(call) => &call.cx,
            Call::Grpc(pending) => pending.context(),
        }
    }

    fn panicked(&self) -> &AtomicBool {
        match &self.call {
            Call::Http(call) => &call.panicked,
            Call::Grpc(pending) => pending.panicked(),
        }
    }

    /// Records the response (or the handler's error); ends the span, or for a gRPC call
    /// whose status is still to come, hands it to the body.
    fn respond<R: Body, E>(
        self,
        result: Result<Response<R>, E>,
    ) -> Result<Response<ResponseBody<R>>, E> {
        let mut response = match result {
            Ok(response) => response,
            Err(error) => {
                let error_type = std::any::type_name::<E>();
                match self.call {
                    Call::Http(call) => call.end(None, Some(Cow::Borrowed(error_type))),
                    Call::Grpc(pending) => pending.finish(grpc::Outcome::Failed(error_type.into())),
                }
                return Err(error);
            }
        };
        let cx = self.context();
        if let Some(captured) = &self.shared.response_headers {
            let mut headers = Vec::new();
            captured.record(response.headers(), &mut headers);
            cx.span().set_attributes(headers);
        }
        if self.shared.trace_response
            && let Some(value) = trace_response(cx)
        {
            response.headers_mut().insert(TRACE_RESPONSE, value);
        }
        Ok(match self.call {
            Call::Http(call) => {
                let status = response.status();
                if status.is_server_error() && self.shared.handler_errors {
                    record_handler_error(&call.cx);
                }
                let error_type = status
                    .is_server_error()
                    .then(|| Cow::Owned(status.as_u16().to_string()));
                let mut call = call;
                call.respond(status.as_u16(), error_type);
                if response.body().is_end_stream() {
                    call.finish(None);
                    response.map(ResponseBody::plain)
                } else {
                    response.map(|body| ResponseBody::ending_with_body(body, call))
                }
            }
            Call::Grpc(pending) => pending.respond(response),
        })
    }
}

/// The error an annotated fn recorded under this request, on its server span.
#[cold]
fn record_handler_error(cx: &Context) {
    if let Some(recorded) = HandlerErrors::take(cx) {
        let span = cx.span();
        span.add_event("exception", recorded.attributes);
        // Before the response's own (empty) Error status, which does not replace it.
        span.set_status(Status::error(recorded.message));
    }
}

/// The span name as the profiler's labels hold it: kept for the life of the program.
fn label_name<B>(request: &Request<B>, name: &str, grpc: bool) -> &'static &'static str {
    static HTTP: &str = "HTTP";
    if grpc {
        return super::routes::keep(name).unwrap_or(&HTTP);
    }
    let method = super::method_index(request.method());
    match route(request) {
        Some(template) => super::routes::kept_name(method, template).unwrap_or(&HTTP),
        None if super::METHODS[method] == "_OTHER" => &HTTP,
        None => &super::METHODS[method],
    }
}

/// The span name, the HTTP attributes and the route of a request that is not gRPC.
fn http_attributes<B>(
    shared: &Shared,
    request: &Request<B>,
) -> (Cow<'static, str>, Vec<KeyValue>, Option<StringValue>) {
    let method_index = super::method_index(request.method());
    let method = super::METHODS[method_index];
    let (route, name) = match route(request) {
        Some(template) => {
            let (route, name) = super::routes::route_and_name(method_index, template);
            (Some(route), name)
        }
        None if method == "_OTHER" => (None, "HTTP".into()),
        None => (None, method.into()),
    };
    let mut attributes = Vec::with_capacity(12);
    attributes.extend([
        KeyValue::new(attribute::HTTP_REQUEST_METHOD, method),
        KeyValue::new(attribute::URL_PATH, request_string(request.uri().path())),
        KeyValue::new(attribute::URL_SCHEME, scheme(request)),
    ]);
    if method == "_OTHER" {
        attributes.push(KeyValue::new(
            attribute::HTTP_REQUEST_METHOD_ORIGINAL,
            request_string(request.method().as_str()),
        ));
    }
    if let Some(route) = &route {
        attributes.push(KeyValue::new(attribute::HTTP_ROUTE, route.clone()));
    }
    if shared.record_query
        && let Some(query) = request.uri().query()
    {
        attributes.push(KeyValue::new(attribute::URL_QUERY, request_string(query)));
    }
    (name, attributes, route)
}

/// A plain HTTP request's span and metric attributes, from the request to the end of the
/// response body.
#[derive(Debug)]
pub(crate) struct HttpCall {
    /// Fetched once per request: the in-flight decrement goes where the increment went.
    instruments: Arc<Instruments>,
    active: BoundUpDownCounter<i64>,
    cx: Context,
    /// The span's start time, on the wall clock (what the span reports)...
    started: SystemTime,
    /// ...and on the monotonic clock, which measures the duration: a wall clock step (NTP)
    /// mid-request must not make it negative or hours long.
    started_at: Instant,
    /// The response's status and error type once its head is out; recorded when its body
    /// ends.
    response: Option<(u16, Option<Cow<'static, str>>)>,
    /// `http.request.method`, `url.scheme`: the in-flight counter's attributes, and the
    /// start of the duration's.
    common: [KeyValue; 2],
    route: Option<StringValue>,
    version: &'static str,
    /// The index of the method in `METHODS`, and the scheme: with the route, version and
    /// status, the duration's attribute set.
    method: usize,
    https: bool,
    finished: bool,
    /// Set when the handler panicked while polled: the runtime catches the panic and drops
    /// the future later, no longer unwinding.
    panicked: AtomicBool,
}

impl HttpCall {
    fn start<B>(
        shared: &Shared,
        cx: Context,
        (started, started_at): (SystemTime, Instant),
        request: &Request<B>,
        route: Option<StringValue>,
        version: &'static str,
    ) -> Self {
        let method = super::method_index(request.method());
        let https = scheme(request) == "https";
        let common = [
            KeyValue::new(attribute::HTTP_REQUEST_METHOD, super::METHODS[method]),
            KeyValue::new(attribute::URL_SCHEME, if https { "https" } else { "http" }),
        ];
        let instruments = shared.instruments();
        let active = instruments.active(method, https, &common);
        active.add(1);
        Self {
            instruments,
            active,
            cx,
            started,
            started_at,
            response: None,
            common,
            route,
            version,
            method,
            https,
            finished: false,
            panicked: AtomicBool::new(false),
        }
    }

    /// Ends the span and records the metrics: `error_type` set for failures.
    fn end(mut self, status_code: Option<u16>, error_type: Option<Cow<'static, str>>) {
        self.finished = true;
        self.record(status_code, error_type);
    }

    pub(crate) fn context(&self) -> &Context {
        &self.cx
    }

    pub(crate) fn panicked(&self) -> &AtomicBool {
        &self.panicked
    }

    /// The response head is out: its status, and `error_type` for a 5xx.
    fn respond(&mut self, status: u16, error_type: Option<Cow<'static, str>>) {
        self.response = Some((status, error_type));
    }

    /// The response body ended, or failed with an error of type `body_error`.
    pub(crate) fn finish(mut self, body_error: Option<&'static str>) {
        let (status, mut error_type) = self.response.take().unwrap_or_default();
        if let Some(body_error) = body_error {
            error_type = Some(Cow::Borrowed(body_error));
        }
        self.end(Some(status), error_type);
    }

    /// `error_type` is the status code for a response, the error's type or `panic` without
    /// one.
    fn record(&self, status_code: Option<u16>, error_type: Option<Cow<'static, str>>) {
        let elapsed = self.started_at.elapsed();
        let ended = self.started + elapsed;
        let elapsed = elapsed.as_secs_f64();
        let span = self.cx.span();
        if let Some(code) = status_code {
            span.set_attribute(KeyValue::new(
                attribute::HTTP_RESPONSE_STATUS_CODE,
                i64::from(code),
            ));
        }
        if let Some(error_type) = &error_type {
            span.set_attribute(KeyValue::new(attribute::ERROR_TYPE, error_type.clone()));
            span.set_status(Status::error(""));
        }
        let attributes = || {
            let mut attributes = Vec::with_capacity(6);
            attributes.extend_from_slice(&self.common);
            attributes.push(KeyValue::new(
                attribute::NETWORK_PROTOCOL_VERSION,
                self.version,
            ));
            if let Some(route) = &self.route {
                attributes.push(KeyValue::new(attribute::HTTP_ROUTE, route.clone()));
            }
            if let Some(code) = status_code {
                attributes.push(KeyValue::new(
                    attribute::HTTP_RESPONSE_STATUS_CODE,
                    i64::from(code),
                ));
            }
            if let Some(error_type) = &error_type {
                attributes.push(KeyValue::new(attribute::ERROR_TYPE, error_type.clone()));
            }
            attributes
        };
        match status_code {
            // A response's error type is its status: the key names the whole set.
            Some(status) => {
                let key = DurationKey {
                    method: self.method,
                    https: self.https,
                    version: self.version,
                    route: self.route.clone(),
                    status,
                };
                self.instruments.duration.record(elapsed, key, attributes);
            }
            None => self
                .instruments
                .duration_unbound
                .record(elapsed, &attributes()),
        }
        self.active.add(-1);
        span.end_with_timestamp(ended);
    }
}

impl Drop for HttpCall {
    /// Dropped before its response: the handler panicked (the panic hook already recorded
    /// it on the span), or the connection went away and the future was cancelled.
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if let Some((status, error_type)) = self.response.take() {
            // The body was dropped before its end: the client went away mid-response.
            self.cx
                .span()
                .set_attribute(KeyValue::new(conventions::RUST_FUTURE_CANCELLED, true));
            self.record(Some(status), error_type);
            return;
        }
        if self.panicked.load(Ordering::Relaxed) || std::thread::panicking() {
            self.record(None, Some(Cow::Borrowed("panic")));
        } else {
            self.cx
                .span()
                .set_attribute(KeyValue::new(conventions::RUST_FUTURE_CANCELLED, true));
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

    fn rpc_duration(&self) -> Histogram<f64> {
        self.rpc_duration
            .get(crate::metrics::backend::generation(), || {
                let meter = global::meter_provider().meter_with_scope(scope());
                grpc::duration_histogram(&meter, grpc::Side::Server)
            })
    }

    fn instruments(&self) -> Arc<Instruments> {
        self.instruments
            .get(crate::metrics::backend::generation(), || {
                let meter = global::meter_provider().meter_with_scope(scope());
                let duration = meter
                    .f64_histogram(metric::HTTP_SERVER_REQUEST_DURATION)
                    .with_unit("s")
                    .with_description("Duration of HTTP server requests.")
                    .with_boundaries(super::DURATION_BUCKETS.to_vec())
                    .build();
                Arc::new(Instruments {
                    duration: BoundHistograms::new(duration.clone()),
                    duration_unbound: duration,
                    active: meter
                        .i64_up_down_counter(metric::HTTP_SERVER_ACTIVE_REQUESTS)
                        .with_unit("{request}")
                        .with_description("Number of active HTTP server requests.")
                        .build(),
                    active_bound: Default::default(),
                })
            })
    }
}

/// The route template: axum's `MatchedPath` when the `axum` feature is on.
fn route<B>(request: &Request<B>) -> Option<&str> {
    #[cfg(feature = "axum")]
    if let Some(path) = request.extensions().get::<axum::extract::MatchedPath>() {
        return Some(path.as_str());
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
fn host<B>(request: &Request<B>) -> Option<&str> {
    header_text(request, http::header::HOST)
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
}

/// `scheme://host/path` without the query, or the path alone when the host is not known: what
/// excluded-URL patterns match. Not the query: it is the client's to write, and
/// `/items/7?/health` must not pass for `/health`.
fn url_without_query<B>(request: &Request<B>, host: Option<&str>) -> String {
    let path = request.uri().path();
    match host {
        Some(host) => format!("{}://{host}{path}", scheme(request)),
        None => path.to_owned(),
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
    if let Some(forwarded) = header_text(request, X_FORWARDED_FOR)
        && let Some(first) = forwarded.split(',').next()
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

// Header names made once, at compile time: `HeaderName::from_static` at run time parses.
const TRACE_RESPONSE: HeaderName = HeaderName::from_static("traceresponse");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// `traceresponse: 00-{trace id}-{span id}-{flags}` for the server span, written without the
/// formatting machinery: it is on every response.
fn trace_response(cx: &Context) -> Option<HeaderValue> {
    let span = cx.span();
    let context = span.span_context();
    if !context.is_valid() {
        return None;
    }
    let mut text = [b'-'; 55];
    text[..2].copy_from_slice(b"00");
    write_hex(&mut text[3..35], &context.trace_id().to_bytes());
    write_hex(&mut text[36..52], &context.span_id().to_bytes());
    write_hex(&mut text[53..55], &[context.trace_flags().to_u8()]);
    HeaderValue::from_bytes(&text).ok()
}

/// Lower-case hex of `bytes` into `out`, two digits a byte.
fn write_hex(out: &mut [u8], bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
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
    fn trace_responses_are_w3c_trace_context() {
        use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
        let context = SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").expect("a trace id"),
            SpanId::from_hex("00f067aa0ba902b7").expect("a span id"),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        );
        let cx = Context::new().with_remote_span_context(context);
        assert_eq!(
            trace_response(&cx).expect("a header"),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
        assert!(trace_response(&Context::new()).is_none());
    }
}
