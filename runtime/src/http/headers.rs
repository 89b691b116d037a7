//! `http::HeaderMap` as a carrier for the OpenTelemetry propagators.

use http::{HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector};

/// Reads propagation fields (`traceparent`, `baggage`) from headers. Values that are not
/// visible ASCII are skipped, so a malformed header starts a new trace, never an error.
#[derive(Debug)]
pub(crate) struct HeaderExtractor<'a>(pub(crate) &'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

/// Writes propagation fields into headers; a field that is not a valid header is left out.
#[derive(Debug)]
pub(crate) struct HeaderInjector<'a>(pub(crate) &'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}
