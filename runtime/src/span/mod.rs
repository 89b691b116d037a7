//! The `#[otel::span]` recording path: what an expansion calls, kept behind a small,
//! replaceable surface (a per-call-site [`SpanSite`], a sync [`SpanGuard`], an
//! [`InstrumentedFuture`]) so the recording strategy can change without touching the macro.
//!
//! Sampled spans are not SDK spans. A call fills in a small [`record::SpanRecord`] (through
//! [`recording::RecordingSpan`] when the OpenTelemetry API writes to it) and, when it ends,
//! pushes it into its thread's ring; the [`collector`] thread builds the exported `SpanData`
//! and hands it to the provider's own processors (shared with it through
//! [`processors::SpanProcessors`]), so it reaches the same batch queue and exporter as every
//! other span while the calling thread pays a fraction of the cost. The OTLP pipeline's
//! [`batch`] processor exports on that same thread.

pub(crate) mod attributes;
pub(crate) mod backend;
pub(crate) mod batch;
mod clock;
pub(crate) mod collector;
mod future;
mod guard;
mod live;
pub(crate) mod outcome;
pub(crate) mod processors;
mod record;
mod recording;
pub(crate) mod sampling;
mod site;

pub use future::InstrumentedFuture;
pub use guard::SpanGuard;
pub use live::LiveSpan;
pub use site::SpanSite;
