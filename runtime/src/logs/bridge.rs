//! `tracing` events, and the `log` crate's records routed through them, as log records: the
//! event's time, its code location on the current conventions, its name only when the event
//! was given one.
//!
//! Why not `opentelemetry-appender-tracing`: its records have no timestamp (collectors show
//! 1970), every record is an Event named after tracing's default `"event src/main.rs:84"`,
//! and the code location is on deprecated keys behind an experimental feature.

use std::time::SystemTime;

use opentelemetry::Key;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};
use opentelemetry_semantic_conventions::attribute::{
    CODE_FILE_PATH, CODE_LINE_NUMBER, EXCEPTION_MESSAGE,
};
use tracing::field::{Field, Visit};
use tracing::{Level, Metadata};
use tracing_log::NormalizeEvent as _;

use crate::limits::log_string;

/// The layer: one log record per event that passes its filter.
pub(crate) struct LogBridge {
    logger: SdkLogger,
}

impl LogBridge {
    /// Records go to `provider` under the empty instrumentation scope name (as the OTel
    /// appenders do: the scope is the bridge, and the event's target is the record's own).
    pub(crate) fn new(provider: &SdkLoggerProvider) -> Self {
        Self {
            logger: provider.logger(""),
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for LogBridge {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        // A `log` record arrives as an event of target `log` whose real target, module, file
        // and line are fields; normalized, its metadata says them.
        let normalized = event.normalized_metadata();
        let from_log = normalized.is_some();
        let metadata = normalized.as_ref().unwrap_or_else(|| event.metadata());
        let severity = severity(metadata.level());
        let name = given_name(event.metadata());
        if !self.logger.event_enabled(severity, metadata.target(), name) {
            return;
        }
        let mut record = self.logger.create_log_record();
        record.set_timestamp(SystemTime::now());
        if from_log {
            record.set_target(metadata.target().to_owned());
        } else {
            record.set_target(event.metadata().target());
        }
        if let Some(name) = name {
            record.set_event_name(name);
        }
        record.set_severity_number(severity);
        record.set_severity_text(metadata.level().as_str());
        if let Some(file) = metadata.file() {
            record.add_attribute(Key::from_static_str(CODE_FILE_PATH), file.to_owned());
        }
        if let Some(line) = metadata.line() {
            record.add_attribute(Key::from_static_str(CODE_LINE_NUMBER), i64::from(line));
        }
        event.record(&mut FieldsToRecord {
            record: &mut record,
            from_log,
        });
        self.logger.emit(record);
    }
}

/// The name the event was given (`info!(name: "cart.checkout", ..)`), or `None` for tracing's
/// default `"event <file>:<line>"`, which names a code location, not an event.
fn given_name(metadata: &'static Metadata<'static>) -> Option<&'static str> {
    let name = metadata.name();
    let is_default = name
        .strip_prefix("event ")
        .and_then(|rest| rest.strip_prefix(metadata.file().unwrap_or_default()))
        .and_then(|rest| rest.strip_prefix(':'))
        .is_some_and(|line| line.parse().ok() == metadata.line());
    // `log` records: tracing-log names them all "log event".
    let is_log_record = metadata.target() == "log" && name == "log event";
    (!is_default && !is_log_record).then_some(name)
}

fn severity(level: &Level) -> Severity {
    match *level {
        Level::TRACE => Severity::Trace,
        Level::DEBUG => Severity::Debug,
        Level::INFO => Severity::Info,
        Level::WARN => Severity::Warn,
        Level::ERROR => Severity::Error,
    }
}

/// The event's fields: `message` is the body, the others attributes under their own names.
struct FieldsToRecord<'a, R> {
    record: &'a mut R,
    /// The `log.*` fields of a `log` record are its metadata, already on the record.
    from_log: bool,
}

impl<R: opentelemetry::logs::LogRecord> FieldsToRecord<'_, R> {
    fn skipped(&self, field: &Field) -> bool {
        self.from_log && field.name().starts_with("log.")
    }

    fn add(&mut self, field: &Field, value: AnyValue) {
        if self.skipped(field) {
            return;
        }
        if field.name() == "message" {
            self.record.set_body(value);
        } else {
            self.record
                .add_attribute(Key::from_static_str(field.name()), value);
        }
    }
}

impl<R: opentelemetry::logs::LogRecord> Visit for FieldsToRecord<'_, R> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.add(field, AnyValue::from(text));
        } else {
            self.add(field, AnyValue::from(log_string(&text).into_owned()));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.add(field, AnyValue::from(value.to_owned()));
        } else {
            self.add(field, AnyValue::from(log_string(value).into_owned()));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.add(field, AnyValue::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.add(field, AnyValue::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.add(field, AnyValue::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match i64::try_from(value) {
            Ok(value) => self.add(field, AnyValue::from(value)),
            Err(_) => self.add(field, AnyValue::from(value.to_string())),
        }
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        match i64::try_from(value) {
            Ok(value) => self.add(field, AnyValue::from(value)),
            Err(_) => self.add(field, AnyValue::from(value.to_string())),
        }
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        match i64::try_from(value) {
            Ok(value) => self.add(field, AnyValue::from(value)),
            Err(_) => self.add(field, AnyValue::from(value.to_string())),
        }
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        self.add(field, AnyValue::from(value));
    }

    /// `error = &err as &dyn Error`: the error's message on the exception key.
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if field.name() == "message" {
            self.record.set_body(AnyValue::from(value.to_string()));
        } else {
            self.record.add_attribute(
                Key::from_static_str(EXCEPTION_MESSAGE),
                AnyValue::from(value.to_string()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::given_name;

    #[test]
    fn default_event_names_are_not_event_names() {
        // The metadata of a real `info!` callsite, with and without `name:`.
        struct Capture;
        impl tracing::Subscriber for Capture {
            fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
                true
            }
            fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
                tracing::span::Id::from_u64(1)
            }
            fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
            fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
            fn event(&self, event: &tracing::Event<'_>) {
                NAMED.with(|named| named.set(Some(event.metadata())));
            }
            fn enter(&self, _: &tracing::span::Id) {}
            fn exit(&self, _: &tracing::span::Id) {}
        }
        thread_local! {
            static NAMED: std::cell::Cell<Option<&'static tracing::Metadata<'static>>> =
                const { std::cell::Cell::new(None) };
        }
        tracing::subscriber::with_default(Capture, || {
            tracing::info!("unnamed");
            let unnamed = NAMED.with(std::cell::Cell::get).expect("event seen");
            assert_eq!(given_name(unnamed), None);
            tracing::info!(name: "cart.checkout", "named");
            let named = NAMED.with(std::cell::Cell::get).expect("event seen");
            assert_eq!(given_name(named), Some("cart.checkout"));
        });
    }
}
