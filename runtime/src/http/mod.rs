//! HTTP services: [`ServerLayer`], a tower layer that makes every request a server span with
//! the HTTP semantic conventions and records the HTTP server metrics (feature `http-server`;
//! route templates from axum with the `axum` feature), and for calls out with reqwest,
//! [`ClientMiddleware`] and [`send`] (feature `reqwest`).

mod captured;
#[cfg(feature = "reqwest")]
mod client;
mod excluded;
mod headers;
mod server;

#[cfg(feature = "reqwest")]
pub use client::{ClientMiddleware, send};

pub(crate) use headers::{HeaderExtractor, HeaderInjector};
pub use server::{ResponseFuture, ServerLayer, ServerService};

/// The semantic-convention buckets of `http.server.request.duration` and
/// `http.client.request.duration`, in seconds.
const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The method as the semantic conventions name it: one of the known methods, or `_OTHER`.
fn method_name(method: &http::Method) -> String {
    const KNOWN: [&str; 9] = [
        "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE",
    ];
    let method = method.as_str();
    if KNOWN.contains(&method) {
        method.to_owned()
    } else {
        "_OTHER".to_owned()
    }
}

/// Instruments made from the global meter provider on first use, and made again when `otel`
/// installs another meter provider (tests, a second `init`), so they are never left bound to
/// the no-op provider that was global before.
#[derive(Debug)]
struct GlobalInstruments<T> {
    made: std::sync::Mutex<Option<(u64, T)>>,
}

impl<T: Clone> GlobalInstruments<T> {
    const fn new() -> Self {
        Self {
            made: std::sync::Mutex::new(None),
        }
    }

    /// The instruments for the meter provider installed now. A lock per request: requests
    /// cost microseconds, this a few nanoseconds.
    fn get(&self, make: impl FnOnce() -> T) -> T {
        let generation = crate::metrics::backend::generation();
        let mut made = self
            .made
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match &*made {
            Some((made_in, instruments)) if *made_in == generation => instruments.clone(),
            _ => {
                let instruments = make();
                *made = Some((generation, instruments.clone()));
                instruments
            }
        }
    }
}
