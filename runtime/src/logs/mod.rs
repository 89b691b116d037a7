//! Logs: the logger provider `otel` builds ([`provider`]). `tracing` events reach it through
//! the [`bridge`] layer, installed by [`subscriber`](crate::subscriber); exceptions, when
//! `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN` asks, through the span recording path.

pub(crate) mod bridge;
pub(crate) mod provider;
