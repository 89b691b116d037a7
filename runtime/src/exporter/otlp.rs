//! OTLP exporters for the three signals, configured from resolved settings. Each protocol is
//! compiled only with its cargo feature; resolution never picks one that is not (see
//! `config::resolve`), so the fallbacks here only name what is missing.

#[cfg(feature = "_http-transport")]
use opentelemetry_otlp::WithHttpConfig;
#[cfg(feature = "grpc")]
use opentelemetry_otlp::WithTonicConfig;
use opentelemetry_otlp::{
    ExporterBuildError, LogExporter, MetricExporter, RetryPolicy, SpanExporter, WithExportConfig,
};

#[cfg(feature = "grpc")]
use super::exporter_runtime;
#[cfg(feature = "_http-transport")]
use super::http_client::ExportClient;
#[cfg(feature = "_http-transport")]
use crate::config::Protocol;
use crate::config::{Compression, SignalSettings};

/// Builds the OTLP exporter of one signal over the settings' protocol: `$builder` is the
/// SDK's exporter type (`SpanExporter`, ...).
macro_rules! exporter_for {
    ($exporter:ident, $s:expr) => {{
        let s: &SignalSettings = $s;
        match s.protocol.value {
            #[cfg(feature = "grpc")]
            crate::config::Protocol::Grpc => {
                on_exporter_runtime(|| tonic_config($exporter::builder().with_tonic(), s).build())
            }
            #[cfg(feature = "_http-transport")]
            _ => http_config($exporter::builder().with_http(), s)?.build(),
            #[cfg(not(feature = "_http-transport"))]
            #[allow(unreachable_patterns)]
            other => Err(ExporterBuildError::InvalidConfiguration(format!(
                "{other} needs a cargo feature of otel that is off"
            ))),
        }
    }};
}

/// Builds the OTLP span exporter the settings describe.
pub(crate) fn span_exporter(s: &SignalSettings) -> Result<SpanExporter, ExporterBuildError> {
    exporter_for!(SpanExporter, s)
}

/// Builds the OTLP metric exporter the settings describe (cumulative temporality).
pub(crate) fn metric_exporter(s: &SignalSettings) -> Result<MetricExporter, ExporterBuildError> {
    exporter_for!(MetricExporter, s)
}

/// Builds the OTLP log exporter the settings describe.
pub(crate) fn log_exporter(s: &SignalSettings) -> Result<LogExporter, ExporterBuildError> {
    exporter_for!(LogExporter, s)
}

/// gRPC channels spawn their connection task on the runtime they are built in: build them in
/// ours (see [`super::runtime`]).
#[cfg(feature = "grpc")]
fn on_exporter_runtime<T>(
    build: impl FnOnce() -> Result<T, ExporterBuildError>,
) -> Result<T, ExporterBuildError> {
    let runtime = exporter_runtime().ok_or_else(|| {
        ExporterBuildError::InternalFailure("the exporter runtime is not running".into())
    })?;
    let _entered = runtime.enter();
    build()
}

#[cfg(feature = "grpc")]
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
    // The SDK's builder re-reads `OTEL_EXPORTER_OTLP_[SIGNAL_]HEADERS` with its own parser and
    // adds what it finds before the interceptor runs: replacing the request's metadata here
    // (its user agent kept) sends exactly the resolved headers, as the report says.
    let mut builder = builder
        .with_endpoint(s.endpoint.value.clone())
        .with_protocol(opentelemetry_otlp::Protocol::Grpc)
        .with_timeout(s.timeout.value)
        .with_interceptor(move |mut request: tonic::Request<()>| {
            let user_agent = request.metadata().get("user-agent").cloned();
            *request.metadata_mut() = metadata.clone();
            if let Some(value) = user_agent
                && !request.metadata().contains_key("user-agent")
            {
                request.metadata_mut().insert("user-agent", value);
            }
            Ok(request)
        })
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

#[cfg(feature = "_http-transport")]
/// The HTTP settings, on [`ExportClient`]: it sends exactly the resolved headers and keeps
/// why an export failed.
fn http_config<B: WithExportConfig + WithHttpConfig>(
    builder: B,
    s: &SignalSettings,
) -> Result<B, ExporterBuildError> {
    let protocol = match s.protocol.value {
        #[cfg(feature = "http-json")]
        Protocol::HttpJson => opentelemetry_otlp::Protocol::HttpJson,
        #[cfg(feature = "http-proto")]
        _ => opentelemetry_otlp::Protocol::HttpBinary,
        #[cfg(not(feature = "http-proto"))]
        _ => opentelemetry_otlp::Protocol::HttpJson,
    };
    let mut builder = builder
        .with_endpoint(s.endpoint.value.clone())
        .with_protocol(protocol)
        .with_timeout(s.timeout.value)
        .with_retry_policy(RetryPolicy::recommended());
    if s.compression.value == Compression::Gzip {
        builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
    }
    let certificate = s.certificate.as_ref().map(|c| c.value.as_path());
    let client = match ExportClient::new(&s.headers.value, s.timeout.value, certificate) {
        Ok(client) => client,
        Err(problem) => {
            crate::diagnostics::warn_once(&format!("{problem}; using the system's roots"));
            ExportClient::new(&s.headers.value, s.timeout.value, None)
                .map_err(ExporterBuildError::InternalFailure)?
        }
    };
    Ok(builder.with_http_client(client))
}
