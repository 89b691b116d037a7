//! Exporters: OTLP (gRPC, HTTP/protobuf, HTTP/JSON) and the human-first console.

pub(crate) mod console;
pub(crate) mod otlp;
mod runtime;

pub(crate) use runtime::exporter_runtime;
