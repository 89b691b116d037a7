//! The span of an async call: started at call time, current on every poll, ended when the
//! future completes, or marked `rust.future.cancelled` when it is dropped before that.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Context, KeyValue};

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
    R: FnOnce(&F::Output, &Context),
{
    /// `inner` polled inside `span` (from [`SpanGuard::into_context`](super::SpanGuard::into_context));
    /// `record` sees the output before the span ends.
    #[inline]
    pub fn new(inner: F, span: Option<Context>, record: R) -> Self {
        Self {
            inner,
            span: OpenSpan(span),
            record: Some(record),
        }
    }
}

impl<F, R> Future for InstrumentedFuture<F, R>
where
    F: Future,
    R: FnOnce(&F::Output, &Context),
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let Some(cx) = &this.span.0 else {
            return this.inner.poll(task);
        };
        let current = cx.clone().attach();
        let Poll::Ready(output) = this.inner.poll(task) else {
            return Poll::Pending;
        };
        if let Some(record) = this.record.take() {
            record(&output, cx);
        }
        cx.span().end();
        drop(current);
        this.span.0 = None;
        Poll::Ready(output)
    }
}

/// The span until the future completes; ends it as cancelled if dropped first.
#[derive(Debug)]
struct OpenSpan(Option<Context>);

impl Drop for OpenSpan {
    fn drop(&mut self) {
        if let Some(cx) = self.0.take() {
            let span = cx.span();
            span.set_attribute(KeyValue::new("rust.future.cancelled", true));
            span.end();
        }
    }
}
