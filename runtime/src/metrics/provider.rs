//! The meter provider: one periodic reader per exporter, and the readers the application
//! added through [`Config`](crate::Config).

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};

use crate::config::{Exporter, MetricStep, Settings};
use crate::diagnostics::warn_once;
use crate::exporter::{console::ConsoleMetricExporter, otlp};

/// Builds the meter provider, or `None` when metrics are off and nothing was added in code.
pub(crate) fn provider(
    settings: &Settings,
    resource: Resource,
    steps: Vec<MetricStep>,
) -> Option<SdkMeterProvider> {
    let signal = &settings.metrics;
    if !signal.is_enabled() && steps.is_empty() {
        return None;
    }
    let interval = settings.export_interval.value;
    let mut builder = SdkMeterProvider::builder().with_resource(resource);
    if signal.uses(Exporter::Otlp) {
        match otlp::metric_exporter(signal) {
            Ok(exporter) => {
                builder = builder.with_reader(
                    PeriodicReader::builder(exporter)
                        .with_interval(interval)
                        .build(),
                );
            }
            Err(error) => warn_once(&format!("the OTLP metric exporter is off: {error}")),
        }
    }
    if signal.uses(Exporter::Console) {
        builder = builder.with_reader(
            PeriodicReader::builder(ConsoleMetricExporter)
                .with_interval(interval)
                .build(),
        );
    }
    for step in steps {
        builder = step(builder);
    }
    Some(builder.build())
}
