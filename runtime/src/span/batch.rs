//! The batch span processor of the OTLP pipeline. It keeps the SDK's `BatchSpanProcessor`
//! contract (`OTEL_BSP_*`): a bounded queue that drops and counts what does not fit, exports
//! of at most `max_export_batch_size` spans, sent when a batch is full or the schedule delay
//! has passed, and every flush or shutdown waiting for what was queued before it.
//!
//! The difference is the thread that exports. The SDK's processor has a worker thread of its
//! own. Here the [`collector`] thread exports, between the passes in which it turns
//! `#[otel::span]` records into `SpanData`. With two background threads, a service recording
//! flat out had three busy threads, and on two cores its calling threads lost their core to
//! them in about one run in three (1.8x slower calls). One background thread never takes more
//! than one core, and a span no longer crosses a second queue on its way to the exporter.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

use super::collector::{self, Background};
use crate::diagnostics::{warn_once, warn_once_keyed};

/// How much a [`BatchSpanProcessor`] holds and how often it exports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchLimits {
    /// Spans waiting for export at most; more are dropped and counted.
    pub(crate) max_queue_size: usize,
    /// Spans in one export at most.
    pub(crate) max_export_batch_size: usize,
    /// How long a span waits at most before a batch that is not full is exported.
    pub(crate) scheduled_delay: Duration,
}

/// Spans a new batch has room for before it is given its full size.
const BATCH_START: usize = 64;

/// How long [`SpanProcessor::force_flush`] waits for the export thread, as the SDK's does.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Batches finished spans for `E`, exported by the collector thread.
#[derive(Debug)]
pub(crate) struct BatchSpanProcessor<E: SpanExporter> {
    batch: Arc<Batch<E>>,
}

#[derive(Debug)]
struct Batch<E> {
    limits: BatchLimits,
    queue: Mutex<Queue>,
    /// Signalled each time a flush was served.
    served: Condvar,
    /// Locked for each export: one export at a time, in queue order.
    exporter: Mutex<E>,
    dropped: AtomicU64,
}

#[derive(Debug)]
struct Queue {
    /// The waiting spans in export batches, filled in order: a batch is allocated whole and
    /// goes to the exporter as it is, so no span is copied again on its way.
    batches: Vec<Vec<SpanData>>,
    /// Spans in `batches`.
    len: usize,
    last_export: Instant,
    /// Flushes asked for so far, and the last one served: a flush waits until its number is
    /// served, so it returns only once everything queued before it was exported.
    flushes_asked: u64,
    flushes_served: u64,
    /// The last served flush's export failure.
    failure: Option<String>,
    shutdown_asked: bool,
    shut_down: bool,
}

impl<E: SpanExporter + 'static> BatchSpanProcessor<E> {
    pub(crate) fn new(exporter: E, limits: BatchLimits) -> Self {
        let batch = Arc::new(Batch {
            limits,
            queue: Mutex::new(Queue {
                batches: Vec::new(),
                len: 0,
                last_export: Instant::now(),
                flushes_asked: 0,
                flushes_served: 0,
                failure: None,
                shutdown_asked: false,
                shut_down: false,
            }),
            served: Condvar::new(),
            exporter: Mutex::new(exporter),
            dropped: AtomicU64::new(0),
        });
        let weak = Arc::downgrade(&batch);
        collector::run_in_background(weak);
        Self { batch }
    }
}

impl<E: SpanExporter + 'static> SpanProcessor for BatchSpanProcessor<E> {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        self.batch.push(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.batch.flush(FLUSH_TIMEOUT, false)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let result = self.batch.flush(timeout, true);
        let dropped = self.batch.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            warn_once(&format!(
                "{dropped} spans were dropped because the batch queue of {} spans was full \
                 (OTEL_BSP_MAX_QUEUE_SIZE)",
                self.batch.limits.max_queue_size
            ));
        }
        result
    }

    fn set_resource(&mut self, resource: &Resource) {
        lock(&self.batch.exporter).set_resource(resource);
    }
}

impl<E: SpanExporter> Batch<E> {
    fn push(&self, span: SpanData) {
        let mut queue = lock(&self.queue);
        if queue.shut_down {
            drop(queue);
            warn_once(
                "spans ended after the tracer provider was shut down are not exported; \
                 shut the provider down when the program no longer records spans",
            );
            return;
        }
        if queue.len >= self.limits.max_queue_size {
            drop(queue);
            self.drop_span();
            return;
        }
        let batch_size = self.limits.max_export_batch_size;
        match queue.batches.last_mut() {
            Some(batch) if batch.len() < batch_size => {
                if batch.len() == batch.capacity() {
                    // A batch that outgrew its start is given its full size at once: one
                    // copy of its first spans, not one per doubling.
                    batch.reserve_exact(batch_size - batch.len());
                }
                batch.push(span);
            }
            _ => {
                // Small to start with: a quiet service should not hold a whole batch's
                // memory for its few spans.
                let mut batch = Vec::with_capacity(batch_size.min(BATCH_START));
                batch.push(span);
                queue.batches.push(batch);
            }
        }
        queue.len += 1;
        let full = queue.len == batch_size;
        drop(queue);
        if full {
            collector::wake();
        }
    }

    #[cold]
    fn drop_span(&self) {
        if self.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
            warn_once(&format!(
                "spans are ended faster than they can be exported: the batch queue of {} spans \
                 is full, so spans are dropped (counted, and reported at shutdown; \
                 OTEL_BSP_MAX_QUEUE_SIZE sets the queue size)",
                self.limits.max_queue_size
            ));
        }
    }

    /// Exports everything queued so far and, for a shutdown, shuts the exporter down; waits
    /// at most `timeout` for the collector thread to do it.
    fn flush(&self, timeout: Duration, shutdown: bool) -> OTelSdkResult {
        let mut queue = lock(&self.queue);
        if queue.shutdown_asked {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        queue.flushes_asked += 1;
        queue.shutdown_asked = shutdown;
        let ticket = queue.flushes_asked;
        if collector::on_collector_thread() || !collector::wake() {
            // Waiting would wait for this very thread, or for a thread the OS refused.
            drop(queue);
            self.run_due(Instant::now());
            queue = lock(&self.queue);
        }
        let deadline = Instant::now() + timeout;
        while queue.flushes_served < ticket {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(OTelSdkError::Timeout(timeout));
            }
            queue = self
                .served
                .wait_timeout(queue, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        match &queue.failure {
            Some(failure) => Err(OTelSdkError::InternalFailure(failure.clone())),
            None => Ok(()),
        }
    }

    /// Exports `batches` in order, returning the first failure.
    fn export(&self, batches: Vec<Vec<SpanData>>) -> Option<String> {
        let exporter = lock(&self.exporter);
        let mut failure = None;
        for batch in batches {
            if let Err(error) = futures_executor::block_on(exporter.export(batch)) {
                warn_once_keyed("span export", &format!("exporting spans failed: {error}"));
                failure.get_or_insert(error.to_string());
            }
        }
        failure
    }
}

impl<E: SpanExporter> Background for Batch<E> {
    fn run_due(&self, now: Instant) -> Option<Instant> {
        let mut queue = lock(&self.queue);
        if queue.shut_down {
            return None;
        }
        let ticket = queue.flushes_asked;
        let flush = ticket > queue.flushes_served;
        let next_export = queue.last_export + self.limits.scheduled_delay;
        let due =
            queue.len > 0 && (queue.len >= self.limits.max_export_batch_size || now >= next_export);
        if !flush && !due {
            return (queue.len > 0).then_some(next_export);
        }
        let batches = std::mem::take(&mut queue.batches);
        queue.len = 0;
        let shutdown = queue.shutdown_asked;
        queue.last_export = now;
        drop(queue);

        let failure = self.export(batches);
        if shutdown {
            let _ = lock(&self.exporter).shutdown();
        }

        let mut queue = lock(&self.queue);
        if flush {
            queue.flushes_served = ticket;
            queue.failure = failure;
            queue.shut_down = shutdown;
            self.served.notify_all();
        }
        let next_export = queue.last_export + self.limits.scheduled_delay;
        (queue.len > 0 && !queue.shut_down).then_some(next_export)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use opentelemetry_sdk::trace::SpanLimits;

    use super::super::clock::Anchor;
    use super::super::record::test_record;
    use super::*;

    /// Records the size of every batch it is given, and whether it was shut down. A test that
    /// wants an export to hang gives it a gate: each export then waits for a message on it.
    #[derive(Debug, Default, Clone)]
    struct Recorder {
        batches: Arc<Mutex<Vec<usize>>>,
        shut_down: Arc<Mutex<bool>>,
        gate: Option<Arc<Mutex<mpsc::Receiver<()>>>>,
    }

    impl SpanExporter for Recorder {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            if let Some(gate) = &self.gate {
                let _ = lock(gate).recv();
            }
            lock(&self.batches).push(batch.len());
            Ok(())
        }

        fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
            *lock(&self.shut_down) = true;
            Ok(())
        }
    }

    impl Recorder {
        fn batches(&self) -> Vec<usize> {
            lock(&self.batches).clone()
        }

        /// Waits for the collector thread's first export (at most 10 s, then the caller's
        /// assertion fails).
        fn wait_for_an_export(&self) {
            let deadline = Instant::now() + Duration::from_secs(10);
            while self.batches().is_empty() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

    /// A processor on a fresh [`Recorder`] within `limits`.
    fn recorded(limits: BatchLimits) -> (Recorder, BatchSpanProcessor<Recorder>) {
        let recorder = Recorder::default();
        let processor = BatchSpanProcessor::new(recorder.clone(), limits);
        (recorder, processor)
    }

    /// Ends `count` spans into `processor`.
    fn end_spans(processor: &impl SpanProcessor, count: usize) {
        for _ in 0..count {
            processor.on_end(span());
        }
    }

    fn span() -> SpanData {
        test_record(Vec::new()).into_span_data(&SpanLimits::default(), &Anchor::now())
    }

    fn limits(max_queue_size: usize, max_export_batch_size: usize) -> BatchLimits {
        BatchLimits {
            max_queue_size,
            max_export_batch_size,
            scheduled_delay: Duration::from_secs(3600),
        }
    }

    #[test]
    fn a_flush_exports_everything_queued_in_batches_of_the_maximum_size() {
        let (recorder, processor) = recorded(limits(100, 4));
        end_spans(&processor, 3);
        processor.force_flush().expect("flushed");
        assert_eq!(recorder.batches(), [3]);
        end_spans(&processor, 10);
        processor.force_flush().expect("flushed");
        // The first full batch may have gone out before the flush: the total is what counts.
        let batches = recorder.batches();
        assert!(batches.iter().all(|&size| size <= 4), "{batches:?}");
        assert_eq!(batches.iter().sum::<usize>(), 13, "{batches:?}");
    }

    #[test]
    fn a_full_batch_is_exported_without_a_flush() {
        let (recorder, processor) = recorded(limits(100, 5));
        end_spans(&processor, 5);
        recorder.wait_for_an_export();
        assert_eq!(recorder.batches(), [5], "the collector thread exported it");
    }

    #[test]
    fn a_batch_that_is_not_full_is_exported_after_the_scheduled_delay() {
        let (recorder, processor) = recorded(BatchLimits {
            scheduled_delay: Duration::from_millis(20),
            ..limits(100, 50)
        });
        end_spans(&processor, 1);
        recorder.wait_for_an_export();
        assert_eq!(recorder.batches(), [1]);
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_waiting() {
        // A batch larger than the queue is never full, so nothing is exported before the
        // flush.
        let (recorder, processor) = recorded(limits(3, 4));
        end_spans(&processor, 5);
        assert_eq!(processor.batch.dropped.load(Ordering::Relaxed), 2);
        processor.force_flush().expect("flushed");
        assert_eq!(recorder.batches().iter().sum::<usize>(), 3);
    }

    #[test]
    fn shutdown_exports_what_is_queued_and_shuts_the_exporter_down() {
        let (recorder, processor) = recorded(limits(100, 50));
        end_spans(&processor, 2);
        processor.shutdown().expect("shut down");
        assert_eq!(recorder.batches(), [2]);
        assert!(*lock(&recorder.shut_down));
        processor.on_end(span());
        assert!(matches!(
            processor.force_flush(),
            Err(OTelSdkError::AlreadyShutdown)
        ));
        assert!(matches!(
            processor.shutdown(),
            Err(OTelSdkError::AlreadyShutdown)
        ));
        assert_eq!(recorder.batches(), [2], "nothing after the shutdown");
    }

    #[test]
    fn a_flush_waits_at_most_its_timeout_for_a_hung_export() {
        let (release, gate) = mpsc::channel();
        let recorder = Recorder {
            gate: Some(Arc::new(Mutex::new(gate))),
            ..Recorder::default()
        };
        let processor = BatchSpanProcessor::new(recorder.clone(), limits(100, 50));
        processor.on_end(span());
        let started = Instant::now();
        let flushed = processor.batch.flush(Duration::from_millis(100), false);
        assert!(
            matches!(flushed, Err(OTelSdkError::Timeout(_))),
            "{flushed:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        // Ending spans does not wait for the hung export either.
        processor.on_end(span());
        // Let the collector thread go: other tests share it.
        release.send(()).expect("export waiting");
        release.send(()).expect("export waiting");
        processor.force_flush().expect("flushed");
        assert_eq!(recorder.batches().iter().sum::<usize>(), 2);
    }
}
