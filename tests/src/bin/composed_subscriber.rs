//! A service that prints JSON logs with its own `tracing_subscriber::fmt` layer and keeps
//! OpenTelemetry: `subscriber = false`, and `otel::tracing_layer()` composed beside the JSON
//! layer. Logs through `tracing` and through the `log` crate inside an annotated function, and
//! prints that function's span ids.
//!
//! With `OTEL_TEST_PRESET_SUBSCRIBER=1` it instead installs a global subscriber before `otel`
//! installs its own, as a program unaware of `subscriber = false` would.

use tracing_subscriber::prelude::*;

fn main() {
    if std::env::var("OTEL_TEST_PRESET_SUBSCRIBER").as_deref() == Ok("1") {
        tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().json())
            .init();
        let guard = otel::Config::new().service("composed").init();
        checkout(7);
        guard.shutdown();
        return;
    }
    composed();
}

#[otel::main(
    service = "composed",
    subscriber = false,
    shutdown_timeout = "3s",
    log_filter = "info,noisy=warn"
)]
fn composed() {
    tracing_subscriber::registry()
        .with(otel::tracing_layer())
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(std::io::stdout),
        )
        .init();
    checkout(7);
}

#[otel::span(attributes(order, customer = "ada-lovelace-analytical-engines"))]
fn checkout(order: u64) {
    println!(
        "checkout_ids={} {}",
        otel::current_span::trace_id().unwrap_or_default(),
        otel::current_span::span_id().unwrap_or_default()
    );
    tracing::info!(
        order,
        trace_id = otel::current_span::trace_id().unwrap_or_default(),
        "order checked out"
    );
    log::info!("order {order} logged through the log crate");
    tracing::info!(name: "order.paid", order, "an event with a name of its own");
    // Not exported: a target the log filter holds at warn, and the export path's own.
    log::info!(target: "noisy", "held back by log_filter");
    log::info!(target: "reqwest::connect", "the export path's own record");
}
