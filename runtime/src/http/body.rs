//! The response body of instrumented services: passed through untouched, except that the
//! request's span stays open until the body ends (a gRPC call's until its status arrives in
//! the trailers), so durations cover what the client waited for.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context as TaskContext, Poll};

use http_body::{Body, Frame, SizeHint};

use super::server::HttpCall;
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
        http: Option<HttpCall>,
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn plain(inner: B) -> Self {
        Self {
            inner,
            pending: None,
            http: None,
        }
    }

    pub(crate) fn ending_on_trailers(inner: B, pending: Pending) -> Self {
        Self {
            inner,
            pending: Some(pending),
            http: None,
        }
    }

    /// An HTTP response whose request ends with the last frame of its body.
    pub(crate) fn ending_with_body(inner: B, call: HttpCall) -> Self {
        Self {
            inner,
            pending: None,
            http: Some(call),
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
        let mut this = self.project();
        if let Some(call) = this.http.as_ref() {
            let current = call.context().clone().attach();
            let watch = PanicWatch(call.panicked());
            let polled = this.inner.as_mut().poll_frame(task);
            drop(watch);
            let ended = match &polled {
                Poll::Pending => None,
                Poll::Ready(Some(Ok(_))) => this.inner.is_end_stream().then_some(None),
                Poll::Ready(Some(Err(_))) => Some(Some(std::any::type_name::<B::Error>())),
                Poll::Ready(None) => Some(None),
            };
            if let Some(error) = ended
                && let Some(call) = this.http.take()
            {
                call.finish(error);
            }
            drop(current);
            return polled;
        }
        let Some(pending) = this.pending.as_ref() else {
            return this.inner.poll_frame(task);
        };
        let current = pending.context().clone().attach();
        let watch = PanicWatch(pending.panicked());
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
struct PanicWatch<'a>(&'a AtomicBool);

impl Drop for PanicWatch<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}
