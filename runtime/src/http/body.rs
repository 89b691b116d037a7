//! The response body of instrumented services: passed through untouched, except that a gRPC
//! call's span stays open until the status arrives in the trailers.

use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context as TaskContext, Poll};

use http_body::{Body, Frame, SizeHint};

use crate::grpc::{Outcome, Pending};

pin_project_lite::pin_project! {
    /// The body of a response from [`ServerLayer`](super::ServerLayer) or
    /// [`grpc::ClientLayer`](crate::grpc::ClientLayer): the inner body's frames, unchanged.
    /// For a gRPC call it reads `grpc-status` from the trailers to end the call's span, and
    /// keeps the span current while the body is polled, so work done by a streaming handler
    /// joins it.
    #[derive(Debug)]
    pub struct ResponseBody<B> {
        #[pin]
        inner: B,
        pending: Option<Pending>,
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn plain(inner: B) -> Self {
        Self {
            inner,
            pending: None,
        }
    }

    pub(crate) fn ending_on_trailers(inner: B, pending: Pending) -> Self {
        Self {
            inner,
            pending: Some(pending),
        }
    }

    /// The body it wraps.
    pub fn into_inner(self) -> B {
        self.inner
    }
}

impl<B: Body> Body for ResponseBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        task: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let Some(pending) = this.pending.as_ref() else {
            return this.inner.poll_frame(task);
        };
        let current = pending.context().clone().attach();
        let watch = PanicWatch(pending);
        let polled = this.inner.poll_frame(task);
        drop(watch);
        let outcome = match &polled {
            Poll::Pending => None,
            Poll::Ready(Some(Ok(frame))) => frame
                .trailers_ref()
                .map(|trailers| Outcome::from_headers(trailers).unwrap_or(Outcome::MISSING)),
            Poll::Ready(Some(Err(_))) => {
                Some(Outcome::Failed(std::any::type_name::<B::Error>().into()))
            }
            Poll::Ready(None) => Some(Outcome::MISSING),
        };
        if let Some(outcome) = outcome
            && let Some(pending) = this.pending.take()
        {
            pending.finish(outcome);
        }
        drop(current);
        polled
    }

    fn is_end_stream(&self) -> bool {
        // While the status is awaited, the body must be polled to its end even when the
        // inner body has nothing left, or the call would look cancelled.
        self.pending.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Notes a panic that unwinds through a poll.
struct PanicWatch<'a>(&'a Pending);

impl Drop for PanicWatch<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.panicked().store(true, Ordering::Relaxed);
        }
    }
}
