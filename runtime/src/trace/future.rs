//! The span of an async call: started at call time, current on every poll, ended when the
//! future completes, or marked `rust.future.cancelled` when it is dropped before that.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use super::live::LiveSpan;

pin_project_lite::pin_project! {
    /// A future carrying its span. Not a public API: expansions create it.
    #[derive(Debug)]
    pub struct InstrumentedFuture<F, R> {
        // Declared first, dropped first: a cancelled body's destructors run before the span
        // ends.
        #[pin]
        inner: F,
        span: OpenSpan,
        record: Option<R>,
    }
}

impl<F, R> InstrumentedFuture<F, R>
where
    F: Future,
    R: FnOnce(&F::Output, &LiveSpan),
{
    /// `inner` polled inside `span` (from [`SpanGuard::into_context`](super::SpanGuard::into_context));
    /// `record` sees the output before the span ends.
    #[inline]
    pub fn new(inner: F, span: Option<LiveSpan>, record: R) -> Self {
        Self {
            inner,
            span: OpenSpan::new(span),
            record: Some(record),
        }
    }
}

impl<F, R> Future for InstrumentedFuture<F, R>
where
    F: Future,
    R: FnOnce(&F::Output, &LiveSpan),
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let record = this.record;
        this.span.poll(this.inner, task, |output, span| {
            if let Some(record) = record.take() {
                record(output, span);
            }
        })
    }
}

/// The span until the future completes; ends it as cancelled if dropped first, unless a poll
/// panicked (the panic hook recorded the panic on it; the runtime drops the future later).
#[derive(Debug)]
pub(crate) struct OpenSpan {
    pub(crate) span: Option<LiveSpan>,
    pub(crate) panicked: bool,
}

impl OpenSpan {
    pub(crate) fn new(span: Option<LiveSpan>) -> Self {
        Self {
            span,
            panicked: false,
        }
    }

    /// Polls `inner` with the span current (and its profiler labels); when `inner` completes,
    /// `record` sees the output, then the span ends while still current.
    #[inline]
    pub(crate) fn poll<F: Future>(
        &mut self,
        inner: Pin<&mut F>,
        task: &mut TaskContext<'_>,
        record: impl FnOnce(&F::Output, &LiveSpan),
    ) -> Poll<F::Output> {
        let Some(span) = &self.span else {
            return inner.poll(task);
        };
        let current = span.context().clone().attach();
        let labels = span.enter_labels();
        let unwinding = Unwinding(&mut self.panicked);
        let Poll::Ready(output) = inner.poll(task) else {
            return Poll::Pending;
        };
        drop(unwinding);
        record(&output, span);
        // The labels point at the span's: put back before it ends, which it does while it is
        // still current.
        drop(labels);
        self.span = None;
        drop(current);
        Poll::Ready(output)
    }
}

impl Drop for OpenSpan {
    fn drop(&mut self) {
        if let Some(span) = self.span.take()
            && !self.panicked
        {
            span.cancel();
        }
    }
}

/// Notes a panic unwinding through a poll, in the flag it holds.
struct Unwinding<'a>(&'a mut bool);

impl Drop for Unwinding<'_> {
    #[inline]
    fn drop(&mut self) {
        if std::thread::panicking() {
            *self.0 = true;
        }
    }
}
