//! The first program to run: a small checkout service whose traces, metrics and logs print
//! to the console as a readable tree and summary. No collector needed.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Profile it too: with `OTEL_RUST_PROFILER=local` it also writes `profiles/flamegraph.svg`
//! (open it in a browser: where the CPU went, under each root span) and
//! `profiles/profile.pb.gz` (pprof, for `go tool pprof` or Pyroscope):
//!
//! ```text
//! OTEL_RUST_PROFILER=local cargo run --example quickstart
//! ```
//!
//! Point it at a collector instead with the standard variables, no rebuild:
//!
//! ```text
//! OTEL_TRACES_EXPORTER=otlp OTEL_METRICS_EXPORTER=otlp OTEL_LOGS_EXPORTER=otlp \
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 cargo run --example quickstart
//! ```

use std::time::Duration;

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
        if let Err(error) = checkout(order, card).await {
            tracing::warn!(order.id = order, %error, "checkout failed");
        }
    }
    Ok(())
}

/// One span per call, a child of the caller's; an `Err` marks it failed with the message.
/// The bare `#[otel::metric]` counts calls by result and times them (the RED metrics).
#[otel::span(kind = server, attributes(order.id = order))]
#[otel::metric]
async fn checkout(order: u64, card: &str) -> anyhow::Result<()> {
    let amount = load_cart(order).await;
    let risk = score_risk(order, amount);
    tracing::debug!(order.id = order, risk, "risk scored");
    let charged = charge(card, amount).await;
    let result = if charged.is_ok() { "ok" } else { "declined" };
    otel::counter!("orders.placed", 1, result);
    charged?;
    tracing::info!(order.id = order, amount, "order placed");
    Ok(())
}

#[otel::span]
async fn load_cart(order: u64) -> f64 {
    tokio::time::sleep(Duration::from_millis(3)).await;
    tracing::debug!(order.id = order, "cart loaded");
    42.50
}

/// CPU work, for the profiler to find: a made-up risk score over many rounds.
#[otel::span]
fn score_risk(order: u64, amount: f64) -> u64 {
    let mut score = order ^ amount.to_bits();
    for round in 0..10_000_000u64 {
        score = score.rotate_left(5) ^ round.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    score % 100
}

#[otel::span(kind = client, attributes(payment.amount = amount))]
#[otel::metric(histogram = "payments.amount", value = amount, unit = "USD")]
async fn charge(card: &str, amount: f64) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_millis(8)).await;
    if card == "0000" {
        anyhow::bail!("card declined");
    }
    tracing::info!(amount, "card charged");
    Ok(())
}
