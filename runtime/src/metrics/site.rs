//! One `static` per instrument call site: the instrument's name, kind, unit, description and
//! buckets, fixed at compile time, and the instrument itself, made on first use.

use std::sync::OnceLock;

use opentelemetry::metrics::{Counter, Gauge, Histogram, Meter, UpDownCounter};
use opentelemetry::{InstrumentationScope, KeyValue};

use super::backend;
use super::values::{CountValue, MeasureValue, UpDownValue};

/// What an instrument site records. Not a public API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    UpDownCounter,
    Histogram,
    Gauge,
}

/// An instrument call site. Built in a `static` by the expansion; not a public API.
#[derive(Debug)]
pub struct MetricSite {
    name: &'static str,
    kind: MetricKind,
    unit: Option<&'static str>,
    description: Option<&'static str>,
    buckets: Option<&'static [f64]>,
    scope_name: &'static str,
    scope_version: &'static str,
    /// The generation the instrument was made for, and the instrument.
    instrument: OnceLock<(u64, Instrument)>,
}

#[derive(Debug, Clone)]
enum Instrument {
    Counter(Counter<u64>),
    UpDownCounter(UpDownCounter<i64>),
    Histogram(Histogram<f64>),
    Gauge(Gauge<f64>),
}

impl MetricSite {
    #[doc(hidden)]
    pub const fn new(
        name: &'static str,
        kind: MetricKind,
        unit: Option<&'static str>,
        description: Option<&'static str>,
        buckets: Option<&'static [f64]>,
        scope: (&'static str, &'static str),
    ) -> Self {
        Self {
            name,
            kind,
            unit,
            description,
            buckets,
            scope_name: scope.0,
            scope_version: scope.1,
            instrument: OnceLock::new(),
        }
    }

    /// Adds `value` to a counter. With no meter provider: one relaxed load and a branch;
    /// `attributes` then never runs.
    #[inline(always)]
    pub fn add<const N: usize>(
        &'static self,
        value: impl CountValue,
        attributes: impl FnOnce() -> [KeyValue; N],
    ) {
        let generation = backend::generation();
        if generation != 0 {
            self.add_now(generation, value, attributes);
        }
    }

    /// Adds `value` to a counter with attributes built once for several instruments (`None`
    /// when metrics are off).
    #[inline(always)]
    pub fn add_shared<const N: usize>(
        &'static self,
        value: impl CountValue,
        attributes: Option<&[KeyValue; N]>,
    ) {
        let generation = backend::generation();
        if generation != 0
            && let Some(attributes) = attributes
            && let Some(count) = value.to_count()
        {
            self.with_instrument(generation, |instrument| {
                if let Instrument::Counter(counter) = instrument {
                    counter.add(count, attributes);
                }
            });
        }
    }

    /// Records `value` with attributes built once for several instruments.
    #[inline(always)]
    pub fn record_shared<const N: usize>(
        &'static self,
        value: impl MeasureValue,
        attributes: Option<&[KeyValue; N]>,
    ) {
        let generation = backend::generation();
        if generation != 0
            && let Some(attributes) = attributes
        {
            self.record_now(generation, value.to_measure(), attributes);
        }
    }

    /// Moves an up-down counter by `value`.
    #[inline(always)]
    pub fn add_delta<const N: usize>(
        &'static self,
        value: impl UpDownValue,
        attributes: impl FnOnce() -> [KeyValue; N],
    ) {
        let generation = backend::generation();
        if generation != 0 {
            self.record_now(generation, value.to_delta() as f64, &attributes());
        }
    }

    /// Records `value` into a histogram or gauge.
    #[inline(always)]
    pub fn record<const N: usize>(
        &'static self,
        value: impl MeasureValue,
        attributes: impl FnOnce() -> [KeyValue; N],
    ) {
        let generation = backend::generation();
        if generation != 0 {
            self.record_now(generation, value.to_measure(), &attributes());
        }
    }

    #[inline(never)]
    fn add_now<const N: usize>(
        &'static self,
        generation: u64,
        value: impl CountValue,
        attributes: impl FnOnce() -> [KeyValue; N],
    ) {
        if let Some(count) = value.to_count() {
            self.with_instrument(generation, |instrument| {
                if let Instrument::Counter(counter) = instrument {
                    counter.add(count, &attributes());
                }
            });
        }
    }

    /// Records into whichever instrument this site has; `value` is converted for it.
    pub(crate) fn record_now(&'static self, generation: u64, value: f64, attributes: &[KeyValue]) {
        self.with_instrument(generation, |instrument| match instrument {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Instrument::Counter(counter) => counter.add(value as u64, attributes),
            #[allow(clippy::cast_possible_truncation)]
            Instrument::UpDownCounter(counter) => counter.add(value as i64, attributes),
            Instrument::Histogram(histogram) => histogram.record(value, attributes),
            Instrument::Gauge(gauge) => gauge.record(value, attributes),
        });
    }

    /// Runs `f` with this site's instrument for `generation`. After a second provider was
    /// installed (a second `init`), the instrument is made per call: correct, slower, rare.
    #[inline]
    fn with_instrument(&'static self, generation: u64, f: impl FnOnce(&Instrument)) {
        match self.instrument.get() {
            Some((cached, instrument)) if *cached == generation => f(instrument),
            _ => {
                if let Some(instrument) = self.make(generation) {
                    f(&instrument);
                }
            }
        }
    }

    #[cold]
    fn make(&'static self, generation: u64) -> Option<Instrument> {
        let (installed, provider) = backend::current()?;
        let scope = InstrumentationScope::builder(self.scope_name)
            .with_version(self.scope_version)
            .build();
        let meter = provider.meter_with_scope(scope);
        let instrument = self.build(&meter);
        if installed == generation {
            let _ = self.instrument.set((generation, instrument.clone()));
        }
        Some(instrument)
    }

    fn build(&self, meter: &Meter) -> Instrument {
        macro_rules! described {
            ($builder:expr) => {{
                let mut builder = $builder;
                if let Some(unit) = self.unit {
                    builder = builder.with_unit(unit);
                }
                if let Some(description) = self.description {
                    builder = builder.with_description(description);
                }
                builder
            }};
        }
        match self.kind {
            MetricKind::Counter => {
                Instrument::Counter(described!(meter.u64_counter(self.name)).build())
            }
            MetricKind::UpDownCounter => {
                Instrument::UpDownCounter(described!(meter.i64_up_down_counter(self.name)).build())
            }
            MetricKind::Histogram => {
                let mut builder = described!(meter.f64_histogram(self.name));
                if let Some(buckets) = self.buckets {
                    builder = builder.with_boundaries(buckets.to_vec());
                }
                Instrument::Histogram(builder.build())
            }
            MetricKind::Gauge => Instrument::Gauge(described!(meter.f64_gauge(self.name)).build()),
        }
    }
}
