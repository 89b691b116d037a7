//! The batch processors' limits (`OTEL_BSP_*` for spans, `OTEL_BLRP_*` for logs), bounded so
//! that no value allocates or waits without limit, and the batch export timeout honoured as a
//! bound on the OTLP exporter's.

use std::time::Duration;

use super::env::{self, EnvReader, Millis};
use super::resolve::{bounded, millis};
use super::settings::{BatchSettings, Resolved, SignalSettings, Source};

pub(super) fn resolve_batch(
    env: &mut EnvReader<'_>,
    prefix: &str,
    default_delay_ms: u64,
) -> BatchSettings {
    let delay_var = format!("{prefix}_SCHEDULE_DELAY");
    let schedule_delay = millis(env.resolve(
        &[delay_var.as_str()],
        env::parse_millis,
        "a number of milliseconds",
        None,
        Millis(Duration::from_millis(default_delay_ms)),
    ));
    let schedule_delay = bounded(env, schedule_delay);
    let queue_var = format!("{prefix}_MAX_QUEUE_SIZE");
    let max_queue_size = size(env, &queue_var, 2048);
    let batch_var = format!("{prefix}_MAX_EXPORT_BATCH_SIZE");
    let mut max_export_batch_size = size(env, &batch_var, 512);
    if max_export_batch_size.value > max_queue_size.value {
        // The specification: the batch size must not exceed the queue size.
        env.warn(format!(
            "{batch_var}={} exceeds {queue_var}={}; using {}",
            max_export_batch_size.value, max_queue_size.value, max_queue_size.value
        ));
        max_export_batch_size = Resolved::new(max_queue_size.value, Source::Default);
    }
    // The SDK's builder reads this too, but its thread-based span processor exports one
    // batch at a time: say so rather than list a value that does nothing.
    if prefix == "OTEL_BSP" && env.raw("OTEL_BSP_MAX_CONCURRENT_EXPORTS").is_some() {
        env.warn(
            "OTEL_BSP_MAX_CONCURRENT_EXPORTS has no effect: the SDK's batch span processor \
             exports one batch at a time"
                .to_owned(),
        );
    }
    BatchSettings {
        schedule_delay,
        max_queue_size,
        max_export_batch_size,
    }
}

/// The largest queue a variable may set. The SDK's batch processors allocate their whole
/// queue when they start (a span takes 352 bytes, a log record 528): at this bound, about
/// 36 MB of spans or 53 MB of log records.
pub(super) const LARGEST_QUEUE: usize = 100_000;

/// `{prefix}_EXPORT_TIMEOUT` (the longest one export may take) honoured as a bound on the
/// OTLP exporter's own timeout, which is what limits an export (its retries included): the
/// SDK's thread-based batch processors read the variable but do not use it. The report then
/// shows the shorter of the two, with the variable it came from.
pub(super) fn bound_export_by_batch_timeout(
    env: &mut EnvReader<'_>,
    prefix: &str,
    signal: &mut SignalSettings,
) {
    let name = format!("{prefix}_EXPORT_TIMEOUT");
    let batch_timeout = millis(env.resolve(
        &[name.as_str()],
        |t| env::parse_millis(t).filter(|m| !m.0.is_zero()),
        "a positive number of milliseconds",
        None,
        Millis(Duration::from_secs(30)),
    ));
    let batch_timeout = bounded(env, batch_timeout);
    if matches!(batch_timeout.source, Source::Env(_)) && batch_timeout.value < signal.timeout.value
    {
        signal.timeout = batch_timeout;
    }
}

/// A size from the variable `name`, at most [`LARGEST_QUEUE`].
fn size(env: &mut EnvReader<'_>, name: &str, default: usize) -> Resolved<usize> {
    let resolved = env.resolve(
        &[name],
        env::parse_count,
        "a positive whole number",
        None,
        default,
    );
    bounded_queue(env, resolved)
}

/// A queue size from a variable, at most [`LARGEST_QUEUE`], with one warning when cut.
pub(super) fn bounded_queue(env: &mut EnvReader<'_>, resolved: Resolved<usize>) -> Resolved<usize> {
    if resolved.value <= LARGEST_QUEUE {
        return resolved;
    }
    if let Source::Env(name) = &resolved.source {
        env.warn(format!(
            "{name}={} is above {LARGEST_QUEUE}, the largest otel allows (the queue is \
             allocated whole at start); using {LARGEST_QUEUE}",
            resolved.value
        ));
    }
    Resolved::new(LARGEST_QUEUE, resolved.source)
}
