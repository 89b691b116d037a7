//! OTLP exporters for the three signals, configured from resolved settings.

use opentelemetry_otlp::{
    ExporterBuildError, LogExporter, MetricExporter, RetryPolicy, SpanExporter, WithExportConfig,
    WithHttpConfig, WithTonicConfig,
};

use super::exporter_runtime;
use crate::config::{Compression, Protocol, SignalSettings};

/// Builds the OTLP span exporter the settings describe.
pub(crate) fn span_exporter(s: &SignalSettings) -> Result<SpanExporter, ExporterBuildError> {
    match s.protocol.value {
        Protocol::Grpc => {
            on_exporter_runtime(|| tonic_config(SpanExporter::builder().with_tonic(), s).build())
        }
        _ => http_config(SpanExporter::builder().with_http(), s)?.build(),
    }
}

/// Builds the OTLP metric exporter the settings describe (cumulative temporality).
pub(crate) fn metric_exporter(s: &SignalSettings) -> Result<MetricExporter, ExporterBuildError> {
    match s.protocol.value {
        Protocol::Grpc => {
            on_exporter_runtime(|| tonic_config(MetricExporter::builder().with_tonic(), s).build())
        }
        _ => http_config(MetricExporter::builder().with_http(), s)?.build(),
    }
}

/// Builds the OTLP log exporter the settings describe.
pub(crate) fn log_exporter(s: &SignalSettings) -> Result<LogExporter, ExporterBuildError> {
    match s.protocol.value {
        Protocol::Grpc => {
            on_exporter_runtime(|| tonic_config(LogExporter::builder().with_tonic(), s).build())
        }
        _ => http_config(LogExporter::builder().with_http(), s)?.build(),
    }
}

/// gRPC channels spawn their connection task on the runtime they are built in: build them in
/// ours (see [`super::runtime`]).
fn on_exporter_runtime<T>(
    build: impl FnOnce() -> Result<T, ExporterBuildError>,
) -> Result<T, ExporterBuildError> {
    let runtime = exporter_runtime().ok_or_else(|| {
        ExporterBuildError::InternalFailure("the exporter runtime is not running".into())
    })?;
    let _entered = runtime.enter();
    build()
}

fn tonic_config<B: WithExportConfig + WithTonicConfig>(builder: B, s: &SignalSettings) -> B {
    let mut metadata = tonic::metadata::MetadataMap::new();
    for (name, value) in &s.headers.value {
        let key = tonic::metadata::MetadataKey::from_bytes(name.to_ascii_lowercase().as_bytes());
        let value = tonic::metadata::MetadataValue::try_from(value.as_str());
        match (key, value) {
            (Ok(key), Ok(value)) => {
                metadata.insert(key, value);
            }
            // Never echo the value: headers carry credentials.
            _ => crate::diagnostics::warn_once(&format!(
                "the OTLP header {name:?} is not valid gRPC metadata; it is not sent"
            )),
        }
    }
    let mut builder = builder
        .with_endpoint(s.endpoint.value.clone())
        .with_protocol(opentelemetry_otlp::Protocol::Grpc)
        .with_timeout(s.timeout.value)
        .with_metadata(metadata)
        .with_retry_policy(RetryPolicy::recommended());
    if s.compression.value == Compression::Gzip {
        builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
    }
    #[cfg(feature = "tls")]
    if s.endpoint.value.starts_with("https://") {
        let mut tls = tonic::transport::ClientTlsConfig::new().with_enabled_roots();
        if let Some(certificate) = &s.certificate {
            match std::fs::read(&certificate.value) {
                Ok(pem) => tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(pem)),
                Err(error) => crate::diagnostics::warn_once(&format!(
                    "could not read the OTLP certificate {} ({error}); using the system's roots",
                    certificate.value.display()
                )),
            }
        }
        builder = builder.with_tls_config(tls);
    }
    builder
}

fn http_config<B: WithExportConfig + WithHttpConfig>(
    builder: B,
    s: &SignalSettings,
) -> Result<B, ExporterBuildError> {
    let protocol = match s.protocol.value {
        Protocol::HttpJson => opentelemetry_otlp::Protocol::HttpJson,
        _ => opentelemetry_otlp::Protocol::HttpBinary,
    };
    let mut builder = builder
        .with_endpoint(s.endpoint.value.clone())
        .with_protocol(protocol)
        .with_timeout(s.timeout.value)
        .with_headers(s.headers.value.iter().cloned().collect())
        .with_retry_policy(RetryPolicy::recommended());
    if s.compression.value == Compression::Gzip {
        builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
    }
    #[cfg(not(feature = "tls"))]
    if s.certificate.is_some() {
        crate::diagnostics::warn_once(
            "OTEL_EXPORTER_OTLP_CERTIFICATE needs the `tls` feature of otel; it is ignored",
        );
    }
    #[cfg(feature = "tls")]
    if let Some(certificate) = &s.certificate {
        match http_client_trusting(&certificate.value, s.timeout.value) {
            Ok(client) => builder = builder.with_http_client(client),
            Err(error) => crate::diagnostics::warn_once(&format!(
                "could not use the OTLP certificate {} ({error}); using the system's roots",
                certificate.value.display()
            )),
        }
    }
    Ok(builder)
}

/// A blocking HTTP client that also trusts the CA certificates in the PEM file at `path`.
#[cfg(feature = "tls")]
fn http_client_trusting(
    path: &std::path::Path,
    timeout: std::time::Duration,
) -> Result<reqwest::blocking::Client, String> {
    let pem = std::fs::read(path).map_err(|e| e.to_string())?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| e.to_string())?;
    // The blocking client owns a runtime of its own, which must not be created (or later
    // dropped) inside an async context: build it on a plain thread.
    std::thread::spawn(move || {
        let mut builder = reqwest::blocking::Client::builder().timeout(timeout);
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
        builder.build().map_err(|e| e.to_string())
    })
    .join()
    .map_err(|_| "the thread building the HTTP client panicked".to_owned())?
}
