//! Exporters: OTLP (gRPC, HTTP/protobuf, HTTP/JSON, each behind its cargo feature) and the
//! human-first console.

#[cfg(feature = "console")]
pub(crate) mod console;
pub(crate) mod failure;
#[cfg(feature = "_http-transport")]
mod http_client;
#[cfg(feature = "_otlp")]
pub(crate) mod otlp;
#[cfg(feature = "prometheus")]
pub(crate) mod prometheus;
#[cfg(feature = "grpc")]
mod runtime;

#[cfg(feature = "grpc")]
pub(crate) use runtime::exporter_runtime;

#[cfg(feature = "prometheus")]
pub(crate) use prometheus::Endpoint as PrometheusEndpoint;

/// Without the `prometheus` feature there is never an endpoint.
#[cfg(not(feature = "prometheus"))]
#[derive(Debug)]
pub(crate) enum PrometheusEndpoint {}

#[cfg(not(feature = "prometheus"))]
impl PrometheusEndpoint {
    pub(crate) fn stop(self, _timeout: std::time::Duration) {
        match self {}
    }
}
