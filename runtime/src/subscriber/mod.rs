//! The `tracing` bridge: library spans join our traces, events (and the `log` crate's records)
//! become log records, and the SDK's own warnings reach stderr. Installed as the global
//! subscriber, or handed out by [`tracing_layer`] for one the application composes.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::sync::Mutex;
use tracing::Metadata;
use tracing_subscriber::filter::filter_fn;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::diagnostics::{warn_once, warn_once_keyed};

mod filter;

use filter::BridgeFilter;

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

/// What the bridge layers are built from, kept at `init` so that [`tracing_layer`] can build
/// them for a subscriber the application composes itself.
#[derive(Clone)]
struct Bridge {
    tracer: Option<SdkTracerProvider>,
    logger: Option<SdkLoggerProvider>,
    log_filter: String,
}

static BRIDGE: Mutex<Option<Bridge>> = Mutex::new(None);

/// Keeps what the bridge needs, routes the `log` crate's records into `tracing`, and, when
/// `install` is set, installs a global subscriber made of the bridge alone. If the program
/// already installed one, ours is not installed (theirs keeps working) and a warning says how
/// to compose instead.
pub(crate) fn configure(
    tracer: Option<&SdkTracerProvider>,
    logger: Option<&SdkLoggerProvider>,
    log_filter: &str,
    install: bool,
) {
    *crate::sync::lock(&BRIDGE) = Some(Bridge {
        tracer: tracer.cloned(),
        logger: logger.cloned(),
        log_filter: log_filter.to_owned(),
    });
    if !install {
        return;
    }
    bridge_log_records(log_filter);
    let subscriber = tracing_subscriber::registry().with(tracing_layer());
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        warn_once(
            "a global tracing subscriber is already installed, so otel's is not: `tracing` \
             spans and events are not bridged to OpenTelemetry. To keep your subscriber and \
             bridge them, set `subscriber = false` in #[otel::main] (Config::subscriber(false)) \
             and add `otel::tracing_layer()` to your subscriber",
        );
    }
}

/// The `log` crate's records as `tracing` events, so they reach the bridge (and any other
/// layer) with the current span's trace context. A `log` logger the program installed itself
/// stays; one warning says that its records are not bridged.
fn bridge_log_records(log_filter: &str) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // `log` macros below this level cost one comparison, as without the bridge.
        let max_level = EnvFilter::builder()
            .parse_lossy(log_filter)
            .max_level_hint()
            .map_or(tracing_log::log::LevelFilter::Trace, as_log_level);
        if tracing_log::LogTracer::builder()
            .with_max_level(max_level)
            .init()
            .is_err()
        {
            warn_once(
                "a `log` logger is already installed: records of crates that log through the \
                 `log` crate go to it and are not bridged to OpenTelemetry",
            );
        }
    });
}

fn as_log_level(level: tracing::level_filters::LevelFilter) -> tracing_log::log::LevelFilter {
    use tracing::level_filters::LevelFilter;
    use tracing_log::log::LevelFilter as Log;
    match level {
        LevelFilter::OFF => Log::Off,
        LevelFilter::ERROR => Log::Error,
        LevelFilter::WARN => Log::Warn,
        LevelFilter::INFO => Log::Info,
        LevelFilter::DEBUG => Log::Debug,
        _ => Log::Trace,
    }
}

/// `otel`'s `tracing` layers, for a subscriber the application composes with its own layers
/// (a JSON formatter, say): `tracing` spans join the traces of the installed tracer provider,
/// events at or above the resolved `log_filter` (`RUST_LOG` wins) become log records carrying
/// the current trace and span ids, and the SDK's own warnings are printed once each. Records of
/// the `log` crate are routed through it too.
///
/// Call it after `otel` is initialised (inside a `main` under `#[otel::main(subscriber =
/// false)]`, or after [`Config::init`](crate::Config::init) with `.subscriber(false)`), so it
/// finds the providers; before that it is a layer that does nothing, and says so once.
///
/// ```no_run
/// use tracing_subscriber::prelude::*;
///
/// #[otel::main(service = "checkout", subscriber = false)]
/// fn main() {
///     tracing_subscriber::registry()
///         .with(otel::tracing_layer())
///         .with(tracing_subscriber::fmt::layer())
///         .init();
///     tracing::info!("printed by the fmt layer and exported as a log record");
/// }
/// ```
pub fn tracing_layer<S>() -> impl tracing_subscriber::Layer<S> + Send + Sync + 'static
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
{
    let bridge = crate::sync::lock(&BRIDGE).clone();
    let Some(bridge) = bridge else {
        warn_once(
            "otel::tracing_layer() was called before otel was initialised: the layer it \
             returned bridges nothing; call it after #[otel::main] or Config::init",
        );
        return None;
    };
    bridge_log_records(&bridge.log_filter);
    let spans = bridge.tracer.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("otel"))
            .with_filter(BridgeFilter::new(&bridge.log_filter))
    });
    let events = bridge.logger.as_ref().map(|provider| {
        crate::logs::bridge::LogBridge::new(provider)
            .with_filter(BridgeFilter::new(&bridge.log_filter))
    });
    // The SDK reports export failures and dropped data as `tracing` warnings: show each kind
    // once (and only warnings: its debug events include configuration with header values).
    let sdk_warnings = SdkWarnings.with_filter(filter_fn(is_sdk_warning));
    Some(tracing_subscriber::Layer::and_then(spans, events).and_then(sdk_warnings))
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
