//! The logger provider: batch (OTLP) and simple (console) processors, and the processors the
//! application added through [`Config`](crate::Config).

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{
    BatchConfigBuilder, BatchLogProcessor, LogExporter, SdkLoggerProvider,
};

use crate::config::{BatchSettings, Exporter, LogStep, Settings};
use crate::delivery::{CountedLogExporter, CountedLogs, Ledger};
use crate::diagnostics::warn_once;
#[cfg(feature = "console")]
use crate::exporter::console::ConsoleLogExporter;
#[cfg(feature = "_otlp")]
use crate::exporter::otlp;

/// Builds the logger provider, or `None` when logs are off and nothing was added in code.
pub(crate) fn provider(
    settings: &Settings,
    resource: Resource,
    steps: Vec<LogStep>,
) -> Option<SdkLoggerProvider> {
    let signal = &settings.logs;
    if !signal.is_enabled() && steps.is_empty() {
        return None;
    }
    let mut builder = SdkLoggerProvider::builder().with_resource(resource);
    // Resolution lists OTLP only when a transport is compiled.
    #[cfg(feature = "_otlp")]
    if signal.uses(Exporter::Otlp) {
        match otlp::log_exporter(signal) {
            Ok(exporter) => {
                let ledger = Ledger::register("log records", &signal.endpoint.value);
                let exporter = CountedLogExporter {
                    inner: exporter,
                    ledger: ledger.clone(),
                };
                builder = builder.with_log_processor(CountedLogs {
                    inner: batch(exporter, &settings.log_batch),
                    ledger,
                });
            }
            Err(error) => warn_once(&format!("the OTLP log exporter is off: {error}")),
        }
    }
    #[cfg(feature = "console")]
    if signal.uses(Exporter::Console) {
        builder = builder.with_log_processor(opentelemetry_sdk::logs::SimpleLogProcessor::new(
            ConsoleLogExporter,
        ));
    }
    for step in steps {
        builder = step(builder, &settings.log_batch);
    }
    Some(builder.build())
}

/// The SDK's batch processor with the resolved `OTEL_BLRP_*` limits.
pub(crate) fn batch(
    exporter: impl LogExporter + 'static,
    limits: &BatchSettings,
) -> BatchLogProcessor {
    let config = BatchConfigBuilder::default()
        .with_max_queue_size(limits.max_queue_size.value)
        .with_max_export_batch_size(limits.max_export_batch_size.value)
        .with_scheduled_delay(limits.schedule_delay.value)
        .build();
    BatchLogProcessor::builder(exporter)
        .with_batch_config(config)
        .build()
}
