//! The exporters' own tokio runtime.
//!
//! gRPC exporters need a reactor for their whole life. Borrowing the application's runtime
//! deadlocks a `current_thread` runtime at shutdown (the thread that would drive the export is
//! the one waiting for it) and fails outright in a sync `main`. One small runtime of our own,
//! on its own thread, works the same under every flavour.

use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

/// The shared exporter runtime, started on first use; `None` if the OS refused a thread.
pub(crate) fn exporter_runtime() -> Option<&'static Runtime> {
    static RUNTIME: OnceLock<Option<Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("otel-export")
                .enable_all()
                .build()
                .map_err(|error| {
                    crate::diagnostics::warn_once(&format!(
                        "could not start the exporter runtime ({error}); gRPC export is off"
                    ))
                })
                .ok()
        })
        .as_ref()
}
