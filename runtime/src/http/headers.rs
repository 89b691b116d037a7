//! `http::HeaderMap` as a carrier for the OpenTelemetry propagators.

use opentelemetry::propagation::Extractor;

/// Reads propagation fields (`traceparent`, `baggage`) from request headers. Values that are
/// not visible ASCII are skipped, so a malformed header starts a new trace, never an error.
#[derive(Debug)]
pub(crate) struct HeaderExtractor<'a>(pub(crate) &'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}
