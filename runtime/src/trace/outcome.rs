//! What a call's result does to its span: an `Err` becomes status Error, `error.type` and an
//! `exception` event (or log record, per `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN`).
//!
//! The expansion cannot see whether a return type is a `Result` (aliases hide it), so it calls
//! [`__record_outcome!`](crate::__record_outcome), which writes
//! `(&&&&&&&Outcome(&value)).__otel_record(span)`: method resolution picks the most capable
//! impl below ("autoref specialization"), the first receiver type that matches. The depth is
//! written only there, next to the impls it must match.

use std::backtrace::{Backtrace, BacktraceStatus};
use std::error::Error;
use std::fmt::{Debug, Display, Write as _};
use std::sync::OnceLock;

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, Severity};
use opentelemetry::trace::{Status, TraceContextExt as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute;

use crate::conventions;
use crate::diagnostics::warn_once;

use super::installed;
use super::live::LiveSpan;

/// Where exceptions are reported, from `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExceptionSignal {
    /// The `exception` span event (unset, the default).
    SpanEvent,
    /// `logs`: a log record instead of the span event.
    Logs,
    /// `logs/dup`: both.
    Both,
}

impl ExceptionSignal {
    pub(crate) const VARIABLE: &'static str = "OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN";

    /// Parses the variable's comma-separated list; unknown entries are warned about once.
    pub(crate) fn parse(value: Option<&str>) -> Self {
        let mut signal = Self::SpanEvent;
        for entry in value.unwrap_or_default().split(',').map(str::trim) {
            match entry {
                "" => {}
                "logs" if signal == Self::SpanEvent => signal = Self::Logs,
                "logs" => {}
                "logs/dup" => signal = Self::Both,
                other => warn_once(&format!(
                    "{}: unknown value `{other}` ignored (expected `logs` or `logs/dup`)",
                    Self::VARIABLE
                )),
            }
        }
        signal
    }

    pub(crate) fn span_event(self) -> bool {
        self != Self::Logs
    }

    pub(crate) fn log_record(self) -> bool {
        self != Self::SpanEvent
    }
}

/// The variable that opts in to a backtrace for every returned error: `true` or `false`.
pub(crate) const ERROR_BACKTRACE_VARIABLE: &str = "OTEL_RUST_ERROR_BACKTRACE";

/// Whether returned errors get a backtrace, read once from [`ERROR_BACKTRACE_VARIABLE`].
fn error_backtraces() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| {
        parse_error_backtrace(std::env::var(ERROR_BACKTRACE_VARIABLE).ok().as_deref())
    })
}

fn parse_error_backtrace(value: Option<&str>) -> bool {
    match value.map(str::trim) {
        None | Some("") => false,
        Some(value) if value.eq_ignore_ascii_case("true") || value == "1" => true,
        Some(value) if value.eq_ignore_ascii_case("false") || value == "0" => false,
        Some(other) => {
            warn_once(&format!(
                "{ERROR_BACKTRACE_VARIABLE}=\"{other}\" is not true or false; using false (default)"
            ));
            false
        }
    }
}

/// An error, ready to be recorded.
#[derive(Debug)]
pub(crate) struct ErrorReport {
    pub(crate) type_name: &'static str,
    pub(crate) message: String,
    pub(crate) stacktrace: Option<String>,
}

impl ErrorReport {
    /// From a `std::error::Error`: its `source()` chain as "Caused by" lines, after a
    /// backtrace captured here when [`ERROR_BACKTRACE_VARIABLE`] opts in. Not merely because
    /// `RUST_BACKTRACE` is set: that asks for panic backtraces, and one capture costs tens of
    /// microseconds, far more than the span.
    pub(crate) fn from_error(type_name: &'static str, error: &(dyn Error + 'static)) -> Self {
        let backtrace = if error_backtraces() {
            Backtrace::force_capture()
        } else {
            Backtrace::disabled()
        };
        Self::with_backtrace(type_name, error, &backtrace)
    }

    pub(crate) fn with_backtrace(
        type_name: &'static str,
        error: &(dyn Error + 'static),
        backtrace: &Backtrace,
    ) -> Self {
        let mut stacktrace = String::new();
        if backtrace.status() == BacktraceStatus::Captured {
            let _ = write!(stacktrace, "{backtrace}");
        }
        let mut source = error.source();
        while let Some(cause) = source {
            if !stacktrace.is_empty() && !stacktrace.ends_with('\n') {
                stacktrace.push('\n');
            }
            let _ = write!(stacktrace, "Caused by: {cause}");
            source = cause.source();
        }
        Self {
            type_name,
            message: error.to_string(),
            stacktrace: (!stacktrace.is_empty()).then_some(stacktrace),
        }
    }

    /// The semantic conventions' exception attributes: `exception.type`, `exception.message`
    /// and, when there is one, `exception.stacktrace`; for the span event and the log record
    /// alike.
    pub(crate) fn exception_attributes(&self) -> impl Iterator<Item = KeyValue> + '_ {
        [
            KeyValue::new(attribute::EXCEPTION_TYPE, self.type_name),
            KeyValue::new(
                attribute::EXCEPTION_MESSAGE,
                crate::limits::span_string(self.message.clone()),
            ),
        ]
        .into_iter()
        .chain(self.stacktrace.clone().map(|stacktrace| {
            KeyValue::new(
                attribute::EXCEPTION_STACKTRACE,
                crate::limits::span_string(stacktrace),
            )
        }))
    }

    fn message_only(type_name: &'static str, message: String) -> Self {
        Self {
            type_name,
            message,
            stacktrace: None,
        }
    }
}

/// Records `report` on the span of `cx`, whatever kind of span it is: status Error with the
/// message, `error.type`, and the exception as a span event and/or a log record.
#[cold]
pub(crate) fn record_error(cx: &Context, report: ErrorReport) {
    #[cfg(feature = "http-server")]
    super::handler_errors::keep(cx, &report);
    let span = cx.span();
    let signal = installed::exceptions();
    span.set_attribute(KeyValue::new(attribute::ERROR_TYPE, report.type_name));
    if signal.log_record() {
        emit_log_record(cx, &report);
    }
    if signal.span_event() {
        span.add_event("exception", report.exception_attributes().collect());
    }
    span.set_status(Status::error(report.message));
}

#[cfg(not(feature = "sdk"))]
pub(crate) fn emit_log_record(_cx: &Context, _report: &ErrorReport) {
    // The OpenTelemetry API has no global logger provider: a library's exceptions go to log
    // records only through the provider `otel` installs.
}

#[cfg(feature = "sdk")]
pub(crate) fn emit_log_record(cx: &Context, report: &ErrorReport) {
    let Some(installed) = installed::current() else {
        return;
    };
    let Some(logger) = &installed.exception_logger else {
        return;
    };
    let mut record = logger.create_log_record();
    record.set_event_name("exception");
    record.set_timestamp(std::time::SystemTime::now());
    record.set_severity_number(Severity::Error);
    record.set_severity_text("ERROR");
    record.set_body(AnyValue::from(report.message.clone()));
    for attribute in report.exception_attributes() {
        record.add_attribute(
            attribute.key,
            AnyValue::from(attribute.value.as_str().into_owned()),
        );
    }
    let span_context = cx.span().span_context().clone();
    record.set_trace_context(
        span_context.trace_id(),
        span_context.span_id(),
        Some(span_context.trace_flags()),
    );
    logger.emit(record);
}

/// A call's return value, borrowed for recording. Not a public API.
#[derive(Debug)]
pub struct Outcome<'a, T>(pub &'a T);

/// `__record_outcome!(output, span)`: records `output` (a reference to the call's result) on
/// `span` (a `&LiveSpan`) by the most capable recorder below. The receiver's seven `&`s are one
/// more than the deepest impl (`RecordAnyhow`, on `&&&&&&Outcome`), so each impl is reached by
/// the autorefs it needs. Not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __record_outcome {
    ($output:expr, $span:expr) => {{
        #[allow(unused_imports)]
        use $crate::__private::recorders::*;
        (&&&&&&&$crate::__private::Outcome($output)).__otel_record($span)
    }};
}

macro_rules! recorder {
    ($(#[$doc:meta])* $trait:ident) => {
        $(#[$doc])*
        #[doc(hidden)]
        pub trait $trait {
            fn __otel_record(&self, span: &LiveSpan);
        }
    };
}

recorder!(
    /// `anyhow::Error`: its own backtrace and context chain.
    RecordAnyhow
);
recorder!(
    /// `E: std::error::Error`: the source chain and a captured backtrace.
    RecordStdError
);
recorder!(
    /// `E: AsRef<dyn Error + Send + Sync>` (boxed errors): the source chain.
    RecordBoxedError
);
recorder!(
    /// `E: Display`: the message.
    RecordDisplay
);
recorder!(
    /// `E: Debug`: the debug form as the message.
    RecordDebug
);
recorder!(
    /// Any other `Err`: the type name as the message.
    RecordOpaqueError
);
recorder!(
    /// Not a `Result`: nothing to record.
    RecordNothing
);

#[cfg(feature = "anyhow")]
impl<T> RecordAnyhow for &&&&&&Outcome<'_, Result<T, anyhow::Error>> {
    #[inline]
    fn __otel_record(&self, span: &LiveSpan) {
        if let Err(error) = self.0 {
            let error: &(dyn Error + 'static) = error.as_ref();
            let report =
                ErrorReport::with_backtrace("anyhow::Error", error, anyhow_backtrace(self.0));
            span.record_error(report);
        }
    }
}

#[cfg(feature = "anyhow")]
fn anyhow_backtrace<T>(result: &Result<T, anyhow::Error>) -> &Backtrace {
    static DISABLED: Backtrace = Backtrace::disabled();
    match result {
        Err(error) => error.backtrace(),
        Ok(_) => &DISABLED,
    }
}

impl<T, E: Error + 'static> RecordStdError for &&&&&Outcome<'_, Result<T, E>> {
    #[inline]
    fn __otel_record(&self, span: &LiveSpan) {
        if let Err(error) = self.0 {
            span.record_error(ErrorReport::from_error(std::any::type_name::<E>(), error));
        }
    }
}

impl<T, E: AsRef<dyn Error + Send + Sync + 'static>> RecordBoxedError
    for &&&&Outcome<'_, Result<T, E>>
{
    #[inline]
    fn __otel_record(&self, span: &LiveSpan) {
        if let Err(error) = self.0 {
            let error: &(dyn Error + 'static) = error.as_ref();
            span.record_error(ErrorReport::from_error(std::any::type_name::<E>(), error));
        }
    }
}

impl<T, E: Display> RecordDisplay for &&&Outcome<'_, Result<T, E>> {
    #[inline]
    fn __otel_record(&self, span: &LiveSpan) {
        if let Err(error) = self.0 {
            let report = ErrorReport::message_only(std::any::type_name::<E>(), error.to_string());
            span.record_error(report);
        }
    }
}

impl<T, E: Debug> RecordDebug for &&Outcome<'_, Result<T, E>> {
    #[inline]
    fn __otel_record(&self, span: &LiveSpan) {
        if let Err(error) = self.0 {
            let report =
                ErrorReport::message_only(std::any::type_name::<E>(), format!("{error:?}"));
            span.record_error(report);
        }
    }
}

impl<T, E> RecordOpaqueError for &Outcome<'_, Result<T, E>> {
    #[inline]
    fn __otel_record(&self, span: &LiveSpan) {
        if self.0.is_err() {
            let type_name = std::any::type_name::<E>();
            span.record_error(ErrorReport::message_only(type_name, type_name.to_owned()));
        }
    }
}

impl<T> RecordNothing for Outcome<'_, T> {
    #[inline(always)]
    fn __otel_record(&self, _: &LiveSpan) {}
}

/// `error_if`: whether this result is an error that counts. Not a public API.
#[inline]
pub fn error_counts<T, E>(result: &Result<T, E>, counts: impl FnOnce(&E) -> bool) -> bool {
    match result {
        Ok(_) => false,
        Err(error) => counts(error),
    }
}

/// `ret`: the returned value, or the `Ok` value of a `Result`, as `rust.return.value`.
#[derive(Debug)]
pub struct Returned<'a, T>(pub &'a T);

#[doc(hidden)]
pub trait RecordReturnedOk {
    fn __otel_record_return(&self, span: &LiveSpan);
}

#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`ret` records the returned value with `Debug`, which `{Self}` does not implement"
)]
pub trait RecordReturned {
    fn __otel_record_return(&self, span: &LiveSpan);
}

// `ret` reaches these as `(&&Returned(out)).__otel_record_return(span)`, written in the
// macros' `span_attr/expand.rs` so that a missing `Debug` is an error on `ret`.
impl<T: Debug, E> RecordReturnedOk for &Returned<'_, Result<T, E>> {
    #[inline]
    fn __otel_record_return(&self, span: &LiveSpan) {
        if let Ok(value) = self.0 {
            set_returned(span, format!("{value:?}"));
        }
    }
}

impl<T: Debug> RecordReturned for Returned<'_, T> {
    #[inline]
    fn __otel_record_return(&self, span: &LiveSpan) {
        set_returned(span, format!("{:?}", self.0));
    }
}

fn set_returned(span: &LiveSpan, value: String) {
    span.set_attribute(KeyValue::new(conventions::RUST_RETURN_VALUE, value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("loading the cart failed")
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn source_chain_becomes_caused_by_lines() {
        let error = Outer(std::io::Error::other("disk full"));
        let report = ErrorReport::with_backtrace("Outer", &error, &Backtrace::disabled());
        assert_eq!(report.message, "loading the cart failed");
        assert_eq!(report.stacktrace.as_deref(), Some("Caused by: disk full"));
    }

    #[test]
    fn no_backtrace_and_no_source_means_no_stacktrace() {
        let error = std::io::Error::other("disk full");
        let report = ErrorReport::with_backtrace("io::Error", &error, &Backtrace::disabled());
        assert_eq!(report.stacktrace, None);
    }

    #[test]
    fn error_backtraces_only_on_opt_in() {
        assert!(!parse_error_backtrace(None));
        assert!(parse_error_backtrace(Some("true")));
        assert!(parse_error_backtrace(Some(" TRUE ")));
        assert!(!parse_error_backtrace(Some("false")));
        assert!(!parse_error_backtrace(Some("sometimes")));
    }

    #[test]
    fn opt_in_values() {
        assert_eq!(ExceptionSignal::parse(None), ExceptionSignal::SpanEvent);
        assert_eq!(ExceptionSignal::parse(Some("logs")), ExceptionSignal::Logs);
        assert_eq!(
            ExceptionSignal::parse(Some("logs, logs/dup")),
            ExceptionSignal::Both
        );
    }
}
