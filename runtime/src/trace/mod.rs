//! Traces: the tracer provider `otel` builds ([`provider`]) and the `#[otel::span]` recording
//! path, kept behind a small surface (a per-call-site [`SpanSite`], a sync [`SpanGuard`], an
//! [`InstrumentedFuture`]) so the macro does not depend on how spans are recorded.
//!
//! `#[otel::span]` spans are SDK spans, started through the installed global tracer provider
//! under the annotated crate's instrumentation scope ([`installed`] says how a call finds the
//! provider cheaply). Its sampler, span limits, id generator, clock and processors apply to
//! them as to any other span. What this module adds is what the SDK does not do: call-site
//! statics, attributes evaluated only once a span is known to be worth building, error, panic
//! and cancellation recording, and the future wrapper that makes the span current on every
//! poll.

pub(crate) mod attributes;
mod future;
mod guard;
#[cfg(feature = "http-server")]
pub(crate) mod handler_errors;
pub(crate) mod installed;
pub(crate) mod links;
mod live;
pub(crate) mod outcome;
#[cfg(feature = "sdk")]
pub(crate) mod provider;
pub(crate) mod sampling;
mod site;

pub use future::InstrumentedFuture;
pub(crate) use future::OpenSpan;
pub use guard::SpanGuard;
pub(crate) use guard::enabled;
pub use links::IntoLink;
pub use live::LiveSpan;
pub use site::{SpanSite, SpanSiteInfo};
