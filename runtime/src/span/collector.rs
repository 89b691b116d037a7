//! Finished `#[otel::span]` spans on their way to the processors. Each thread pushes its ended
//! spans (the [`SpanCell`] holding each one's record) into a ring of its own; one collector
//! thread empties the rings, builds the `SpanData` and hands it to the processors. The calling
//! thread pays for pushing a pointer into a ring slot, not for building the exported span or
//! for the processor's queue.
//!
//! A flush ([`drain`]) delivers every record pushed before it, from every thread. A thread
//! that fills its ring (it records faster than spans can be exported) drops what does not fit
//! and counts it, as the SDK's batch queue does: telemetry never slows the application down.
//!
//! The same thread runs the [`Background`] work of the batch processors (their exports)
//! between passes, so telemetry keeps one busy thread, not one per stage.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use opentelemetry::Context;

use rtrb::{Consumer, Producer, RingBuffer};

use super::clock::Anchor;
use super::recording::SpanCell;
use crate::diagnostics::warn_once;

/// Spans a thread can have on their way at once. A ring is allocated whole on a thread's
/// first span (and freed once the thread exited and its ring was emptied): a pointer a slot,
/// 32 KiB. The spans themselves stay where the call recorded them until they are delivered.
const RING_CAPACITY: usize = 4096;

/// How long a span waits for the collector at most: its pause between passes, unless a
/// thread wakes it sooner.
const INTERVAL: Duration = Duration::from_millis(50);

struct Collector {
    /// The rings being emptied; locked for a whole pass, so a [`drain`] waits for the one
    /// in progress and returns only when everything pushed before it was delivered.
    rings: Mutex<Vec<Consumer<Arc<SpanCell>>>>,
    /// Rings of threads that started recording, picked up by the next pass: registering a
    /// thread never waits for a delivery.
    new_rings: Mutex<Vec<Consumer<Arc<SpanCell>>>>,
    /// Work run between passes, for as long as its owner lives.
    background: Mutex<Vec<Weak<dyn Background>>>,
    thread: Thread,
}

/// Work the collector thread does for others between its passes: a batch processor's exports.
pub(crate) trait Background: Send + Sync {
    /// Does whatever is due at `now`; returns when something will be due next, if anything
    /// is waiting.
    fn run_due(&self, now: Instant) -> Option<Instant>;
}

static COLLECTOR: OnceLock<Option<Collector>> = OnceLock::new();
/// Spans dropped because their thread's ring was full.
static DROPPED: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's ring, made on its first span; `None` inside means none could be made.
    static RING: RefCell<Option<Option<ThreadRing>>> = const { RefCell::new(None) };
    /// Set while this thread delivers: a processor that flushes from inside `on_end` must
    /// not wait for itself.
    static DELIVERING: Cell<bool> = const { Cell::new(false) };
}

/// How often a thread looks at how full its ring is: every this many spans.
const CHECK_EVERY: u32 = 128;
/// Spans waiting in a ring that wake the collector before its pause is over. A thread
/// recording flat out thus has its spans collected in bursts of half a ring (one system call
/// each), far behind the slots and records it is writing. A collector that followed close
/// behind, a few spans a pass, would keep pulling the same cache lines back and forth between
/// the two cores: measured, that made every call on such a thread about twice as slow, one run
/// in five.
const WAKE_AT: usize = RING_CAPACITY / 2;

struct ThreadRing {
    producer: Producer<Arc<SpanCell>>,
    /// Spans this thread ended, for [`CHECK_EVERY`].
    pushed: u32,
}

/// Sends the ended span in `cell` on its way to the processors.
#[inline]
pub(crate) fn submit(cell: Arc<SpanCell>) {
    let mut unsent = Some(cell);
    let _ = RING.try_with(|ring| {
        let mut ring = ring.borrow_mut();
        let Some(ring) = ring.get_or_insert_with(new_ring) else {
            return;
        };
        if let Some(cell) = unsent.take() {
            ring.push(cell);
        }
    });
    // No collector, or a thread past its thread-locals: deliver here.
    if let Some(cell) = unsent {
        deliver(&cell, &Anchor::now());
    }
}

impl ThreadRing {
    /// Pushes `cell`, or drops and counts its span when the ring is full: a thread recording
    /// spans faster than they can be exported loses spans, never time.
    #[inline]
    fn push(&mut self, cell: Arc<SpanCell>) {
        if self.producer.push(cell).is_err() {
            dropped();
        }
        self.pushed = self.pushed.wrapping_add(1);
        if self.pushed.is_multiple_of(CHECK_EVERY)
            && RING_CAPACITY - self.producer.slots() >= WAKE_AT
        {
            wake();
        }
    }
}

#[cold]
fn dropped() {
    if DROPPED.fetch_add(1, Ordering::Relaxed) == 0 {
        warn_once(&format!(
            "spans are recorded faster than they can be exported: a thread's queue of \
             {RING_CAPACITY} finished spans is full, so spans are dropped (counted, and reported \
             at shutdown)"
        ));
    }
}

/// Spans dropped since the last report, reported once each time the backend is replaced or
/// shut down.
pub(crate) fn report_dropped() {
    let dropped = DROPPED.swap(0, Ordering::Relaxed);
    if dropped > 0 {
        warn_once(&format!(
            "{dropped} spans were dropped because they were recorded faster than they could be \
             exported"
        ));
    }
}

/// Delivers every record pushed so far, on every thread, before returning. Called before a
/// flush or shutdown of the processors and before another backend is installed.
pub(crate) fn drain() {
    let Some(Some(collector)) = COLLECTOR.get() else {
        return;
    };
    if DELIVERING.get() {
        return;
    }
    collector.pass();
}

impl Collector {
    /// Empties every ring.
    fn pass(&self) {
        let mut rings = lock(&self.rings);
        rings.append(&mut lock(&self.new_rings));
        DELIVERING.set(true);
        let anchor = Anchor::now();
        rings.retain_mut(|ring| {
            // Checked first: a ring abandoned after this still gets emptied next pass.
            let abandoned = ring.is_abandoned();
            if let Ok(chunk) = ring.read_chunk(ring.slots()) {
                chunk.into_iter().for_each(|cell| deliver(&cell, &anchor));
            }
            !abandoned
        });
        DELIVERING.set(false);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// This thread's ring, registered with the collector (started on the first one).
#[cold]
fn new_ring() -> Option<ThreadRing> {
    let collector = COLLECTOR.get_or_init(start).as_ref()?;
    let (producer, consumer) = RingBuffer::new(RING_CAPACITY);
    lock(&collector.new_rings).push(consumer);
    Some(ThreadRing {
        producer,
        pushed: 0,
    })
}

fn start() -> Option<Collector> {
    let spawned = thread::Builder::new()
        .name("otel-span-collector".into())
        .spawn(|| {
            // Whatever the exporters do here must not record telemetry about itself.
            let _suppressed = Context::enter_telemetry_suppressed_scope();
            let mut pause = INTERVAL;
            loop {
                thread::park_timeout(pause);
                if let Some(Some(collector)) = COLLECTOR.get() {
                    collector.pass();
                    pause = INTERVAL;
                    let now = Instant::now();
                    if let Some(next) = collector.run_background(now) {
                        pause = pause.min(next.saturating_duration_since(now));
                    }
                }
            }
        });
    // Without a collector thread every span is delivered by the thread that ends it.
    let thread = spawned.ok()?.thread().clone();
    Some(Collector {
        rings: Mutex::new(Vec::new()),
        new_rings: Mutex::new(Vec::new()),
        background: Mutex::new(Vec::new()),
        thread,
    })
}

impl Collector {
    /// Runs the background work that is due, returning when more will be.
    fn run_background(&self, now: Instant) -> Option<Instant> {
        // Run outside the lock: registering work never waits for an export.
        let mut work = Vec::new();
        lock(&self.background).retain(|weak| match weak.upgrade() {
            Some(live) => {
                work.push(live);
                true
            }
            None => false,
        });
        work.iter().filter_map(|work| work.run_due(now)).min()
    }
}

/// Has the collector thread run `work` between its passes while `work` lives. Returns
/// `false` if there is no collector thread (the OS refused one).
pub(crate) fn run_in_background(work: Weak<dyn Background>) -> bool {
    match COLLECTOR.get_or_init(start) {
        Some(collector) => {
            lock(&collector.background).push(work);
            true
        }
        None => false,
    }
}

/// Wakes the collector thread before its pause is over. Returns `false` if there is none.
pub(crate) fn wake() -> bool {
    match COLLECTOR.get() {
        Some(Some(collector)) => {
            collector.thread.unpark();
            true
        }
        _ => false,
    }
}

/// Whether this is the collector thread, which must not wait for itself.
pub(crate) fn on_collector_thread() -> bool {
    matches!(COLLECTOR.get(), Some(Some(collector)) if collector.thread.id() == thread::current().id())
}

/// Builds the exported span and hands it to the processors of the backend it was recorded
/// in, if that backend is still installed or cached by its call site.
fn deliver(cell: &SpanCell, anchor: &Anchor) {
    let Some(record) = cell.take_ended() else {
        return;
    };
    if let Some(backend) = record.site.backend(record.generation) {
        let limits = backend.limits;
        backend
            .processors
            .on_end(record.into_span_data(&limits, anchor));
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_sdk::trace::SpanLimits;

    use super::super::record::test_record;
    use super::*;

    fn ended_span() -> Arc<SpanCell> {
        Arc::new(SpanCell::new(
            test_record(Vec::new()),
            SpanLimits::default(),
        ))
    }

    #[test]
    fn a_full_ring_drops_and_counts_instead_of_waiting() {
        let (producer, mut consumer) = RingBuffer::new(2);
        let mut ring = ThreadRing {
            producer,
            pushed: 0,
        };
        let before = DROPPED.load(Ordering::Relaxed);
        for _ in 0..5 {
            ring.push(ended_span());
        }
        assert_eq!(DROPPED.load(Ordering::Relaxed) - before, 3);
        assert_eq!(consumer.slots(), 2, "the first two wait for the collector");
        let _ = consumer.pop();
        ring.push(ended_span());
        assert_eq!(
            consumer.slots(),
            2,
            "room again once the collector took one"
        );
    }

    #[test]
    fn a_ring_and_a_waiting_span_are_small() {
        assert!(size_of::<Arc<SpanCell>>() * RING_CAPACITY <= 32 * 1024);
        // The Arc's two counts, then the cell: the README's "about 300 bytes".
        let waiting = 2 * size_of::<usize>() + size_of::<SpanCell>();
        assert!(waiting <= 320, "{waiting} bytes a waiting span");
    }
}
