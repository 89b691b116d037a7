//! Carrying the trace across processes by hand: into and out of any carrier the
//! OpenTelemetry propagators understand (a `HashMap<String, String>` of message headers, or
//! with the `http-server` feature an `http::HeaderMap`), through the propagators `otel`
//! installed (`OTEL_PROPAGATORS`, W3C `traceparent` and `baggage` by default). The W3C
//! propagator keeps the Level 2 `random` flag it receives, and sends it on.
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

#[cfg(feature = "sdk")]
mod trace_context;

#[cfg(feature = "sdk")]
pub(crate) use trace_context::TraceContext;

use opentelemetry::baggage::{BaggageExt as _, KeyValueMetadata};
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

/// The current context with one baggage entry added, or replaced when `key` is there already,
/// keeping every other entry the caller sent, with its metadata (the OpenTelemetry API's
/// `Context::current_with_baggage` replaces the whole baggage). Attach it for the work that
/// should carry the entry; `inject` and the HTTP and gRPC clients then send it on. The
/// W3C limits apply: an entry past 64 entries or 8,192 bytes is not added.
///
/// ```
/// let _outer = otel::propagation::with_baggage("tenant", "acme").attach();
/// let _inner = otel::propagation::with_baggage("plan", "gold").attach();
/// assert_eq!(otel::propagation::baggage("tenant").as_deref(), Some("acme"));
/// assert_eq!(otel::propagation::baggage("plan").as_deref(), Some("gold"));
/// ```
pub fn with_baggage(key: impl Into<String>, value: impl Into<String>) -> Context {
    let (key, value) = (key.into(), value.into());
    Context::map_current(|cx| {
        // A copy of the caller's entries, their metadata included, less the one replaced.
        let mut entries: Vec<KeyValueMetadata> = cx
            .baggage()
            .iter()
            .filter(|(existing, _)| existing.as_str() != key)
            .map(|(existing, (value, metadata))| {
                KeyValueMetadata::new(existing.clone(), value.clone(), metadata.clone())
            })
            .collect();
        entries.push(KeyValueMetadata::new(key, value, ""));
        cx.with_baggage(entries)
    })
}

/// The value of one baggage entry of the current context.
pub fn baggage(key: &str) -> Option<String> {
    Context::map_current(|cx| cx.baggage().get(key).map(|value| value.as_str().to_owned()))
}
