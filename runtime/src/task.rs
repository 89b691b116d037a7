//! Spawned work keeps its trace: the spawner's context (and profiler labels) carried into
//! tokio tasks, `JoinSet`s and blocking closures, optionally with a span of the task's own.
//!
//! A task is polled by whichever worker thread picks it up, where the spawner's context is
//! not current: without this, every span started inside the task body (an annotated fn it
//! calls, a `tracing` span, a database query) begins a new trace. (An `#[otel::span]` fn
//! *called* before spawning already took its parent at the call.)
//!
//! ```
//! use otel::task::TraceFutureExt as _;
//!
//! #[otel::span]
//! async fn refresh(keys: Vec<String>) -> usize {
//!     // `load`'s spans are children of `refresh`'s, on whichever thread runs the task.
//!     let first = keys[0].clone();
//!     let one = otel::spawn(async move { load(first).await });
//!     // A span per task: started now, ended when the task completes.
//!     let second = keys[1].clone();
//!     let two = otel::spawn(async move { load(second).await }.in_span("load_second"));
//!     // Blocking work too.
//!     let sum = otel::spawn_blocking(|| 1 + 1);
//!
//!     let mut set = tokio::task::JoinSet::new();
//!     for key in keys {
//!         set.spawn(async move { load(key).await }.in_current_trace());
//!     }
//!     let mut loaded = one.await.unwrap_or(0) + two.await.unwrap_or(0) + sum.await.unwrap_or(0);
//!     while let Some(done) = set.join_next().await {
//!         loaded += done.unwrap_or(0);
//!     }
//!     loaded
//! }
//!
//! #[otel::span]
//! async fn load(key: String) -> usize {
//!     key.len()
//! }
//! # #[tokio::main] async fn main() { refresh(vec!["a".into(), "b".into()]).await; }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use opentelemetry::trace::{SpanKind, TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, InstrumentationScope, global};
use tokio::task::JoinHandle;

use crate::profiler::labels::SpanLabels;
use crate::trace::{LiveSpan, OpenSpan};

/// `tokio::spawn` with the current trace carried into the task: spans the task starts are
/// children of the span current here.
///
/// Panics where `tokio::spawn` panics: outside a tokio runtime.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(future.in_current_trace())
}

/// `tokio::task::spawn_blocking` with the current trace carried into the closure.
///
/// Panics where `spawn_blocking` panics: outside a tokio runtime.
pub fn spawn_blocking<F, R>(work: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    tokio::task::spawn_blocking(in_current_trace(work))
}

/// `work` made to run in the current trace wherever it is called: for
/// `JoinSet::spawn_blocking`, `std::thread::spawn`, a thread pool.
///
/// ```
/// # #[tokio::main] async fn main() {
/// let mut set = tokio::task::JoinSet::new();
/// set.spawn_blocking(otel::task::in_current_trace(|| 6 * 7));
/// assert_eq!(set.join_next().await.map(Result::ok), Some(Some(42)));
/// # }
/// ```
pub fn in_current_trace<F, R>(work: F) -> impl FnOnce() -> R + Send + 'static
where
    F: FnOnce() -> R + Send + 'static,
{
    let carried = Carried::current();
    move || {
        let _current = carried.cx.attach();
        let _labels = carried.labels.as_ref().map(SpanLabels::enter);
        work()
    }
}

/// What a task takes from its spawner.
#[derive(Debug)]
struct Carried {
    cx: Context,
    /// The profiler's labels, so the task's samples count for the spawner's trace.
    labels: Option<SpanLabels>,
}

impl Carried {
    fn current() -> Self {
        Self {
            cx: Context::current(),
            labels: SpanLabels::inherited(),
        }
    }
}

/// Futures that carry a trace into the task that polls them.
pub trait TraceFutureExt: Future + Sized {
    /// This future polled in the current trace (the span current now, its baggage, and the
    /// profiler's labels), whichever task or thread polls it. For `JoinSet::spawn`,
    /// `tokio::spawn`, `FuturesUnordered` and the like.
    fn in_current_trace(self) -> InCurrentTrace<Self> {
        InCurrentTrace {
            inner: self,
            carried: Carried::current(),
        }
    }

    /// This future as a span of its own named `name`, a child of the span current now: started
    /// now (when the task is created), ended when the future completes, so its duration is the
    /// task's, waiting for a worker included. A future dropped before completing (an aborted
    /// task) ends its span with `rust.future.cancelled = true`.
    ///
    /// An `#[otel::span]` fn starts its span when called, so `annotated().in_span("task")`
    /// gives two siblings; `async { annotated().await }.in_span("task")` nests them.
    fn in_span(self, name: &'static str) -> InSpan<Self> {
        InSpan {
            inner: self,
            span: OpenSpan::new(task_span(name)),
        }
    }
}

impl<F: Future> TraceFutureExt for F {}

pin_project_lite::pin_project! {
    /// A future polled in the trace that was current when it was made
    /// ([`TraceFutureExt::in_current_trace`]).
    #[derive(Debug)]
    pub struct InCurrentTrace<F> {
        #[pin]
        inner: F,
        carried: Carried,
    }
}

impl<F: Future> Future for InCurrentTrace<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _current = this.carried.cx.clone().attach();
        let _labels = this.carried.labels.as_ref().map(SpanLabels::enter);
        this.inner.poll(task)
    }
}

pin_project_lite::pin_project! {
    /// A future with a span of its own ([`TraceFutureExt::in_span`]).
    #[derive(Debug)]
    pub struct InSpan<F> {
        // Declared first, dropped first: an aborted task's destructors run inside its span.
        #[pin]
        inner: F,
        span: OpenSpan,
    }
}

impl<F: Future> Future for InSpan<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        this.span.poll(this.inner, task, |_, _| {})
    }
}

/// The span of a task started now under the current context; `None` when nothing records.
fn task_span(name: &'static str) -> Option<LiveSpan> {
    if !crate::trace::enabled() {
        return None;
    }
    let tracer = global::tracer_provider().tracer_with_scope(
        InstrumentationScope::builder("otel.task")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build(),
    );
    let cx = Context::map_current(|parent| {
        let span = tracer
            .span_builder(name)
            .with_kind(SpanKind::Internal)
            .start_with_context(&tracer, parent);
        parent.with_span(span)
    });
    Some(LiveSpan::carrying_labels(cx))
}
