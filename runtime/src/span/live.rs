//! The span a call holds while it runs: the context that makes it current and, when it is
//! sampled, direct access to what it records, so the call's own recording (its result, its
//! cancellation, its end) skips the trait-object path every other writer goes through.

use std::sync::Arc;

use opentelemetry::{Context, KeyValue};

use super::clock;
use super::outcome::{self, ErrorReport};
use super::recording::SpanCell;

/// An `#[otel::span]` span from its start to the end of its call, which ends it (also on
/// unwinding). Not a public API: expansions receive it to record the call's result.
#[derive(Debug)]
pub struct LiveSpan {
    cx: Context,
    /// `None` for a span that is not sampled: its context carries the decision, nothing
    /// records.
    cell: Option<Arc<SpanCell>>,
}

impl LiveSpan {
    pub(crate) fn recording(cx: Context, cell: Arc<SpanCell>) -> Self {
        Self {
            cx,
            cell: Some(cell),
        }
    }

    pub(crate) fn unsampled(cx: Context) -> Self {
        Self { cx, cell: None }
    }

    /// The context with this span current.
    #[inline]
    pub(crate) fn context(&self) -> &Context {
        &self.cx
    }

    pub(crate) fn set_attribute(&self, attribute: KeyValue) {
        if let Some(cell) = &self.cell {
            cell.set_attribute(attribute);
        }
    }

    /// Records an `Err` of the call, as an `exception` event and/or log record as
    /// `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN` says.
    #[cold]
    pub(crate) fn record_error(&self, report: ErrorReport) {
        let Some(cell) = &self.cell else {
            return;
        };
        let signal = super::backend::exceptions();
        if signal.log_record() {
            outcome::emit_log_record(&self.cx, &report);
        }
        cell.record_error(report, signal.span_event());
    }

    /// Ends the span before its call completed: the future was dropped.
    pub(crate) fn cancel(self) {
        self.set_attribute(KeyValue::new("rust.future.cancelled", true));
    }
}

impl Drop for LiveSpan {
    /// Ended explicitly: a clone of the context kept by the body (a child, a spawned task)
    /// must not stretch the span to whenever that clone goes away.
    #[inline]
    fn drop(&mut self) {
        if let Some(cell) = self.cell.take() {
            cell.finish(clock::now());
        }
    }
}
