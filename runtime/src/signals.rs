//! `flush_on_signal`: on SIGINT or SIGTERM, flush, then let the signal end the process.

/// Starts the watcher thread. Unix only; elsewhere a no-op.
#[cfg(unix)]
pub(crate) fn install() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;

    let mut signals = match Signals::new([SIGINT, SIGTERM]) {
        Ok(signals) => signals,
        Err(error) => {
            crate::diagnostics::warn_once(&format!(
                "flush_on_signal: cannot watch SIGINT/SIGTERM ({error}); telemetry is flushed \
                 only when main returns"
            ));
            return;
        }
    };
    let spawned = std::thread::Builder::new()
        .name("otel-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                crate::guard::shutdown_installed();
                // Ends the process as the signal would have (exit status 128 + n).
                let _ = signal_hook::low_level::emulate_default_handler(signal);
            }
        });
    if let Err(error) = spawned {
        crate::diagnostics::warn_once(&format!("flush_on_signal: {error}"));
    }
}

#[cfg(not(unix))]
pub(crate) fn install() {}
