//! The `#[otel::span]` recording path: what an expansion calls, kept behind a small,
//! replaceable surface (a per-call-site [`SpanSite`], a sync [`SpanGuard`], an
//! [`InstrumentedFuture`]) so the recording strategy can change without touching the macro.
//!
//! Sampled spans are not SDK spans: a [`recording::RecordingSpan`] fills in the exported
//! `SpanData` in place and hands it to the provider's own processors (shared with it through
//! [`processors::SpanProcessors`]), so it reaches the same batch queue and exporter as every
//! other span at a fraction of the cost.

pub(crate) mod attributes;
pub(crate) mod backend;
mod future;
mod guard;
pub(crate) mod outcome;
pub(crate) mod processors;
mod recording;
pub(crate) mod sampling;
mod site;

pub use future::InstrumentedFuture;
pub use guard::SpanGuard;
pub use site::SpanSite;
