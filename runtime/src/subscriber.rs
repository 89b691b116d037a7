//! The `tracing` bridge: library spans join our traces, events become log records, and the
//! SDK's own warnings reach stderr.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Metadata;
use tracing_subscriber::filter::{self, FilterExt as _};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::diagnostics::{warn_once, warn_once_keyed};

/// Targets of the export path itself (the SDK, the OTLP exporters and their HTTP/gRPC stack).
/// Their events and spans never enter the pipeline: exporting them would export again, forever.
const EXPORT_PATH_TARGETS: &[&str] = &[
    "opentelemetry",
    "tonic",
    "h2",
    "hyper",
    "reqwest",
    "tower",
    "rustls",
];

fn is_export_path(metadata: &Metadata<'_>) -> bool {
    is_export_path_target(metadata.target())
}

/// Whether `target` is one of [`EXPORT_PATH_TARGETS`] or a module of it (a whole crate-name
/// match: `hyper_util` is hyper's, `hyperion` is not).
fn is_export_path_target(target: &str) -> bool {
    EXPORT_PATH_TARGETS.iter().any(|prefix| {
        target.starts_with(prefix)
            && target[prefix.len()..]
                .chars()
                .next()
                .is_none_or(|c| matches!(c, ':' | '_' | '-'))
    })
}

/// A warning or error of the SDK's own.
fn is_sdk_warning(metadata: &Metadata<'_>) -> bool {
    metadata.target().starts_with("opentelemetry") && *metadata.level() <= tracing::Level::WARN
}

/// Installs the global `tracing` subscriber. If the program already installed one, ours is
/// not installed (theirs keeps working) and a warning says so.
pub(crate) fn install(
    tracer_provider: Option<&SdkTracerProvider>,
    logger_provider: Option<&SdkLoggerProvider>,
    log_filter: &str,
) {
    let user_filter = || EnvFilter::builder().parse_lossy(log_filter);

    let spans = tracer_provider.map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("otel"))
            .with_filter(filter::filter_fn(|m| !is_export_path(m)).and(user_filter()))
    });
    let events = logger_provider.map(|provider| {
        OpenTelemetryTracingBridge::new(provider)
            .with_filter(filter::filter_fn(|m| !is_export_path(m)).and(user_filter()))
    });
    // The SDK reports export failures and dropped data as `tracing` warnings: show each kind
    // once (and only warnings: its debug events include configuration with header values).
    let sdk_warnings = SdkWarnings.with_filter(filter::filter_fn(is_sdk_warning));

    let subscriber = tracing_subscriber::registry()
        .with(spans)
        .with(events)
        .with(sdk_warnings);
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        warn_once(
            "a global tracing subscriber is already installed; `tracing` spans and events are \
             not bridged to OpenTelemetry",
        );
    }
}

/// Prints the SDK's warnings through [`warn_once`], keyed by the event's name, so a collector
/// that stays down yields one line per kind of failure rather than one per export.
struct SdkWarnings;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for SdkWarnings {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let metadata = event.metadata();
        // The per-layer filter alone is not enough: when the SDK warns from inside the log
        // bridge's handling of an application event (a full log queue), tracing-subscriber's
        // filter state for the outer event is reset by the nested one, and the application's
        // own record would arrive here and be printed as a warning.
        if !is_sdk_warning(metadata) {
            return;
        }
        // What `otel` counts and says itself (crate::delivery): failed exports with their
        // endpoint and counts, drops in its shutdown summary.
        if matches!(
            metadata.name(),
            "BatchSpanProcessor.ExportError"
                | "BatchLogProcessor.ExportError"
                | "PeriodicReader.ExportError"
                | "BatchSpanProcessor.SpansDropped"
                | "BatchLogProcessor.LogsDropped"
        ) {
            return;
        }
        // The first drop from a full queue, said in our words (the count is in the summary).
        let full = match metadata.name() {
            "BatchSpanProcessor.SpanDroppingStarted" => Some(("spans", "OTEL_BSP_MAX_QUEUE_SIZE")),
            "BatchLogProcessor.LogDroppingStarted" => {
                Some(("log records", "OTEL_BLRP_MAX_QUEUE_SIZE"))
            }
            _ => None,
        };
        if let Some((what, variable)) = full {
            warn_once(&format!(
                "{what}: the batch queue is full, so new {what} are dropped until exports \
                 drain it; the shutdown summary counts them (raise {variable} for bursts)"
            ));
            return;
        }
        let mut fields = FieldText(String::new());
        event.record(&mut fields);
        // The OTLP exporters' retry reports for spans and logs: said by crate::delivery too.
        if metadata.name().starts_with("Export.Failed")
            && ["Traces", "Logs", "Metrics"]
                .iter()
                .any(|signal| fields.0.contains(signal))
        {
            return;
        }
        warn_once_keyed(
            metadata.name(),
            &format!(
                "{} reported {}:{}",
                metadata.target(),
                metadata.name(),
                fields.0
            ),
        );
    }
}

/// `key=value` text of an event's fields, except the `name` field (already shown).
struct FieldText(String);

impl tracing::field::Visit for FieldText {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() != "name" {
            use std::fmt::Write as _;
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn export_path_targets_match_whole_crate_names() {
        let matches = super::is_export_path_target;
        assert!(matches("opentelemetry_sdk"));
        assert!(matches("opentelemetry-otlp"));
        assert!(matches("h2::codec"));
        assert!(matches("hyper_util::client"));
        assert!(!matches("hyperion"));
        assert!(!matches("my_app"));
    }
}
