//! Compile-time OpenTelemetry for Rust.
//!
//! Put `#[otel::main]` on `main` and get traces, metrics and logs exported over OTLP (gRPC or
//! HTTP), or printed to the console as readable trees, configured by the standard `OTEL_*`
//! environment variables:
//!
//! ```no_run
//! #[otel::main(service = "checkout", traces = "console", metrics = "none", logs = "console")]
//! fn main() {
//!     tracing::info!("hello from the checkout service");
//! }
//! ```
//!
//! Programs that cannot use the attribute call the same runtime directly:
//!
//! ```no_run
//! let guard = otel::Config::new().service("checkout").init();
//! // ...
//! guard.shutdown();
//! ```
//!
//! # Spans
//!
//! `#[otel::span]` records each call of a function as a span: a child of the caller's span,
//! current while the body runs (or while an async body is polled), failed when it returns
//! `Err` or panics. Arguments are recorded only when named:
//!
//! ```
//! #[derive(Debug)]
//! struct Declined;
//!
//! #[otel::span(kind = client, attributes(payment.amount = amount, card.last4 = %&card[card.len() - 4..]))]
//! fn charge(card: &str, amount: f64) -> Result<u64, Declined> {
//!     if card.ends_with("0000") { Err(Declined) } else { Ok(42) }
//! }
//!
//! #[otel::span]
//! async fn checkout(card: &str) -> Result<u64, Declined> {
//!     charge(card, 12.5)
//! }
//! # let _ = charge("4242", 1.0);
//! ```
//!
//! See the README for every option, and `otel::testing` (feature `testing`) to assert on what
//! a function records.
//!
//! # Metrics
//!
//! `#[otel::metric]` measures each call: bare, the function RED metrics (`function.calls` by
//! result, `function.calls.duration`, named and labelled as autometrics names them); with an
//! instrument, a counter, histogram or in-flight up-down counter. The body macros record one
//! measurement. Names, units and buckets are checked at compile time; each call site makes its
//! instrument once:
//!
//! ```
//! #[otel::metric]
//! #[otel::metric(histogram = "orders.value", value = total, unit = "USD", buckets = [10, 100])]
//! fn place(total: f64, kind: &str) -> Result<(), String> {
//!     otel::counter!("orders.placed", 1, order.kind = kind);
//!     otel::gauge!("orders.last_total", total);
//!     Ok(())
//! }
//! # place(12.5, "retail").unwrap();
//! ```
//!
//! # Configuration
//!
//! Every value is resolved as environment variable > attribute (or [`Config`] builder) >
//! default. An unusable environment value prints one warning naming the variable and the value
//! used instead; `OTEL_LOG_LEVEL=debug` prints the effective configuration with each value's
//! source. See the README for the full table.
//!
//! # Libraries
//!
//! A library depends on `otel` without default features: the library facade. Its
//! `#[otel::span]`, `#[otel::metric]`, body macros, [`current_span`], [`task`] and
//! [`propagation`] need only the OpenTelemetry API (about twenty crates, no C), and record into
//! whatever providers the application installs: `otel`'s, or an SDK set up by hand and made
//! global through `opentelemetry::global`. The application's own dependency on `otel` brings the
//! SDK (the `sdk` feature, on by default).

// One module, the profiler's signal handler (`profiler/sampler.rs`), allows `unsafe`.
#![deny(unsafe_code)]
// A build without some default features leaves the code that serves them unused (the OTLP
// ledgers without a transport, the anyhow recorder without anyhow); the default and full
// builds are held to every lint.
#![cfg_attr(
    not(all(
        feature = "grpc",
        feature = "_http-transport",
        feature = "console",
        feature = "anyhow"
    )),
    allow(unused_imports, unused_variables, dead_code, unreachable_pub)
)]

#[cfg(feature = "sdk")]
mod config;
mod conventions;
pub mod current_span;
#[cfg(feature = "_db")]
mod db;
#[cfg(feature = "sdk")]
mod delivery;
mod diagnostics;
#[cfg(feature = "sdk")]
mod exporter;
mod generation;
#[cfg(feature = "http-server")]
pub mod grpc;
#[cfg(feature = "sdk")]
mod guard;
#[cfg(feature = "http-server")]
pub mod http;
#[cfg(feature = "sdk")]
mod init;
mod limits;
#[cfg(feature = "sdk")]
mod logs;
mod metrics;
mod panic_hook;
mod profiler;
pub mod propagation;
#[cfg(feature = "sdk")]
mod resource;
#[cfg(feature = "sdk")]
mod signals;
#[cfg(feature = "sdk")]
mod subscriber;
mod sync;
pub mod task;
#[cfg(feature = "redis")]
pub use db::redis;
#[cfg(feature = "sqlx")]
pub use db::sqlx;
#[cfg(feature = "system-metrics")]
pub use metrics::system as system_metrics;
#[cfg(feature = "runtime-metrics")]
pub use metrics::tokio_runtime as runtime_metrics;
#[cfg(feature = "testing")]
pub mod testing;
mod trace;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

#[cfg(feature = "sdk")]
pub use config::{Compression, Config, Exporter, ProfilerKind, Propagator, Protocol, SamplerKind};
#[cfg(feature = "sdk")]
pub use guard::{ShutdownGuard, exit};
#[doc = include_str!("../docs/body_macros.md")]
pub use otel_macros::counter;
#[doc = include_str!("../docs/body_macros.md")]
pub use otel_macros::gauge;
#[doc = include_str!("../docs/body_macros.md")]
pub use otel_macros::histogram;
#[doc = include_str!("../docs/main.md")]
pub use otel_macros::main;
#[doc = include_str!("../docs/metric.md")]
pub use otel_macros::metric;
#[doc = include_str!("../docs/span.md")]
pub use otel_macros::span;
#[doc = include_str!("../docs/body_macros.md")]
pub use otel_macros::up_down_counter;
#[cfg(feature = "sdk")]
pub use subscriber::tracing_layer;
pub use task::{spawn, spawn_blocking};
pub use trace::IntoLink;

/// The OpenTelemetry API this crate is built on, for what the macros do not cover (custom
/// instruments, manual spans, propagation).
pub use opentelemetry;
