//! The client side, for reqwest: a client span per outgoing request, the trace context
//! injected into its headers, and `http.client.request.duration`.

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::Instant;

use opentelemetry::metrics::Histogram;
use opentelemetry::trace::{
    FutureExt as _, SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue, global};
use opentelemetry_semantic_conventions::{attribute, metric};

use super::captured::{CapturedHeaders, Side};
use super::headers::HeaderInjector;
use crate::conventions;

/// Instruments the requests of a `reqwest_middleware::ClientWithMiddleware`: a client span
/// named after the method, with `server.address`, `server.port`, `url.full` (without
/// credentials), `http.response.status_code`, `network.protocol.version`,
/// `network.peer.address` and `network.peer.port` (the connection's), and `error.type` (a
/// 4xx or 5xx status, or the transport error); `traceparent` and `baggage` injected through
/// the installed propagators; `http.client.request.duration`, with the same attributes less
/// `url.full`.
///
/// ```
/// // `client_builder` sends a `User-Agent`; any `reqwest::Client` works.
/// let client = reqwest_middleware::ClientBuilder::new(otel::http::client_builder().build()?)
///     .with(otel::http::ClientMiddleware)
///     .build();
/// # let _ = client;
/// # Ok::<(), reqwest::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientMiddleware;

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for ClientMiddleware {
    async fn handle(
        &self,
        mut request: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let call = ClientCall::start(&mut request);
        let result = next
            .run(request, extensions)
            .with_context(call.cx.clone())
            .await;
        call.finish(result.as_ref().map_err(|error| error_type(error)));
        result
    }
}

/// Sends `request` as [`ClientMiddleware`] would, for a plain `reqwest::Client`.
///
/// ```no_run
/// # async fn call() -> reqwest::Result<()> {
/// let client = reqwest::Client::new();
/// let response = otel::http::send(client.get("http://inventory:8080/items/7")).await?;
/// # let _ = response;
/// # Ok(())
/// # }
/// ```
pub async fn send(request: reqwest::RequestBuilder) -> reqwest::Result<reqwest::Response> {
    let (client, request) = request.build_split();
    let mut request = request?;
    let call = ClientCall::start(&mut request);
    let result = client.execute(request).with_context(call.cx.clone()).await;
    call.finish(result.as_ref().map_err(|error| reqwest_error_type(error)));
    result
}

/// One outgoing request's span and metric attributes. Dropped before it finished (the caller
/// dropped the request future: a timeout, a `select!`), it records the call cancelled.
#[derive(Debug)]
struct ClientCall {
    cx: Context,
    started: Instant,
    attributes: Vec<KeyValue>,
    finished: bool,
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("otel.http.client")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

impl ClientCall {
    fn start(request: &mut reqwest::Request) -> Self {
        let method = super::method_name(request.method());
        let url = request.url();
        let mut attributes = vec![
            KeyValue::new(attribute::HTTP_REQUEST_METHOD, method),
            KeyValue::new(attribute::URL_SCHEME, url.scheme().to_owned()),
        ];
        if let Some(host) = url.host_str() {
            attributes.push(KeyValue::new(attribute::SERVER_ADDRESS, host.to_owned()));
        }
        if let Some(port) = url.port_or_known_default() {
            attributes.push(KeyValue::new(attribute::SERVER_PORT, i64::from(port)));
        }
        let mut full = url.clone();
        let _ = full.set_username("");
        let _ = full.set_password(None);
        let mut span_attributes = attributes.clone();
        span_attributes.push(KeyValue::new(attribute::URL_FULL, full.to_string()));
        if let Some(captured) = &captured_headers().request {
            captured.record(request.headers(), &mut span_attributes);
        }
        let name: Cow<'static, str> = if method == "_OTHER" {
            "HTTP".into()
        } else {
            method.into()
        };
        let tracer = global::tracer_provider().tracer_with_scope(scope());
        let cx = Context::map_current(|parent| {
            let span = tracer
                .span_builder(name)
                .with_kind(SpanKind::Client)
                .with_attributes(span_attributes)
                .start_with_context(&tracer, parent);
            parent.with_span(span)
        });
        global::get_text_map_propagator(|propagator| {
            propagator.inject_context(&cx, &mut HeaderInjector(request.headers_mut()));
        });
        Self {
            cx,
            started: Instant::now(),
            attributes,
            finished: false,
        }
    }

    /// Records the response status, or the error's type, and ends the span.
    fn finish(mut self, result: Result<&reqwest::Response, Cow<'static, str>>) {
        self.finished = true;
        let span = self.cx.span();
        let error_type = match result {
            Ok(response) => {
                if let Some(captured) = &captured_headers().response {
                    let mut headers = Vec::new();
                    captured.record(response.headers(), &mut headers);
                    span.set_attributes(headers);
                }
                let network = network_attributes(response);
                span.set_attributes(network.iter().cloned());
                self.attributes.extend(network);
                let status = i64::from(response.status().as_u16());
                span.set_attribute(KeyValue::new(attribute::HTTP_RESPONSE_STATUS_CODE, status));
                self.attributes
                    .push(KeyValue::new(attribute::HTTP_RESPONSE_STATUS_CODE, status));
                (status >= 400).then(|| Cow::Owned(status.to_string()))
            }
            Err(error_type) => Some(error_type),
        };
        self.end(error_type);
    }

    /// Fails the span when `error_type` says so, records the duration, ends the span.
    fn end(&mut self, error_type: Option<Cow<'static, str>>) {
        let span = self.cx.span();
        if let Some(error_type) = error_type {
            span.set_attribute(KeyValue::new(attribute::ERROR_TYPE, error_type.clone()));
            span.set_status(Status::error(""));
            self.attributes
                .push(KeyValue::new(attribute::ERROR_TYPE, error_type));
        }
        duration().record(self.started.elapsed().as_secs_f64(), &self.attributes);
        span.end();
    }
}

impl Drop for ClientCall {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        self.cx
            .span()
            .set_attribute(KeyValue::new(conventions::RUST_FUTURE_CANCELLED, true));
        self.end(Some(Cow::Borrowed("cancelled")));
    }
}

/// What the connection was: `network.protocol.version` (`1.1`, `2`) and the peer's address
/// and port, which differ from `server.*` behind a proxy or a name with several addresses.
fn network_attributes(response: &reqwest::Response) -> Vec<KeyValue> {
    let mut attributes = Vec::with_capacity(3);
    let version = match response.version() {
        http::Version::HTTP_09 => Some("0.9"),
        http::Version::HTTP_10 => Some("1.0"),
        http::Version::HTTP_11 => Some("1.1"),
        http::Version::HTTP_2 => Some("2"),
        http::Version::HTTP_3 => Some("3"),
        _ => None,
    };
    if let Some(version) = version {
        attributes.push(KeyValue::new(attribute::NETWORK_PROTOCOL_VERSION, version));
    }
    if let Some(peer) = response.remote_addr() {
        attributes.push(KeyValue::new(
            attribute::NETWORK_PEER_ADDRESS,
            peer.ip().to_string(),
        ));
        attributes.push(KeyValue::new(
            attribute::NETWORK_PEER_PORT,
            i64::from(peer.port()),
        ));
    }
    attributes
}

/// The `User-Agent` of clients built by [`client_builder`].
pub const USER_AGENT: &str = concat!("otel-compile/", env!("CARGO_PKG_VERSION"));

/// A `reqwest::ClientBuilder` whose requests send [`USER_AGENT`]: reqwest sends no
/// `User-Agent` of its own, and a server (its logs, its `user_agent.original`) then cannot
/// tell its callers apart. The application's own `.user_agent(..)` (or one set on a request)
/// replaces it.
///
/// Why a builder rather than [`ClientMiddleware`] adding the header: a middleware sees the
/// request before reqwest adds the client's default headers, so it cannot tell "no
/// `User-Agent`" from "the client's own", and would override the application's.
///
/// ```
/// let client = reqwest_middleware::ClientBuilder::new(
///     otel::http::client_builder().build().expect("a client"),
/// )
/// .with(otel::http::ClientMiddleware)
/// .build();
/// # let _ = client;
/// let named = otel::http::client_builder().user_agent("checkout/1.4").build();
/// # let _ = named;
/// ```
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().user_agent(USER_AGENT)
}

/// The client headers to record, read once from the environment.
struct Captured {
    request: Option<CapturedHeaders>,
    response: Option<CapturedHeaders>,
}

fn captured_headers() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| Captured {
        request: CapturedHeaders::from_env(Side::ClientRequest, &[]),
        response: CapturedHeaders::from_env(Side::ClientResponse, &[]),
    })
}

/// `http.client.request.duration`, from the meter provider installed now.
fn duration() -> Histogram<f64> {
    static DURATION: super::PerGeneration<Histogram<f64>> = super::PerGeneration::new();
    DURATION.get(crate::metrics::backend::generation(), || {
        global::meter_provider()
            .meter_with_scope(scope())
            .f64_histogram(metric::HTTP_CLIENT_REQUEST_DURATION)
            .with_unit("s")
            .with_description("Duration of HTTP client requests.")
            .with_boundaries(super::DURATION_BUCKETS.to_vec())
            .build()
    })
}

fn error_type(error: &reqwest_middleware::Error) -> Cow<'static, str> {
    match error {
        reqwest_middleware::Error::Reqwest(error) => reqwest_error_type(error),
        reqwest_middleware::Error::Middleware(_) => Cow::Borrowed("middleware"),
    }
}

/// What failed, in the words of the semantic conventions' examples.
fn reqwest_error_type(error: &reqwest::Error) -> Cow<'static, str> {
    Cow::Borrowed(if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_request() {
        "request"
    } else {
        "reqwest::Error"
    })
}
