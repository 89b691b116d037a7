//! The attribute keys and metric names `otel` writes that `opentelemetry-semantic-conventions`
//! (which follows the conventions' v1.42, its `SCHEMA_URL`) does not have, or has only as
//! deprecated, and `otel`'s own. Every other key comes from that crate.

/// `rust.future.cancelled = true`: the span of a future dropped before it completed. `otel`'s
/// own key, in the `rust.` namespace the conventions leave to the language.
pub(crate) const RUST_FUTURE_CANCELLED: &str = "rust.future.cancelled";
/// `rust.return.value`: the `Ok` value `#[otel::span(ret)]` records. `otel`'s own.
pub(crate) const RUST_RETURN_VALUE: &str = "rust.return.value";
/// `otel.attribute.panicked`: an attribute expression of `#[otel::span]` panicked (named
/// after the conventions' `otel.` keys for the SDK's own signals).
pub(crate) const OTEL_ATTRIBUTE_PANICKED: &str = "otel.attribute.panicked";
/// `pyroscope.profile.id`: the span id a local root's profile samples are labelled with, as
/// Grafana's Pyroscope integrations (pyroscope-otel) name it; not an OpenTelemetry convention.
pub(crate) const PYROSCOPE_PROFILE_ID: &str = "pyroscope.profile.id";

/// `rpc.system` (`grpc`): the RPC conventions as gRPC instrumentations and their dashboards
/// still write them; deprecated in v1.42 for `rpc.system.name`.
#[cfg(feature = "http-server")]
pub(crate) const RPC_SYSTEM: &str = "rpc.system";
/// `rpc.service`, the full service name; deprecated in v1.42, which folds it into
/// `rpc.method`.
#[cfg(feature = "http-server")]
pub(crate) const RPC_SERVICE: &str = "rpc.service";
/// `rpc.grpc.status_code`, the numeric gRPC status; deprecated in v1.42 for
/// `rpc.response.status_code`.
#[cfg(feature = "http-server")]
pub(crate) const RPC_GRPC_STATUS_CODE: &str = "rpc.grpc.status_code";
/// `rpc.server.duration` (milliseconds); deprecated in v1.42 for `rpc.server.call.duration`
/// (seconds).
#[cfg(feature = "http-server")]
pub(crate) const RPC_SERVER_DURATION: &str = "rpc.server.duration";
/// `rpc.client.duration` (milliseconds); deprecated in v1.42 for `rpc.client.call.duration`
/// (seconds).
#[cfg(feature = "http-server")]
pub(crate) const RPC_CLIENT_DURATION: &str = "rpc.client.duration";

/// `http.request.header.<key>`: the conventions' template attribute (v1.23 and later), with the
/// dot its keys are appended after.
#[cfg(feature = "http-server")]
pub(crate) const HTTP_REQUEST_HEADER_PREFIX: &str = "http.request.header.";
/// `http.response.header.<key>`, likewise.
#[cfg(feature = "http-server")]
pub(crate) const HTTP_RESPONSE_HEADER_PREFIX: &str = "http.response.header.";

/// `code.module.name`: not a convention; the key `tracing-opentelemetry` writes a `tracing`
/// span's module path under, which the console hides with the other code locations.
#[cfg(feature = "console")]
pub(crate) const CODE_MODULE_NAME: &str = "code.module.name";

#[cfg(all(test, feature = "http-server"))]
mod tests {
    use opentelemetry_semantic_conventions::attribute;

    #[test]
    fn the_header_prefixes_are_the_conventions_templates() {
        assert_eq!(
            super::HTTP_REQUEST_HEADER_PREFIX,
            format!("{}.", attribute::HTTP_REQUEST_HEADER)
        );
        assert_eq!(
            super::HTTP_RESPONSE_HEADER_PREFIX,
            format!("{}.", attribute::HTTP_RESPONSE_HEADER)
        );
    }
}
