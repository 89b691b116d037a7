//! What a call does to the instruments that outlive its entry: a duration histogram recorded
//! at the end, an in-flight up-down counter decremented at the end (completion, `?`, panic,
//! or a dropped future), and the function RED metrics with the call's result.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use opentelemetry::metrics::{BoundCounter, BoundHistogram, Counter};
use opentelemetry::{InstrumentationScope, Key, KeyValue, Value};
use opentelemetry_semantic_conventions::attribute;

use super::backend;
use super::site::MetricSite;

/// autometrics' default buckets for `function.calls.duration`, in seconds.
const DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The service name the RED metrics carry as `service.name`, as autometrics does.
static SERVICE_NAME: OnceLock<&'static str> = OnceLock::new();

pub(crate) fn set_service_name(name: &str) {
    let _ = SERVICE_NAME.set(Box::leak(name.to_owned().into_boxed_str()));
}

/// The RED metrics of one function, named and labelled as autometrics names them:
/// `function.calls` {function, module, service.name, caller.function, caller.module, result}
/// and `function.calls.duration` (seconds) {function, module, service.name}. Not a public API.
///
/// Every label but the result is fixed per call site, so the instruments are bound to their
/// label sets once: a successful call records without building, hashing or sorting labels.
#[derive(Debug)]
pub struct RedSite {
    function: &'static str,
    module: &'static str,
    scope: (&'static str, &'static str),
    /// The generation the instruments were made for, and the instruments.
    instruments: OnceLock<(u64, RedInstruments)>,
}

#[derive(Debug)]
struct RedInstruments {
    calls: Counter<u64>,
    ok_calls: BoundCounter<u64>,
    duration: BoundHistogram<f64>,
}

impl RedSite {
    #[doc(hidden)]
    pub const fn new(
        function: &'static str,
        module: &'static str,
        scope: (&'static str, &'static str),
    ) -> Self {
        Self {
            function,
            module,
            scope,
            instruments: OnceLock::new(),
        }
    }

    fn labels(&self) -> [KeyValue; 5] {
        let label = |key: &'static str, value: &'static str| {
            KeyValue::new(Key::from_static_str(key), Value::from(value))
        };
        [
            label("function", self.function),
            label("module", self.module),
            label(
                attribute::SERVICE_NAME,
                SERVICE_NAME.get().copied().unwrap_or(""),
            ),
            label("caller.function", ""),
            label("caller.module", ""),
        ]
    }

    fn record(&'static self, generation: u64, seconds: f64, error_type: Option<&'static str>) {
        match self.instruments.get() {
            Some((cached, instruments)) if *cached == generation => {
                self.record_into(instruments, seconds, error_type);
            }
            _ => {
                if let Some(instruments) = self.make(generation) {
                    self.record_into(&instruments, seconds, error_type);
                }
            }
        }
    }

    #[inline]
    fn record_into(
        &self,
        instruments: &RedInstruments,
        seconds: f64,
        error_type: Option<&'static str>,
    ) {
        match error_type {
            None => instruments.ok_calls.add(1),
            Some(error_type) => {
                let [function, module, service, caller_function, caller_module] = self.labels();
                instruments.calls.add(
                    1,
                    &[
                        function,
                        module,
                        service,
                        caller_function,
                        caller_module,
                        KeyValue::new(Key::from_static_str("result"), Value::from("error")),
                        KeyValue::new(
                            Key::from_static_str(attribute::ERROR_TYPE),
                            Value::from(error_type),
                        ),
                    ],
                );
            }
        }
        instruments.duration.record(seconds);
    }

    #[cold]
    fn make(&'static self, generation: u64) -> Option<RedInstruments> {
        let (installed, provider) = backend::current()?;
        let scope = InstrumentationScope::builder(self.scope.0)
            .with_version(self.scope.1)
            .build();
        let meter = provider.meter_with_scope(scope);
        let calls = meter
            .u64_counter("function.calls")
            .with_description("Autometrics counter for tracking function calls")
            .build();
        let duration = meter
            .f64_histogram("function.calls.duration")
            .with_unit("s")
            .with_description("Autometrics histogram for tracking function call duration")
            .with_boundaries(DURATION_BUCKETS.to_vec())
            .build();
        let labels = self.labels();
        let mut ok_labels = labels.to_vec();
        ok_labels.push(KeyValue::new(
            Key::from_static_str("result"),
            Value::from("ok"),
        ));
        let make = || RedInstruments {
            ok_calls: calls.bind(&ok_labels),
            duration: duration.bind(&labels[..3]),
            calls: calls.clone(),
        };
        if installed == generation {
            let _ = self.instruments.set((generation, make()));
        }
        Some(make())
    }
}

/// The instruments of one call still open. Not a public API: expansions create it.
#[derive(Debug)]
pub struct MetricGuard<const N: usize> {
    open: Option<Open<N>>,
}

#[derive(Debug)]
enum Open<const N: usize> {
    Duration {
        site: &'static MetricSite,
        start: Instant,
        attributes: [KeyValue; N],
    },
    InFlight {
        site: &'static MetricSite,
        attributes: [KeyValue; N],
    },
    Red {
        site: &'static RedSite,
        start: Instant,
    },
}

impl<const N: usize> MetricGuard<N> {
    /// Nothing open: a counter or value histogram recorded at entry.
    #[inline(always)]
    pub fn none() -> Self {
        Self { open: None }
    }

    /// A duration histogram, recorded when the call ends.
    #[inline(always)]
    pub fn duration(site: &'static MetricSite, attributes: impl FnOnce() -> [KeyValue; N]) -> Self {
        if backend::generation() == 0 {
            return Self::none();
        }
        Self {
            open: Some(Open::Duration {
                site,
                start: Instant::now(),
                attributes: attributes(),
            }),
        }
    }

    /// An in-flight up-down counter: +1 now, −1 when the call ends.
    #[inline(always)]
    pub fn in_flight(
        site: &'static MetricSite,
        attributes: impl FnOnce() -> [KeyValue; N],
    ) -> Self {
        let generation = backend::generation();
        if generation == 0 {
            return Self::none();
        }
        let attributes = attributes();
        site.record_now(generation, 1.0, &attributes);
        Self {
            open: Some(Open::InFlight { site, attributes }),
        }
    }

    /// Closes the call with its result: `error_type` is the error's type name for an `Err`.
    #[inline]
    pub fn finish(mut self, error_type: Option<&'static str>) {
        if let Some(open) = self.open.take() {
            close(open, error_type);
        }
    }
}

impl MetricGuard<0> {
    /// The function RED metrics, recorded when the call ends with its result.
    #[inline(always)]
    pub fn red(site: &'static RedSite) -> Self {
        if backend::generation() == 0 {
            return Self::none();
        }
        Self {
            open: Some(Open::Red {
                site,
                start: Instant::now(),
            }),
        }
    }
}

#[inline(never)]
fn close<const N: usize>(open: Open<N>, error_type: Option<&'static str>) {
    let generation = backend::generation();
    if generation == 0 {
        return;
    }
    match open {
        Open::Duration {
            site,
            start,
            attributes,
        } => site.record_now(generation, start.elapsed().as_secs_f64(), &attributes),
        Open::InFlight { site, attributes } => site.record_now(generation, -1.0, &attributes),
        Open::Red { site, start } => {
            site.record(generation, start.elapsed().as_secs_f64(), error_type);
        }
    }
}

impl<const N: usize> Drop for MetricGuard<N> {
    fn drop(&mut self) {
        let Some(open) = self.open.take() else {
            return;
        };
        match open {
            // A call that never finished: a panic is a failed call; a dropped future is not a
            // call that returned, so it is not counted (its duration and in-flight still are).
            Open::Red { .. } if !std::thread::panicking() => {}
            red @ Open::Red { .. } => close(red, Some("panic")),
            other => close(other, None),
        }
    }
}

/// What a [`MetricFuture`] closes when its future completes. Not a public API.
#[doc(hidden)]
pub trait Finish {
    fn finish(self, error_type: Option<&'static str>);
}

impl Finish for () {
    #[inline]
    fn finish(self, _: Option<&'static str>) {}
}

/// Several guards, carried as `(first, (second, ()))`.
impl<A: Finish, B: Finish> Finish for (A, B) {
    #[inline]
    fn finish(self, error_type: Option<&'static str>) {
        self.0.finish(error_type);
        self.1.finish(error_type);
    }
}

impl<const N: usize> Finish for MetricGuard<N> {
    #[inline]
    fn finish(self, error_type: Option<&'static str>) {
        MetricGuard::finish(self, error_type);
    }
}

pin_project_lite::pin_project! {
    /// A future carrying its call's instruments. Not a public API: expansions create it.
    #[derive(Debug)]
    pub struct MetricFuture<F, R, G> {
        #[pin]
        inner: F,
        guard: Option<G>,
        result: R,
    }
}

impl<F, R, G> MetricFuture<F, R, G>
where
    F: Future,
    R: Fn(&F::Output) -> Option<&'static str>,
    G: Finish,
{
    /// `inner` with `guard` closed when it completes; `result` names the output's error type.
    #[inline]
    pub fn new(inner: F, guard: G, result: R) -> Self {
        Self {
            inner,
            guard: Some(guard),
            result,
        }
    }
}

impl<F, R, G> Future for MetricFuture<F, R, G>
where
    F: Future,
    R: Fn(&F::Output) -> Option<&'static str>,
    G: Finish,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let Poll::Ready(output) = this.inner.poll(task) else {
            return Poll::Pending;
        };
        if let Some(guard) = this.guard.take() {
            guard.finish((this.result)(&output));
        }
        Poll::Ready(output)
    }
}
