//! Exporters: OTLP (gRPC, HTTP/protobuf, HTTP/JSON) and the human-first console.

pub(crate) mod console;
pub(crate) mod failure;
mod http_client;
pub(crate) mod otlp;
#[cfg(feature = "prometheus")]
pub(crate) mod prometheus;
mod runtime;

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
