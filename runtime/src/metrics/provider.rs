//! The meter provider: one periodic reader per exporter, and the readers the application
//! added through [`Config`](crate::Config).

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{MeterProviderBuilder, PeriodicReader, SdkMeterProvider};

use crate::config::{Exporter, MetricStep, Settings};
use crate::diagnostics::warn_once;
use crate::exporter::PrometheusEndpoint;
#[cfg(feature = "console")]
use crate::exporter::console::ConsoleMetricExporter;
#[cfg(feature = "_otlp")]
use crate::exporter::otlp;

/// The meter provider, and the Prometheus endpoint serving it when asked for.
#[derive(Debug)]
pub(crate) struct MeterPipeline {
    pub(crate) provider: SdkMeterProvider,
    pub(crate) prometheus: Option<PrometheusEndpoint>,
}

/// Builds the meter provider, or `None` when metrics are off and nothing was added in code.
pub(crate) fn pipeline(
    settings: &Settings,
    resource: Resource,
    steps: Vec<MetricStep>,
) -> Option<MeterPipeline> {
    let signal = &settings.metrics;
    if !signal.is_enabled() && steps.is_empty() {
        return None;
    }
    let mut prometheus = None;
    let interval = settings.export_interval.value;
    let mut builder = SdkMeterProvider::builder().with_resource(resource);
    // Resolution lists OTLP only when a transport is compiled.
    #[cfg(feature = "_otlp")]
    if signal.uses(Exporter::Otlp) {
        match otlp::metric_exporter(signal) {
            Ok(exporter) => {
                let exporter = crate::delivery::CountedMetricExporter {
                    inner: exporter,
                    ledger: crate::delivery::Ledger::register(
                        "metric exports",
                        &signal.endpoint.value,
                    ),
                };
                builder = builder.with_reader(
                    PeriodicReader::builder(exporter)
                        .with_interval(interval)
                        .build(),
                );
            }
            Err(error) => warn_once(&format!("the OTLP metric exporter is off: {error}")),
        }
    }
    #[cfg(feature = "console")]
    if signal.uses(Exporter::Console) {
        builder = builder.with_reader(
            PeriodicReader::builder(ConsoleMetricExporter)
                .with_interval(interval)
                .build(),
        );
    }
    if signal.uses(Exporter::Prometheus) {
        let (with_reader, endpoint) = prometheus_reader(settings, builder);
        builder = with_reader;
        prometheus = endpoint;
    }
    for step in steps {
        builder = step(builder);
    }
    Some(MeterPipeline {
        provider: builder.build(),
        prometheus,
    })
}

/// Adds the Prometheus reader and starts its endpoint. A port already in use is one warning
/// naming the address; the program runs on, and the other exporters work as before.
#[cfg(feature = "prometheus")]
fn prometheus_reader(
    settings: &Settings,
    builder: MeterProviderBuilder,
) -> (MeterProviderBuilder, Option<PrometheusEndpoint>) {
    let host = &settings.prometheus_host.value;
    // An IPv6 address is bracketed before its port.
    let address = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{}", settings.prometheus_port.value)
    } else {
        format!("{host}:{}", settings.prometheus_port.value)
    };
    let (reader, registry) = match crate::exporter::prometheus::reader() {
        Ok(made) => made,
        Err(error) => {
            warn_once(&format!("the Prometheus exporter is off: {error}"));
            return (builder, None);
        }
    };
    match PrometheusEndpoint::start(&address, registry) {
        Ok(endpoint) => (builder.with_reader(reader), Some(endpoint)),
        Err(error) => {
            warn_once(&format!(
                "the Prometheus endpoint is off: {error}; metrics are not served at \
                 http://{address}/metrics (set OTEL_EXPORTER_PROMETHEUS_HOST and \
                 OTEL_EXPORTER_PROMETHEUS_PORT to choose another address)"
            ));
            (builder, None)
        }
    }
}

#[cfg(not(feature = "prometheus"))]
fn prometheus_reader(
    _settings: &Settings,
    builder: MeterProviderBuilder,
) -> (MeterProviderBuilder, Option<PrometheusEndpoint>) {
    warn_once(
        "metrics are to go to prometheus, but otel was built without its `prometheus` \
         feature; add it (otel-compile = { features = [\"prometheus\"] }) to serve /metrics",
    );
    (builder, None)
}
