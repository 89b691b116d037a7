//! gRPC services and clients, on top of the HTTP layer.
//!
//! [`otel::http::ServerLayer`](crate::http::ServerLayer) recognises gRPC requests by their
//! `content-type: application/grpc` and records them as RPCs: span `{package.Service}/{Method}`,
//! `rpc.system`, `rpc.service`, `rpc.method`, `rpc.grpc.status_code` (read from the trailers, or
//! from the headers of a trailers-only response), error statuses per the semantic conventions,
//! and `rpc.server.duration` in place of the HTTP server metrics. Put it on a tonic server with
//! `tonic::transport::Server::builder().layer(otel::http::ServerLayer::new())`.
//!
//! On the calling side, [`ClientLayer`] (feature `tonic`) wraps a tonic `Channel`: a client
//! span per call, the trace context injected into its metadata, `rpc.client.duration`.

#[cfg(feature = "tonic")]
mod client;
mod methods;

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http::{HeaderMap, Response, StatusCode};
use opentelemetry::metrics::Histogram;
use opentelemetry::trace::{SpanRef, Status, TraceContextExt as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute;

use crate::conventions;
use crate::http::ResponseBody;

#[cfg(feature = "tonic")]
pub use client::{ClientFuture, ClientLayer, ClientService};

/// Whether the request is a gRPC call: `application/grpc`, or `application/grpc+proto` and
/// the like. gRPC-Web (`application/grpc-web`) is a different protocol and stays HTTP.
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|value| {
            let value = value.as_bytes();
            value == b"application/grpc"
                || value.starts_with(b"application/grpc+")
                || value.starts_with(b"application/grpc;")
        })
}

/// `/package.Service/Method` → (`package.Service`, `Method`).
pub(crate) fn service_and_method(path: &str) -> Option<(&str, &str)> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    (!service.is_empty() && !method.is_empty() && !method.contains('/'))
        .then_some((service, method))
}

/// How a call ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// A `grpc-status`, with the `grpc-message` when there was one.
    Status { code: u16, message: Option<String> },
    /// No `grpc-status`: the code the gRPC specification derives (from the HTTP status of a
    /// response that is not gRPC, or for a body that ended without trailers).
    Derived { code: u16 },
    /// No status: the transport or the body failed; the error's type.
    Failed(Cow<'static, str>),
    /// The response was dropped before its status arrived.
    Cancelled,
    /// The handler panicked.
    Panicked,
}

const UNKNOWN: u16 = 2;
const CANCELLED: u16 = 1;
const UNIMPLEMENTED: u16 = 12;

/// The status names of the gRPC specification, indexed by code.
const STATUS_NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

impl Outcome {
    /// The body ended without a `grpc-status` trailer.
    pub(crate) const MISSING: Outcome = Outcome::Derived { code: UNKNOWN };

    /// The status in `headers` (trailers, or the headers of a trailers-only response).
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let code = headers.get("grpc-status")?;
        let code = std::str::from_utf8(code.as_bytes())
            .ok()
            .and_then(|code| code.trim().parse::<u16>().ok())
            .unwrap_or(UNKNOWN);
        let message = headers
            .get("grpc-message")
            .map(|message| {
                crate::limits::request_string(
                    &percent_encoding::percent_decode(message.as_bytes()).decode_utf8_lossy(),
                )
            })
            .filter(|message| !message.is_empty());
        Some(Self::Status { code, message })
    }

    /// A response that ended without `grpc-status`: the code the gRPC specification derives
    /// from the HTTP status (a proxy answered, or the server is not gRPC).
    pub(crate) fn without_status(status: StatusCode) -> Self {
        let code = match status.as_u16() {
            400 => 13,
            401 => 16,
            403 => 7,
            404 => 12,
            429 | 502..=504 => 14,
            _ => UNKNOWN,
        };
        Self::Derived { code }
    }
}

/// Which end of the call: the semantic conventions fail different statuses on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Server,
    #[cfg_attr(not(feature = "tonic"), allow(dead_code))]
    Client,
}

impl Side {
    /// Whether `code` fails the span: every status but OK for a client; for a server only
    /// those that say the server could not do its job (UNKNOWN, DEADLINE_EXCEEDED,
    /// UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS), not the caller's mistakes.
    fn fails(self, code: u16) -> bool {
        match self {
            Side::Client => code != 0,
            Side::Server => matches!(code, 2 | 4 | 12 | 13 | 14 | 15),
        }
    }
}

/// One call's duration histogram and metric attributes, from start to status.
#[derive(Debug)]
pub(crate) struct Call {
    side: Side,
    duration: Histogram<f64>,
    /// `rpc.system`, `rpc.service`, `rpc.method`: the metric attributes, and the start of
    /// the span's.
    attributes: Vec<KeyValue>,
}

impl Call {
    pub(crate) fn new(side: Side, service: &str, method: &str, duration: Histogram<f64>) -> Self {
        Self {
            side,
            duration,
            attributes: vec![
                KeyValue::new(conventions::RPC_SYSTEM, "grpc"),
                KeyValue::new(
                    conventions::RPC_SERVICE,
                    crate::limits::request_string(service),
                ),
                KeyValue::new(attribute::RPC_METHOD, crate::limits::request_string(method)),
            ],
        }
    }

    /// The attributes every span of this call starts with.
    pub(crate) fn attributes(&self) -> &[KeyValue] {
        &self.attributes
    }

    /// Records the status on `span`, fails it when the status says so, records the
    /// duration, and ends the span.
    pub(crate) fn end(&self, span: &SpanRef<'_>, elapsed: Duration, outcome: Outcome) {
        let mut attributes = Vec::with_capacity(self.attributes.len() + 2);
        attributes.extend_from_slice(&self.attributes);
        if self.side == Side::Server {
            self.fold_unknown_method(&mut attributes, &outcome);
        }
        let status = |code: u16, message: Option<String>| {
            let failed = self.side.fails(code);
            let name = STATUS_NAMES.get(usize::from(code)).copied();
            let error_type = failed.then(|| match name {
                Some(name) => Cow::Borrowed(name),
                None => Cow::Owned(code.to_string()),
            });
            (Some(code), error_type, message)
        };
        let (code, error_type, message) = match outcome {
            Outcome::Status { code, message } => status(code, message),
            Outcome::Derived { code } => status(code, None),
            Outcome::Failed(error_type) => (None, Some(error_type), None),
            Outcome::Cancelled => {
                span.set_attribute(KeyValue::new(conventions::RUST_FUTURE_CANCELLED, true));
                let error_type = self
                    .side
                    .fails(CANCELLED)
                    .then_some(Cow::Borrowed("CANCELLED"));
                (Some(CANCELLED), error_type, None)
            }
            Outcome::Panicked => (None, Some(Cow::Borrowed("panic")), None),
        };
        if let Some(code) = code {
            let code = KeyValue::new(conventions::RPC_GRPC_STATUS_CODE, i64::from(code));
            span.set_attribute(code.clone());
            attributes.push(code);
        }
        if let Some(error_type) = error_type {
            span.set_attribute(KeyValue::new(attribute::ERROR_TYPE, error_type.clone()));
            span.set_status(Status::error(message.unwrap_or_default()));
            attributes.push(KeyValue::new(attribute::ERROR_TYPE, error_type));
        }
        self.duration
            .record(elapsed.as_secs_f64() * 1000.0, &attributes);
        span.end();
    }
}

impl Call {
    /// The metric names `_OTHER` for the service and method unless a server answered the
    /// method ([`methods`]): clients cannot mint `rpc.server.duration` series.
    fn fold_unknown_method(&self, attributes: &mut [KeyValue], outcome: &Outcome) {
        let answered = matches!(outcome, Outcome::Status { code, .. } if *code != UNIMPLEMENTED);
        let (Some(service), Some(method)) = (attributes.get(1), attributes.get(2)) else {
            return;
        };
        if !methods::named(&service.value.as_str(), &method.value.as_str(), answered) {
            attributes[1] = KeyValue::new(conventions::RPC_SERVICE, methods::OTHER);
            attributes[2] = KeyValue::new(attribute::RPC_METHOD, methods::OTHER);
        }
    }
}

/// A call whose span is open until its status arrives: in the response headers of a
/// trailers-only response, else in the trailers at the end of the body. Dropped without a
/// status, it records the call cancelled (or panicked).
#[derive(Debug)]
pub(crate) struct Pending {
    cx: Context,
    started: Instant,
    /// `None` once ended.
    call: Option<Call>,
    /// Set when a poll of the handler or the body unwound.
    panicked: AtomicBool,
}

impl Pending {
    pub(crate) fn new(cx: Context, started: Instant, call: Call) -> Self {
        Self {
            cx,
            started,
            call: Some(call),
            panicked: AtomicBool::new(false),
        }
    }

    /// The call's context: its span is current while the handler or body is polled.
    pub(crate) fn context(&self) -> &Context {
        &self.cx
    }

    pub(crate) fn panicked(&self) -> &AtomicBool {
        &self.panicked
    }

    pub(crate) fn finish(mut self, outcome: Outcome) {
        self.end(outcome);
    }

    fn end(&mut self, outcome: Outcome) {
        if let Some(call) = self.call.take() {
            call.end(&self.cx.span(), self.started.elapsed(), outcome);
        }
    }

    /// Ends the call on a response whose headers carry the status (or that is not gRPC at
    /// all), else moves it into the body to end on the trailers.
    pub(crate) fn respond<B>(self, response: Response<B>) -> Response<ResponseBody<B>> {
        let outcome = match Outcome::from_headers(response.headers()) {
            Some(outcome) => Some(outcome),
            None if response.status() != StatusCode::OK => {
                Some(Outcome::without_status(response.status()))
            }
            None => None,
        };
        match outcome {
            Some(outcome) => {
                self.finish(outcome);
                response.map(ResponseBody::plain)
            }
            None => response.map(|body| ResponseBody::ending_on_trailers(body, self)),
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let outcome = if self.panicked.load(Ordering::Relaxed) || std::thread::panicking() {
            Outcome::Panicked
        } else {
            Outcome::Cancelled
        };
        self.end(outcome);
    }
}

/// The semantic conventions' buckets for `rpc.server.duration` and `rpc.client.duration`,
/// in milliseconds.
const DURATION_BUCKETS_MS: [f64; 14] = [
    5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 7500.0,
    10000.0,
];

/// `rpc.server.duration` or `rpc.client.duration` from `meter`.
pub(crate) fn duration_histogram(
    meter: &opentelemetry::metrics::Meter,
    side: Side,
) -> Histogram<f64> {
    let (name, description) = match side {
        Side::Server => (
            conventions::RPC_SERVER_DURATION,
            "Duration of inbound RPCs.",
        ),
        Side::Client => (
            conventions::RPC_CLIENT_DURATION,
            "Duration of outbound RPCs.",
        ),
    };
    meter
        .f64_histogram(name)
        .with_unit("ms")
        .with_description(description)
        .with_boundaries(DURATION_BUCKETS_MS.to_vec())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_service_and_method() {
        assert_eq!(
            service_and_method("/shop.v1.Payments/Charge"),
            Some(("shop.v1.Payments", "Charge"))
        );
        assert_eq!(service_and_method("/Charge"), None);
        assert_eq!(service_and_method("//Charge"), None);
        assert_eq!(service_and_method("/a/b/c"), None);
    }

    #[test]
    fn content_types_are_recognised() {
        let mut headers = HeaderMap::new();
        for (value, grpc) in [
            ("application/grpc", true),
            ("application/grpc+proto", true),
            ("application/grpc-web", false),
            ("application/json", false),
        ] {
            headers.insert(http::header::CONTENT_TYPE, value.parse().expect("a value"));
            assert_eq!(is_grpc(&headers), grpc, "{value}");
        }
    }

    #[test]
    fn statuses_are_read_with_their_message() {
        let mut headers = HeaderMap::new();
        assert!(Outcome::from_headers(&headers).is_none());
        headers.insert("grpc-status", "13".parse().expect("a value"));
        headers.insert("grpc-message", "card%20declined".parse().expect("a value"));
        match Outcome::from_headers(&headers) {
            Some(Outcome::Status { code, message }) => {
                assert_eq!(code, 13);
                assert_eq!(message.as_deref(), Some("card declined"));
            }
            other => panic!("{other:?}"),
        }
        headers.insert("grpc-status", "nonsense".parse().expect("a value"));
        assert!(matches!(
            Outcome::from_headers(&headers),
            Some(Outcome::Status { code: UNKNOWN, .. })
        ));
    }

    #[test]
    fn servers_fail_only_on_their_own_errors() {
        assert!(!Side::Server.fails(5), "NOT_FOUND is the caller's");
        assert!(Side::Server.fails(13));
        assert!(Side::Client.fails(5));
        assert!(!Side::Client.fails(0));
    }
}
