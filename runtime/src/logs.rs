//! The logger provider: batch (OTLP) and simple (console) processors.

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{
    BatchConfigBuilder, BatchLogProcessor, SdkLoggerProvider, SimpleLogProcessor,
};

use crate::config::{Exporter, Settings};
use crate::diagnostics::warn_once;
use crate::exporter::{console::ConsoleLogExporter, otlp};

/// Builds the logger provider, or `None` when logs are off.
pub(crate) fn provider(settings: &Settings, resource: Resource) -> Option<SdkLoggerProvider> {
    let signal = &settings.logs;
    if !signal.is_enabled() {
        return None;
    }
    let mut builder = SdkLoggerProvider::builder().with_resource(resource);
    if signal.uses(Exporter::Otlp) {
        match otlp::log_exporter(signal) {
            Ok(exporter) => {
                let batch = &settings.log_batch;
                let config = BatchConfigBuilder::default()
                    .with_max_queue_size(batch.max_queue_size.value)
                    .with_max_export_batch_size(batch.max_export_batch_size.value)
                    .with_scheduled_delay(batch.schedule_delay.value)
                    .build();
                builder = builder.with_log_processor(
                    BatchLogProcessor::builder(exporter)
                        .with_batch_config(config)
                        .build(),
                );
            }
            Err(error) => warn_once(&format!("the OTLP log exporter is off: {error}")),
        }
    }
    if signal.uses(Exporter::Console) {
        builder = builder.with_log_processor(SimpleLogProcessor::new(ConsoleLogExporter));
    }
    Some(builder.build())
}
