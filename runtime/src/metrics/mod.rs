//! Metrics: the meter provider `otel` builds ([`provider`]) and the `#[otel::metric]` and
//! `otel::counter!`-style recording path: one `static` instrument per call site, created on
//! first use against the installed meter provider.

pub(crate) mod backend;
#[cfg(any(feature = "http-server", feature = "_db"))]
pub(crate) mod bound;
#[cfg(feature = "sdk")]
pub(crate) mod build_info;
mod guard;
#[cfg(feature = "sdk")]
pub(crate) mod provider;
mod site;
#[cfg(feature = "system-metrics")]
pub mod system;
#[cfg(feature = "runtime-metrics")]
pub mod tokio_runtime;
mod values;

pub(crate) use guard::set_service_name;
pub use guard::{Finish, MetricFuture, MetricGuard, RedSite};
pub use site::{MetricKind, MetricSite};
pub use values::{CountValue, ErrorTypeOf, MeasureValue, Measured, UpDownValue};
