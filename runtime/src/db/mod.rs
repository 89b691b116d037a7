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
use opentelemetry::trace::{
    SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue, StringValue, global};
use opentelemetry_semantic_conventions::{attribute, metric};

use crate::generation::PerGeneration;
use crate::trace::installed;

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
}

impl Target {
    pub(crate) fn new(
        system: &'static str,
        namespace: Option<String>,
        address: Option<String>,
        port: Option<u16>,
    ) -> Self {
        let mut attributes = vec![KeyValue::new(attribute::DB_SYSTEM_NAME, system)];
        if let Some(namespace) = namespace.filter(|namespace| !namespace.is_empty()) {
            attributes.push(KeyValue::new(attribute::DB_NAMESPACE, namespace));
        }
        if let Some(address) = address.filter(|address| !address.is_empty()) {
            attributes.push(KeyValue::new(attribute::SERVER_ADDRESS, address));
        }
        if let Some(port) = port {
            attributes.push(KeyValue::new(attribute::SERVER_PORT, i64::from(port)));
        }
        Self {
            attributes: attributes.into(),
            system,
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

/// What one operation is, worked out only when something records it.
#[derive(Debug, Default)]
pub(crate) struct Description {
    /// `db.operation.name`.
    pub(crate) operation: Option<StringValue>,
    /// `db.collection.name`.
    pub(crate) collection: Option<StringValue>,
    /// `db.query.summary`, also the span name.
    pub(crate) summary: Option<StringValue>,
    /// `db.query.text`.
    pub(crate) text: Option<String>,
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
    tracer: PerGeneration<Arc<global::BoxedTracer>>,
    duration: PerGeneration<Histogram<f64>>,
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

    fn tracer(&self, generation: u64) -> Arc<global::BoxedTracer> {
        self.tracer.get(generation, || {
            Arc::new(global::tracer_provider().tracer_with_scope(self.scope()))
        })
    }

    fn duration(&self) -> Histogram<f64> {
        self.duration
            .get(crate::metrics::backend::generation(), || {
                global::meter_provider()
                    .meter_with_scope(self.scope())
                    .f64_histogram(metric::DB_CLIENT_OPERATION_DURATION)
                    .with_unit("s")
                    .with_description("Duration of database client operations.")
                    .with_boundaries(DURATION_BUCKETS.to_vec())
                    .build()
            })
    }

    /// Starts an operation on `target`: a client span under the current context and the
    /// clock of its duration. `None`, at the cost of two relaxed loads and a thread-local
    /// countdown, when neither traces nor metrics are recorded; `describe` then never runs.
    pub(crate) fn start(
        &'static self,
        target: &Target,
        describe: impl FnOnce() -> Description,
    ) -> Option<Operation> {
        let mut trace_generation = installed::generation();
        if trace_generation == 0 || installed::check_due() {
            trace_generation = installed::check_global();
        }
        let metrics_on = crate::metrics::backend::generation() != 0;
        if trace_generation == 0 && !metrics_on {
            return None;
        }
        let description = describe();
        let mut metric_attributes: Vec<KeyValue> = target.attributes.to_vec();
        if let Some(operation) = &description.operation {
            metric_attributes.push(KeyValue::new(
                attribute::DB_OPERATION_NAME,
                operation.clone(),
            ));
        }
        if let Some(collection) = &description.collection {
            metric_attributes.push(KeyValue::new(
                attribute::DB_COLLECTION_NAME,
                collection.clone(),
            ));
        }
        if let Some(summary) = &description.summary {
            metric_attributes.push(KeyValue::new(attribute::DB_QUERY_SUMMARY, summary.clone()));
        }
        let cx = (trace_generation != 0)
            .then(|| {
                let parent = Context::current();
                if parent.is_telemetry_suppressed() {
                    return None;
                }
                let name: Cow<'static, str> = match (&description.summary, &description.operation) {
                    (Some(summary), _) => summary.as_str().to_owned().into(),
                    (None, Some(operation)) => operation.as_str().to_owned().into(),
                    (None, None) => target.system.into(),
                };
                let mut attributes = metric_attributes.clone();
                attributes.reserve(5);
                if let Some(text) = description.text {
                    attributes.push(KeyValue::new(attribute::DB_QUERY_TEXT, bounded(text)));
                }
                if let Some(size) = description.batch_size {
                    attributes.push(KeyValue::new(
                        attribute::DB_OPERATION_BATCH_SIZE,
                        i64::try_from(size).unwrap_or(i64::MAX),
                    ));
                }
                let tracer = self.tracer(trace_generation);
                let span = tracer
                    .span_builder(name)
                    .with_kind(SpanKind::Client)
                    .with_attributes(attributes)
                    .start_with_context(&*tracer, &parent);
                Some(parent.with_span(span))
            })
            .flatten();
        Some(Operation {
            instrumentation: self,
            cx,
            started: Instant::now(),
            metric_attributes,
            ended: false,
        })
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
fn bounded(mut text: String) -> String {
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
    metric_attributes: Vec<KeyValue>,
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

    fn finish(&mut self, outcome: Outcome) {
        self.ended = true;
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
                if let Some(extra) = extra {
                    self.metric_attributes.push(extra);
                }
            }
            Outcome::Failed {
                status_code,
                error_type,
                message,
            } => {
                if let Some(code) = status_code {
                    let code = KeyValue::new(attribute::DB_RESPONSE_STATUS_CODE, code);
                    if let Some(span) = &span {
                        span.set_attribute(code.clone());
                    }
                    self.metric_attributes.push(code);
                }
                let error_type = KeyValue::new(attribute::ERROR_TYPE, error_type);
                if let Some(span) = &span {
                    span.set_attribute(error_type.clone());
                    span.set_status(Status::error(message));
                }
                self.metric_attributes.push(error_type);
            }
        }
        self.instrumentation.duration().record(
            self.started.elapsed().as_secs_f64(),
            &self.metric_attributes,
        );
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
                .set_attribute(KeyValue::new("rust.future.cancelled", true));
        }
        self.finish(Outcome::Failed {
            status_code: None,
            error_type: Cow::Borrowed("cancelled"),
            message: "dropped before the database answered".to_owned(),
        });
    }
}
