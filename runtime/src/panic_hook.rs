//! The chained panic hook: a panic is recorded on the current span before the previous hook
//! (usually the message on stderr) runs.

use std::panic::PanicHookInfo;
use std::sync::Once;

use opentelemetry::Context;
use opentelemetry::trace::{Status, TraceContextExt as _};

std::thread_local! {
    /// Set while [`caught`] runs telemetry's own code that may panic (an attribute's value):
    /// such a panic is caught and reported as one warning, not printed as the program's.
    static CATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, catching a panic in it: telemetry's evaluation of the program's values (an
/// attribute's expression, its `Display`) must never change what the program does. The
/// panic is not recorded on the span nor printed by the hook; `None` says it happened.
pub(crate) fn caught<T>(f: impl FnOnce() -> T) -> Option<T> {
    let outer = CATCHING.with(|catching| catching.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CATCHING.with(|catching| catching.set(outer));
    result.ok()
}

/// Installs the hook once per process, keeping whatever hook was there before.
pub(crate) fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CATCHING.with(std::cell::Cell::get) {
                return;
            }
            record_on_current_span(info);
            previous(info);
            // With `panic = "abort"` no destructor runs: flush here, or lose everything.
            #[cfg(feature = "sdk")]
            if cfg!(panic = "abort") {
                crate::guard::shutdown_installed();
            }
        }));
    });
}

fn record_on_current_span(info: &PanicHookInfo<'_>) {
    let cx = Context::current();
    let span = cx.span();
    if !span.is_recording() {
        return;
    }
    let report = crate::trace::outcome::ErrorReport {
        type_name: "panic",
        message: payload_message(info),
        stacktrace: info.location().map(|location| {
            format!(
                "at {}:{}:{}",
                location.file(),
                location.line(),
                location.column()
            )
        }),
    };
    span.add_event("exception", report.exception_attributes().collect());
    span.set_status(Status::error(report.message));
}

fn payload_message(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}
