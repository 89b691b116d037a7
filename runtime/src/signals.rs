//! `flush_on_signal`: on SIGINT or SIGTERM, flush, then let the signal end the process. A
//! second signal during the flush ends it at once: an operator pressing Ctrl-C twice does
//! not wait out the shutdown timeout.

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
                let (flushed, done) = std::sync::mpsc::channel::<()>();
                let flush = std::thread::Builder::new()
                    .name("otel-signal-flush".into())
                    .spawn(move || {
                        crate::guard::shutdown_installed();
                        let _ = flushed.send(());
                    });
                if flush.is_err() {
                    crate::guard::shutdown_installed();
                } else {
                    loop {
                        if done
                            .recv_timeout(std::time::Duration::from_millis(20))
                            .is_ok()
                        {
                            break;
                        }
                        if signals.pending().next().is_some() {
                            crate::diagnostics::warn(
                                "a second signal during the final flush: exiting now; telemetry \
                                 not yet sent is lost",
                            );
                            break;
                        }
                    }
                }
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
