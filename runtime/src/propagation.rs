//! Carrying the trace across processes by hand: into and out of any carrier the
//! OpenTelemetry propagators understand (a `HashMap<String, String>` of message headers, or
//! with the `http-server` feature an `http::HeaderMap`), through the propagators `otel`
//! installed (`OTEL_PROPAGATORS`, W3C `traceparent` and `baggage` by default).
//!
//! ```
//! use std::collections::HashMap;
//!
//! // Producer: the current context into the message's headers.
//! let mut headers = HashMap::new();
//! otel::propagation::inject(&mut headers);
//!
//! // Consumer: the producer's context as the parent of the work on the message.
//! let parent = otel::propagation::extract(&headers);
//! let _current = parent.attach();
//! ```

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::{Context, global};

/// Writes the current context (trace and baggage) into `carrier`.
pub fn inject(carrier: &mut dyn Injector) {
    Context::map_current(|cx| inject_context(cx, carrier));
}

/// Writes `cx` into `carrier`.
pub fn inject_context(cx: &Context, carrier: &mut dyn Injector) {
    global::get_text_map_propagator(|propagator| propagator.inject_context(cx, carrier));
}

/// The context `carrier` carries, as a parent for local work; an empty context when it
/// carries none or a malformed one.
pub fn extract(carrier: &dyn Extractor) -> Context {
    global::get_text_map_propagator(|propagator| propagator.extract(carrier))
}

/// Writes the current context into HTTP headers (an outgoing request).
#[cfg(feature = "http-server")]
pub fn inject_headers(headers: &mut http::HeaderMap) {
    inject(&mut crate::http::HeaderInjector(headers));
}

/// The context incoming HTTP headers carry.
#[cfg(feature = "http-server")]
pub fn extract_headers(headers: &http::HeaderMap) -> Context {
    extract(&crate::http::HeaderExtractor(headers))
}
