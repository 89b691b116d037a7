//! Database clients: [`sqlx`](crate::sqlx) (feature `sqlx`) and [`redis`](crate::redis)
//! (feature `redis`). Each operation (a query, a command, a pipeline) is a client span under
//! the current span with the database semantic conventions, and a point of
//! `db.client.operation.duration`. This module is what both share: where a client connects
//! ([`Target`]), one operation from start to outcome ([`Operation`]), and the tracer and
//! histogram each client keeps per installed provider ([`Instrumentation`]).

#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "sqlx")]
mod sql;
#[cfg(feature = "sqlx")]
pub mod sqlx;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use opentelemetry::metrics::Histogram;
use opentelemetry::trace::{SpanBuilder, SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, InstrumentationScope, KeyValue, StringValue, Value, global};
use opentelemetry_semantic_conventions::{attribute, metric};

use crate::conventions;
use crate::generation::PerGeneration;
use crate::metrics::bound::BoundHistograms;
use crate::trace::installed::{self, SiteTracer};

/// The semantic conventions' buckets of `db.client.operation.duration`, in seconds.
const DURATION_BUCKETS: [f64; 9] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0];

/// The longest `db.query.text` recorded, in bytes; longer text ends with `…` at a character
/// boundary (a generated `IN` list or a bulk `VALUES` would otherwise fill the span).
const QUERY_TEXT_LIMIT: usize = 2048;

/// Where one client's operations go: the attributes every operation of a pool or connection
/// shares (`db.system.name`, `db.namespace`, `server.address`, `server.port`).
#[derive(Debug, Clone)]
pub(crate) struct Target {
    attributes: Arc<[KeyValue]>,
    system: &'static str,
    /// Names this target in the bound duration histograms' keys.
    id: u64,
}

impl Target {
    pub(crate) fn new(
        system: &'static str,
        namespace: Option<String>,
        address: Option<String>,
        port: Option<u16>,
    ) -> Self {
        let mut attributes = vec![KeyValue::new(attribute::DB_SYSTEM_NAME, system)];
        // Shared strings: every operation clones these into its span and its point.
        if let Some(namespace) = namespace.filter(|namespace| !namespace.is_empty()) {
            attributes.push(KeyValue::new(attribute::DB_NAMESPACE, shared(namespace)));
        }
        if let Some(address) = address.filter(|address| !address.is_empty()) {
            attributes.push(KeyValue::new(attribute::SERVER_ADDRESS, shared(address)));
        }
        if let Some(port) = port {
            attributes.push(KeyValue::new(attribute::SERVER_PORT, i64::from(port)));
        }
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Self {
            attributes: attributes.into(),
            system,
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// The value of one of the shared attributes.
    pub(crate) fn attribute(&self, key: &str) -> Option<&opentelemetry::Value> {
        self.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }
}

/// A string value that clones without copying.
pub(crate) fn shared(text: String) -> StringValue {
    StringValue::from(Arc::<str>::from(text))
}

/// What one operation is, worked out only when something records it.
#[derive(Debug, Default)]
pub(crate) struct Description {
    /// `db.operation.name`.
    pub(crate) operation: Option<StringValue>,
    /// `db.collection.name`.
    pub(crate) collection: Option<StringValue>,
    /// `db.query.summary`, also the span name.
    pub(crate) summary: Option<StringValue>,
    /// `db.query.text`, at most [`QUERY_TEXT_LIMIT`] bytes ([`bounded`]).
    pub(crate) text: Option<StringValue>,
    /// `db.operation.batch.size`, for pipelines.
    pub(crate) batch_size: Option<usize>,
}

/// How an operation ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    Succeeded {
        /// `db.response.returned_rows`, where the client knows it.
        rows: Option<u64>,
        /// More attributes for the span and the duration point (a cache hit or miss).
        extra: Option<KeyValue>,
    },
    Failed {
        /// `db.response.status_code`: the SQLSTATE, the Redis error prefix.
        status_code: Option<String>,
        /// `error.type`: the status code when there is one, else the kind of failure.
        error_type: Cow<'static, str>,
        /// The span status description.
        message: String,
    },
}

/// The tracer and the duration histogram of one client library, each made from the provider
/// installed now and kept until another is installed.
#[derive(Debug)]
pub(crate) struct Instrumentation {
    scope: &'static str,
    tracer: PerGeneration<Arc<Option<SiteTracer>>>,
    duration: PerGeneration<Arc<BoundHistograms<PointKey>>>,
}

/// What names one successful operation's duration point: the target, the operation, and a
/// cache result. Its attribute set is bound once and recorded without the SDK's lookup.
#[derive(Debug, PartialEq, Eq, Hash)]
struct PointKey {
    target: u64,
    operation: Option<StringValue>,
    collection: Option<StringValue>,
    summary: Option<StringValue>,
    extra: Option<StringValue>,
}

impl Instrumentation {
    pub(crate) const fn new(scope: &'static str) -> Self {
        Self {
            scope,
            tracer: PerGeneration::new(),
            duration: PerGeneration::new(),
        }
    }

    fn scope(&self) -> InstrumentationScope {
        InstrumentationScope::builder(self.scope)
            .with_version(env!("CARGO_PKG_VERSION"))
            .with_schema_url(opentelemetry_semantic_conventions::SCHEMA_URL)
            .build()
    }

    /// The tracer of `generation`: the SDK's own for a provider `otel` installed, the global
    /// one's for a provider installed by hand. Made once per generation; `None` in the moment
    /// a provider is being uninstalled.
    fn tracer(&self, generation: u64) -> Arc<Option<SiteTracer>> {
        self.tracer.get(generation, || {
            Arc::new(
                installed::current()
                    .filter(|installed| installed.generation >= generation)
                    .map(|installed| installed.tracer(self.scope()).0),
            )
        })
    }

    /// `db.client.operation.duration` from the meter provider installed now.
    fn histogram(&self) -> Histogram<f64> {
        global::meter_provider()
            .meter_with_scope(self.scope())
            .f64_histogram(metric::DB_CLIENT_OPERATION_DURATION)
            .with_unit("s")
            .with_description("Duration of database client operations.")
            .with_boundaries(DURATION_BUCKETS.to_vec())
            .build()
    }

    /// Records one duration point. With a meter provider `otel` installed, the attribute set
    /// `key` names is bound once per provider; otherwise (a provider installed by hand, which
    /// cannot announce itself, or none) the point goes to the global provider's histogram as
    /// it is now, unbound.
    fn record(
        &self,
        seconds: f64,
        key: Option<PointKey>,
        attributes: impl FnOnce() -> Vec<KeyValue>,
    ) {
        let generation = crate::metrics::backend::generation();
        match key {
            Some(key) if generation != 0 => self
                .duration
                .get(generation, || {
                    Arc::new(BoundHistograms::new(self.histogram()))
                })
                .record(seconds, key, attributes),
            _ => self.histogram().record(seconds, &attributes()),
        }
    }

    /// Starts an operation on `target`: a client span under the current context and the
    /// clock of its duration. `None`, at the cost of a relaxed load or two and a thread-local
    /// countdown, when neither traces nor metrics are recorded; `describe` then never runs.
    pub(crate) fn start(
        &'static self,
        target: &Target,
        describe: impl FnOnce() -> Description,
    ) -> Option<Operation> {
        // As `#[otel::span]`: the installed generation, and on this thread's periodic look
        // (every 1,024 calls) the global provider, which one installed by hand replaces.
        let trace_generation = if installed::check_due() {
            installed::check_global()
        } else {
            installed::generation()
        };
        let metrics_on = crate::metrics::backend::generation() != 0;
        if trace_generation == 0 && !metrics_on {
            return None;
        }
        let mut description = describe();
        let cx = if trace_generation == 0 {
            None
        } else {
            self.start_span(trace_generation, target, &mut description)
        };
        if cx.is_none() && !metrics_on {
            return None;
        }
        Some(Operation {
            instrumentation: self,
            cx,
            started: Instant::now(),
            target: target.clone(),
            operation: description.operation,
            collection: description.collection,
            summary: description.summary,
            ended: false,
        })
    }

    fn start_span(
        &self,
        generation: u64,
        target: &Target,
        description: &mut Description,
    ) -> Option<Context> {
        Context::map_current(|parent| {
            if parent.is_telemetry_suppressed() {
                return None;
            }
            let tracer = self.tracer(generation);
            let tracer = tracer.as_ref().as_ref()?;
            let name: Cow<'static, str> = match (&description.summary, &description.operation) {
                (Some(name), _) | (None, Some(name)) => name.as_str().to_owned().into(),
                (None, None) => target.system.into(),
            };
            let mut attributes = Vec::with_capacity(target.attributes.len() + 8);
            attributes.extend_from_slice(&target.attributes);
            description.push_attributes(&mut attributes);
            if let Some(text) = description.text.take() {
                attributes.push(KeyValue::new(
                    attribute::DB_QUERY_TEXT,
                    crate::limits::span_value(text.into()),
                ));
            }
            if let Some(size) = description.batch_size {
                attributes.push(KeyValue::new(
                    attribute::DB_OPERATION_BATCH_SIZE,
                    i64::try_from(size).unwrap_or(i64::MAX),
                ));
            }
            let builder = SpanBuilder::from_name(name)
                .with_kind(SpanKind::Client)
                .with_attributes(attributes);
            let cx = match tracer {
                SiteTracer::Sdk(tracer) => {
                    parent.with_span(tracer.build_with_context(builder, parent))
                }
                SiteTracer::Global(tracer) => {
                    parent.with_span(tracer.build_with_context(builder, parent))
                }
            };
            let started = cx.span().span_context().clone();
            if !started.is_valid() || started.span_id() == parent.span().span_context().span_id() {
                // A no-op tracer (the default global provider, or one shut down): back to the
                // disabled path, as `#[otel::span]` goes.
                installed::records_nothing(generation);
                return None;
            }
            Some(cx)
        })
    }
}

impl Description {
    /// The attributes both the span and the duration point carry.
    fn push_attributes(&self, attributes: &mut Vec<KeyValue>) {
        if let Some(operation) = &self.operation {
            attributes.push(KeyValue::new(
                attribute::DB_OPERATION_NAME,
                operation.clone(),
            ));
        }
        if let Some(collection) = &self.collection {
            attributes.push(KeyValue::new(
                attribute::DB_COLLECTION_NAME,
                collection.clone(),
            ));
        }
        if let Some(summary) = &self.summary {
            attributes.push(KeyValue::new(attribute::DB_QUERY_SUMMARY, summary.clone()));
        }
    }
}

/// Runs `future` with the operation's span current on each poll (for the driver's own
/// `tracing` events and anything it calls).
pub(crate) async fn in_operation<F: Future>(operation: Option<&Operation>, future: F) -> F::Output {
    match operation.and_then(Operation::context) {
        Some(cx) => opentelemetry::trace::FutureExt::with_context(future, cx.clone()).await,
        None => future.await,
    }
}

/// `text`, cut to [`QUERY_TEXT_LIMIT`] bytes at a character boundary.
pub(crate) fn bounded(mut text: String) -> String {
    if text.len() > QUERY_TEXT_LIMIT {
        let mut end = QUERY_TEXT_LIMIT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// One operation in flight: its span (when traces are recorded) and its start. Ended with
/// [`Operation::end`]; dropped before that (the caller's future was dropped: a timeout, a
/// `select!`), it ends as cancelled.
#[derive(Debug)]
pub(crate) struct Operation {
    instrumentation: &'static Instrumentation,
    cx: Option<Context>,
    started: Instant,
    target: Target,
    operation: Option<StringValue>,
    collection: Option<StringValue>,
    summary: Option<StringValue>,
    ended: bool,
}

impl Operation {
    /// The context with the operation's span, for the driver's own work to run in.
    pub(crate) fn context(&self) -> Option<&Context> {
        self.cx.as_ref()
    }

    /// Records the outcome on the span and the duration point, and ends the span.
    pub(crate) fn end(mut self, outcome: Outcome) {
        self.finish(outcome);
    }

    /// The duration point's attributes, in full.
    fn point_attributes(&self, more: impl IntoIterator<Item = KeyValue>) -> Vec<KeyValue> {
        let mut attributes = self.target.attributes.to_vec();
        let description = Description {
            operation: self.operation.clone(),
            collection: self.collection.clone(),
            summary: self.summary.clone(),
            ..Description::default()
        };
        description.push_attributes(&mut attributes);
        attributes.extend(more);
        attributes
    }

    fn finish(&mut self, outcome: Outcome) {
        self.ended = true;
        let elapsed = self.started.elapsed().as_secs_f64();
        let span = self.cx.as_ref().map(|cx| cx.span());
        match outcome {
            Outcome::Succeeded { rows, extra } => {
                if let Some(span) = &span {
                    if let Some(rows) = rows {
                        span.set_attribute(KeyValue::new(
                            attribute::DB_RESPONSE_RETURNED_ROWS,
                            i64::try_from(rows).unwrap_or(i64::MAX),
                        ));
                    }
                    if let Some(extra) = &extra {
                        span.set_attribute(extra.clone());
                    }
                }
                let key = PointKey {
                    target: self.target.id,
                    operation: self.operation.clone(),
                    collection: self.collection.clone(),
                    summary: self.summary.clone(),
                    extra: extra.as_ref().map(|extra| match &extra.value {
                        Value::String(value) => value.clone(),
                        other => other.as_str().into_owned().into(),
                    }),
                };
                self.instrumentation
                    .record(elapsed, Some(key), || self.point_attributes(extra.clone()));
            }
            Outcome::Failed {
                status_code,
                error_type,
                message,
            } => {
                let code =
                    status_code.map(|code| KeyValue::new(attribute::DB_RESPONSE_STATUS_CODE, code));
                let error_type = KeyValue::new(attribute::ERROR_TYPE, error_type);
                if let Some(span) = &span {
                    if let Some(code) = &code {
                        span.set_attribute(code.clone());
                    }
                    span.set_attribute(error_type.clone());
                    span.set_status(Status::error(message));
                }
                // Failures are few and their attributes many: recorded unbound.
                self.instrumentation.record(elapsed, None, || {
                    self.point_attributes(code.into_iter().chain([error_type]))
                });
            }
        }
        if let Some(span) = span {
            span.end();
        }
    }
}

impl Drop for Operation {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        if let Some(cx) = &self.cx {
            cx.span()
                .set_attribute(KeyValue::new(conventions::RUST_FUTURE_CANCELLED, true));
        }
        self.finish(Outcome::Failed {
            status_code: None,
            error_type: Cow::Borrowed("cancelled"),
            message: "dropped before the database answered".to_owned(),
        });
    }
}
