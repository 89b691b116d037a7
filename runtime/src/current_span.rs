//! Attributes, events and errors added to the current span from inside a function body.
//!
//! "Current" is the innermost span of this thread or task: the one `#[otel::span]` opened, a
//! `tracing` span entered through the bridge, or a span made current through the OpenTelemetry
//! API. When nothing is recording, every function here returns at once.
//!
//! ```
//! #[otel::span]
//! fn reserve(sku: &str, quantity: u32) -> bool {
//!     otel::current_span::set_attribute("inventory.sku", sku.to_owned());
//!     let available = quantity < 10;
//!     if !available {
//!         otel::current_span::add_event("backorder", [otel::opentelemetry::KeyValue::new("quantity", i64::from(quantity))]);
//!     }
//!     available
//! }
//! # reserve("a-1", 3);
//! ```

use std::borrow::Cow;
use std::error::Error;

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Context, Key, KeyValue, Value};

use crate::trace::outcome::{self, ErrorReport};

/// Sets an attribute on the current span.
pub fn set_attribute(key: impl Into<Key>, value: impl Into<Value>) {
    Context::map_current(|cx| {
        let span = cx.span();
        if span.is_recording() {
            span.set_attribute(KeyValue::new(key, crate::limits::span_value(value.into())));
        }
    });
}

/// Links the current span to another (the message a consumer handles, an earlier attempt):
/// anything [`IntoLink`](crate::IntoLink), such as the context
/// [`propagation::extract`](crate::propagation::extract) read from a message. Links added
/// after the span started are not seen by its sampler; `#[otel::span(links = ..)]` gives
/// them at the start.
///
/// ```
/// #[otel::span(kind = consumer)]
/// fn handle(headers: &std::collections::HashMap<String, String>) {
///     otel::current_span::add_link(otel::propagation::extract(headers));
/// }
/// # handle(&Default::default());
/// ```
pub fn add_link(target: impl crate::IntoLink) {
    let Some(link) = target.into_link() else {
        return;
    };
    Context::map_current(|cx| {
        let span = cx.span();
        if span.is_recording() {
            let (span_context, attributes) = crate::trace::links::parts(link);
            span.add_link(span_context, attributes);
        }
    });
}

/// Adds a timestamped event to the current span.
pub fn add_event(
    name: impl Into<Cow<'static, str>>,
    attributes: impl IntoIterator<Item = KeyValue>,
) {
    Context::map_current(|cx| {
        let span = cx.span();
        if span.is_recording() {
            span.add_event(
                name,
                attributes
                    .into_iter()
                    .map(|kv| KeyValue::new(kv.key, crate::limits::span_value(kv.value)))
                    .collect(),
            );
        }
    });
}

/// Records `error` on the current span as `#[otel::span]` records a returned `Err`: status
/// Error, `error.type`, and the `exception` event with the `source()` chain. For errors the
/// function handles itself rather than returns.
///
/// ```
/// #[otel::span]
/// fn read_config() -> String {
///     std::fs::read_to_string("app.toml").unwrap_or_else(|error| {
///         otel::current_span::record_error(&error);
///         String::new()
///     })
/// }
/// # read_config();
/// ```
pub fn record_error<E: Error + 'static>(error: &E) {
    Context::map_current(|cx| {
        if cx.span().is_recording() {
            outcome::record_error(
                cx,
                ErrorReport::from_error(std::any::type_name::<E>(), error),
            );
        }
    });
}

/// The current trace id as 32 lowercase hex digits, `None` outside any span. Return it to
/// callers (a response header, an error page) so a report can be found in the backend.
pub fn trace_id() -> Option<String> {
    Context::map_current(|cx| {
        let span_context = cx.span().span_context().clone();
        span_context
            .is_valid()
            .then(|| span_context.trace_id().to_string())
    })
}

/// The current span's id as 16 lowercase hex digits, `None` outside any span: the value a
/// local root's `pyroscope.profile.id` and its profile samples' `span_id` carry.
pub fn span_id() -> Option<String> {
    Context::map_current(|cx| {
        let span_context = cx.span().span_context().clone();
        span_context
            .is_valid()
            .then(|| span_context.span_id().to_string())
    })
}
