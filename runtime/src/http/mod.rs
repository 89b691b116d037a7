//! HTTP services: [`ServerLayer`], a tower layer that makes every request a server span with
//! the HTTP semantic conventions and records the HTTP server metrics (feature `http-server`;
//! route templates from axum with the `axum` feature), and for calls out with reqwest,
//! [`ClientMiddleware`] and [`send`] (feature `reqwest`). The same layer records gRPC calls as
//! RPCs; see [`crate::grpc`].

mod body;
mod bound;
mod captured;
#[cfg(feature = "reqwest")]
mod client;
mod excluded;
mod headers;
mod routes;
mod server;

#[cfg(feature = "reqwest")]
pub use client::{ClientMiddleware, send};

pub use body::ResponseBody;
pub(crate) use headers::{HeaderExtractor, HeaderInjector};
pub use server::{ResponseFuture, ServerLayer, ServerService};

/// The semantic-convention buckets of `http.server.request.duration` and
/// `http.client.request.duration`, in seconds.
const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The methods the semantic conventions name, then `_OTHER` for any other.
static METHODS: [&str; 10] = [
    "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE", "_OTHER",
];

/// The index of the method in [`METHODS`].
fn method_index(method: &http::Method) -> usize {
    let method = method.as_str();
    METHODS[..METHODS.len() - 1]
        .iter()
        .position(|known| *known == method)
        .unwrap_or(METHODS.len() - 1)
}

/// The method as the semantic conventions name it: one of the known methods, or `_OTHER`.
#[cfg(any(feature = "reqwest", test))]
fn method_name(method: &http::Method) -> &'static str {
    METHODS[method_index(method)]
}

/// Something made from a global provider (instruments, a tracer) and kept until `otel`
/// installs another provider of that signal (tests, a second `init`), so it is never left
/// bound to the no-op provider that was global before. Read without a lock: every request
/// reads it.
#[derive(Debug)]
pub(crate) struct PerGeneration<T> {
    made: arc_swap::ArcSwapOption<(u64, T)>,
}

impl<T: Clone> PerGeneration<T> {
    pub(crate) const fn new() -> Self {
        Self {
            made: arc_swap::ArcSwapOption::const_empty(),
        }
    }

    /// The value for `generation`, made by `make` when it changed. Generation `0` (nothing
    /// installed through `otel`) is never kept: the global provider may change unseen. Two
    /// threads that find it stale at once both make it; the SDK hands both the same
    /// instruments, and the last one kept wins.
    pub(crate) fn get(&self, generation: u64, make: impl FnOnce() -> T) -> T {
        if generation == 0 {
            return make();
        }
        if let Some(made) = &*self.made.load()
            && made.0 == generation
        {
            return made.1.clone();
        }
        let value = make();
        self.made
            .store(Some(std::sync::Arc::new((generation, value.clone()))));
        value
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unknown_methods_are_other() {
        assert_eq!(
            super::method_name(&http::Method::from_bytes(b"PURGE").expect("a method")),
            "_OTHER"
        );
        assert_eq!(super::method_name(&http::Method::GET), "GET");
    }
}
