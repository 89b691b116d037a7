//! The first program to run: a small checkout service whose traces, metrics and logs print
//! to the console as a readable tree and summary. No collector needed.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Point it at a collector instead with the standard variables, no rebuild:
//!
//! ```text
//! OTEL_TRACES_EXPORTER=otlp OTEL_METRICS_EXPORTER=otlp OTEL_LOGS_EXPORTER=otlp \
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 cargo run --example quickstart
//! ```

use std::time::Duration;

use otel::opentelemetry::KeyValue;
use otel::opentelemetry::global;
use otel::opentelemetry::trace::{Status, TraceContextExt as _};
use tracing::Instrument as _;

#[otel::main(
    service = "quickstart",
    environment = "dev",
    traces = "console",
    metrics = "console",
    logs = "console"
)]
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    for (order, card) in [(1001, "4242"), (1002, "0000")] {
        let outcome = checkout(order, card)
            .instrument(tracing::info_span!("checkout", order.id = order))
            .await;
        if let Err(error) = outcome {
            tracing::warn!(order.id = order, %error, "checkout failed");
        }
    }
    Ok(())
}

async fn checkout(order: u64, card: &str) -> anyhow::Result<()> {
    let meter = global::meter("quickstart");
    let orders = meter
        .u64_counter("orders.placed")
        .with_unit("{order}")
        .build();
    let amounts = meter
        .f64_histogram("orders.amount")
        .with_unit("USD")
        .build();

    let amount = load_cart(order)
        .instrument(tracing::info_span!("load_cart"))
        .await;
    let charged = charge(card, amount)
        .instrument(tracing::info_span!("charge", payment.amount = amount))
        .await;
    let result = if charged.is_ok() { "ok" } else { "declined" };
    orders.add(1, &[KeyValue::new("result", result)]);
    amounts.record(amount, &[KeyValue::new("result", result)]);
    charged?;
    tracing::info!(order.id = order, amount, "order placed");
    Ok(())
}

async fn load_cart(order: u64) -> f64 {
    tokio::time::sleep(Duration::from_millis(3)).await;
    tracing::debug!(order.id = order, "cart loaded");
    42.50
}

async fn charge(card: &str, amount: f64) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_millis(8)).await;
    if card == "0000" {
        // Mark the current span (the `charge` span, entered while this future runs) failed.
        let error = anyhow::anyhow!("card declined");
        otel::opentelemetry::Context::current()
            .span()
            .set_status(Status::error(error.to_string()));
        return Err(error);
    }
    tracing::info!(amount, "card charged");
    Ok(())
}
