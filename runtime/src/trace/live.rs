//! The span a call holds while it runs: the context that makes it current, ended explicitly
//! when the call ends.

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Context, KeyValue};

use super::outcome::{self, ErrorReport};
use crate::conventions;
use crate::profiler::labels::{LabelsGuard, SpanLabels};

/// An `#[otel::span]` span from its start to the end of its call, which ends it (also on
/// unwinding). Not a public API: expansions receive it to record the call's result.
#[derive(Debug)]
pub struct LiveSpan {
    cx: Context,
    /// The profiler's labels while one runs: current whenever this span is.
    labels: Option<SpanLabels>,
}

impl LiveSpan {
    pub(crate) fn new(cx: Context) -> Self {
        Self { cx, labels: None }
    }

    /// A span started while the profiler runs: labelled with its local root (itself, when
    /// `local_root`), which a local root also records as `pyroscope.profile.id`.
    #[cold]
    pub(crate) fn profiled(cx: Context, local_root: bool, name: &'static &'static str) -> Self {
        let labels = if local_root {
            crate::profiler::labels::local_root(&cx, name)
        } else {
            SpanLabels::inherited()
        };
        Self { cx, labels }
    }

    /// A span that is not a `#[otel::span]` call's (a task's), labelled as the current span
    /// is while a profiler runs.
    pub(crate) fn carrying_labels(cx: Context) -> Self {
        Self {
            cx,
            labels: SpanLabels::inherited(),
        }
    }

    /// Makes the span's profiler labels current until the guard drops (nothing when no
    /// profiler runs). Drop the guard before the span.
    #[inline]
    pub(crate) fn enter_labels(&self) -> Option<LabelsGuard> {
        self.labels.as_ref().map(SpanLabels::enter)
    }

    /// The context with this span current.
    #[inline]
    pub(crate) fn context(&self) -> &Context {
        &self.cx
    }

    pub(crate) fn set_attribute(&self, attribute: KeyValue) {
        let span = self.cx.span();
        if span.is_recording() {
            span.set_attribute(attribute);
        }
    }

    /// Records an `Err` of the call, as an `exception` event and/or log record as
    /// `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN` says.
    #[cold]
    pub(crate) fn record_error(&self, report: ErrorReport) {
        if self.cx.span().is_recording() {
            outcome::record_error(&self.cx, report);
        }
    }

    /// Ends the span before its call completed: the future was dropped.
    pub(crate) fn cancel(self) {
        self.set_attribute(KeyValue::new(conventions::RUST_FUTURE_CANCELLED, true));
    }
}

impl Drop for LiveSpan {
    /// Ended explicitly: a clone of the context kept by the body (a child, a spawned task)
    /// must not stretch the span to whenever that clone goes away.
    #[inline]
    fn drop(&mut self) {
        self.cx.span().end();
    }
}
