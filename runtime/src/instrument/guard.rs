//! What a call does to the instruments that outlive its entry: a duration histogram recorded
//! at the end, an in-flight up-down counter decremented at the end (completion, `?`, panic,
//! or a dropped future), and the function RED metrics with the call's result.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use opentelemetry::{Key, KeyValue, Value};

use super::backend;
use super::site::{MetricKind, MetricSite};

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
#[derive(Debug)]
pub struct RedSite {
    function: &'static str,
    module: &'static str,
    calls: MetricSite,
    duration: MetricSite,
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
            calls: MetricSite::new(
                "function.calls",
                MetricKind::Counter,
                None,
                Some("Autometrics counter for tracking function calls"),
                None,
                scope,
            ),
            duration: MetricSite::new(
                "function.calls.duration",
                MetricKind::Histogram,
                Some("s"),
                Some("Autometrics histogram for tracking function call duration"),
                Some(DURATION_BUCKETS),
                scope,
            ),
        }
    }

    fn record(&'static self, generation: u64, seconds: f64, error_type: Option<&'static str>) {
        let label = |key: &'static str, value: &'static str| {
            KeyValue::new(Key::from_static_str(key), Value::from(value))
        };
        let service = SERVICE_NAME.get().copied().unwrap_or("");
        let function = label("function", self.function);
        let module = label("module", self.module);
        let service = label("service.name", service);
        let result = label("result", if error_type.is_some() { "error" } else { "ok" });
        let caller_function = label("caller.function", "");
        let caller_module = label("caller.module", "");
        match error_type {
            None => self.calls.record_now(
                generation,
                1.0,
                &[
                    function.clone(),
                    module.clone(),
                    service.clone(),
                    caller_function,
                    caller_module,
                    result,
                ],
            ),
            Some(error_type) => self.calls.record_now(
                generation,
                1.0,
                &[
                    function.clone(),
                    module.clone(),
                    service.clone(),
                    caller_function,
                    caller_module,
                    result,
                    label("error.type", error_type),
                ],
            ),
        }
        self.duration
            .record_now(generation, seconds, &[function, module, service]);
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
