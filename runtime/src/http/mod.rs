//! HTTP services: [`ServerLayer`], a tower layer that makes every request a server span with
//! the HTTP semantic conventions and records the HTTP server metrics (feature `http-server`;
//! route templates from axum with the `axum` feature), and for calls out with reqwest,
//! [`ClientMiddleware`] and [`send`] (feature `reqwest`). The same layer records gRPC calls as
//! RPCs; see [`crate::grpc`].

mod body;
mod captured;
#[cfg(feature = "reqwest")]
mod client;
mod excluded;
mod headers;
mod routes;
mod server;

#[cfg(feature = "reqwest")]
pub use client::{ClientMiddleware, USER_AGENT, client_builder, send};

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

pub(crate) use crate::generation::PerGeneration;

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
