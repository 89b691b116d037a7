//! Console exporters for all three signals: the tests read the tree, summary and log lines.

use otel::opentelemetry::trace::{Status, TraceContextExt as _};
use otel::opentelemetry::{Context, KeyValue, global};

#[otel::main(
    service = "console-program",
    traces = "console",
    metrics = "console",
    logs = "console"
)]
fn main() {
    let counter = global::meter("console").u64_counter("jobs.done").build();
    tracing::info_span!("job", job.id = 7).in_scope(|| {
        tracing::info_span!("fetch").in_scope(|| tracing::info!("fetched input"));
        tracing::info_span!("process").in_scope(|| {
            Context::current()
                .span()
                .set_status(Status::error("bad input"));
        });
    });
    counter.add(2, &[KeyValue::new("queue", "default")]);
}
