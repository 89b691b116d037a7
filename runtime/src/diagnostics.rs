//! The runtime's own voice: warnings on stderr, each distinct message printed once.
//!
//! Telemetry problems must never crash or block the application, and must never go unnoticed:
//! a line on stderr, once, is the contract.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

/// Prints `otel: warning: {message}` to stderr unless this exact message was printed before.
pub(crate) fn warn_once(message: &str) {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if seen.insert(message.to_owned()) {
        eprintln!("otel: warning: {message}");
    }
}

/// Prints `otel: warning: {message}` to stderr, every time: for callers that say each episode
/// once themselves (a failure until it recovers).
#[cfg_attr(not(feature = "profiler"), allow(dead_code))]
pub(crate) fn warn(message: &str) {
    eprintln!("otel: warning: {message}");
}

/// Prints `message` once for each `key`, saying that later reports of the same kind are not
/// shown: a collector that stays down yields one line per kind of failure, not one per export.
pub(crate) fn warn_once_keyed(key: &str, message: &str) {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let first = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(key.to_owned());
    if first {
        warn_once(&format!(
            "{message} (further reports of this kind are not shown)"
        ));
    }
}
