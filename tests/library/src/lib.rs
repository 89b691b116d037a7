//! A library annotated with `#[otel::span]` and `#[otel::metric]`, as published on crates.io:
//! it depends on otel's library facade (`default-features = false`), installs nothing, and
//! records into whatever tracer and meter providers the application installed.

use std::fmt;

/// The error [`load`] returns for order `0`.
#[derive(Debug)]
pub struct NotFound;

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("order not found")
    }
}

impl std::error::Error for NotFound {}

/// A sync fn: a span per call, failed for order `0`; counted in `orders.loaded`.
#[otel::span(kind = client, attributes(order.id = id))]
#[otel::metric(counter = "orders.loaded", description = "Orders the library loaded")]
pub fn load(id: u64) -> Result<u64, NotFound> {
    if id == 0 { Err(NotFound) } else { Ok(id * 2) }
}

/// An async fn calling a sync one across an `.await`.
#[otel::span(attributes(order.id = id))]
pub async fn fetch(id: u64) -> Result<u64, NotFound> {
    tokio::task::yield_now().await;
    load(id)
}

/// Spawns one task per id: each `fetch` span is started here, so its parent is this span
/// whatever task polls it.
#[otel::span]
pub async fn fetch_all(ids: Vec<u64>) -> Vec<Result<u64, NotFound>> {
    let tasks: Vec<_> = ids.into_iter().map(|id| tokio::spawn(fetch(id))).collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap_or(Err(NotFound)));
    }
    results
}
