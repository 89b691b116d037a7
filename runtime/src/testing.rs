//! Spans captured in-process, to assert on what your instrumentation records.
//!
//! ```
//! #[otel::span(attributes(order.id = id))]
//! fn place(id: u64) -> Result<(), String> {
//!     if id == 0 { Err("empty order".into()) } else { Ok(()) }
//! }
//!
//! let capture = otel::testing::capture_spans();
//! let _ = place(0);
//! let span = capture.span("place");
//! assert_eq!(span.status, otel::opentelemetry::trace::Status::error("empty order"));
//! ```
//!
//! The first call installs a process-wide tracer provider (every span sampled) exporting into
//! memory, makes it the one `#[otel::span]`, the `tracing` bridge and
//! `opentelemetry::global` record into, and installs the panic hook. Each capture holds a
//! process-wide lock, so tests that capture run one at a time and see only their own spans.

use std::sync::{Mutex, MutexGuard, OnceLock};

use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

use crate::span::backend;
use crate::span::outcome::ExceptionSignal;
use crate::span::sampling::{Root, Sampling};
use crate::{panic_hook, subscriber};

/// A finished span, as exporters receive it.
pub use opentelemetry_sdk::trace::SpanData;

/// The spans finished since [`capture_spans`] returned this capture.
#[derive(Debug)]
pub struct SpanCapture {
    exporter: InMemorySpanExporter,
    _serial: MutexGuard<'static, ()>,
}

/// Starts capturing: clears what earlier captures saw and waits for any other capture in
/// this process to end.
pub fn capture_spans() -> SpanCapture {
    static SERIAL: Mutex<()> = Mutex::new(());
    static EXPORTER: OnceLock<InMemorySpanExporter> = OnceLock::new();
    let serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let exporter = EXPORTER.get_or_init(install).clone();
    exporter.reset();
    SpanCapture {
        exporter,
        _serial: serial,
    }
}

fn install() -> InMemorySpanExporter {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    let exceptions =
        ExceptionSignal::parse(std::env::var(ExceptionSignal::VARIABLE).ok().as_deref());
    backend::install(
        provider.clone(),
        Sampling::ParentBased(Root::AlwaysOn),
        exceptions,
        None,
    );
    subscriber::install(Some(&provider), None, "trace");
    panic_hook::install();
    exporter
}

impl SpanCapture {
    /// Every span finished so far, in the order they ended.
    pub fn spans(&self) -> Vec<SpanData> {
        self.exporter.get_finished_spans().unwrap_or_default()
    }

    /// The one finished span named `name`.
    ///
    /// # Panics
    ///
    /// When there is no such span or more than one, listing the names that were captured.
    #[track_caller]
    pub fn span(&self, name: &str) -> SpanData {
        let spans = self.spans();
        let mut matching = spans.iter().filter(|span| span.name == name);
        match (matching.next(), matching.next()) {
            (Some(span), None) => span.clone(),
            (found, _) => {
                let names: Vec<&str> = spans.iter().map(|span| span.name.as_ref()).collect();
                let what = if found.is_some() {
                    "more than one span"
                } else {
                    "no span"
                };
                panic!("{what} named `{name}`; captured: {names:?}")
            }
        }
    }
}
