//! The `#[otel::span]` recording path: what an expansion calls, kept behind a small,
//! replaceable surface (a per-call-site [`SpanSite`], a sync [`SpanGuard`], an
//! [`InstrumentedFuture`]) so the recording strategy can change without touching the macro.

pub(crate) mod attributes;
pub(crate) mod backend;
mod future;
mod guard;
pub(crate) mod outcome;
pub(crate) mod sampling;
mod site;

pub use future::InstrumentedFuture;
pub use guard::SpanGuard;
pub use site::SpanSite;
