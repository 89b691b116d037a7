//! A number naming what is installed now (a tracer or meter provider): `0` while nothing is,
//! a new number at each installation. Call sites cache what they made from the installed
//! provider (a tracer, an instrument) with the number it was made in, and remake it when the
//! number changes; with nothing installed, the per-call check is one relaxed load.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::LocalKey;

/// How many calls a thread makes between two looks at a global provider (one installed by
/// hand cannot announce itself: the global API has no hook).
pub(crate) const CHECK_EVERY: u32 = 1024;

/// Whether this thread should look at the global provider now: on its first call, then every
/// [`CHECK_EVERY`] calls. `calls_left`: the signal's thread-local countdown (no shared write).
#[inline(always)]
pub(crate) fn check_due(calls_left: &'static LocalKey<Cell<u32>>) -> bool {
    calls_left.with(|left| {
        let calls = left.get();
        left.set(calls.checked_sub(1).unwrap_or(CHECK_EVERY));
        calls == 0
    })
}

/// The installed generation, and the next number to hand out.
#[derive(Debug)]
pub(crate) struct Generation {
    current: AtomicU64,
    next: AtomicU64,
}

impl Generation {
    pub(crate) const fn new() -> Self {
        Self {
            current: AtomicU64::new(0),
            next: AtomicU64::new(1),
        }
    }

    /// A number never handed out before, for an installation about to be published.
    pub(crate) fn allocate(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Makes `generation` the installed one, after what it names was stored: readers that
    /// see it with `Acquire` see that too.
    pub(crate) fn publish(&self, generation: u64) {
        self.current.store(generation, Ordering::Release);
    }

    /// Nothing is installed any more.
    pub(crate) fn clear(&self) {
        self.current.store(0, Ordering::Release);
    }

    /// Nothing is installed any more, if `generation` is still the installed one.
    pub(crate) fn clear_if(&self, generation: u64) {
        let _ = self
            .current
            .compare_exchange(generation, 0, Ordering::AcqRel, Ordering::Relaxed);
    }

    /// The installed generation, `0` for none: the disabled path's one relaxed load.
    #[inline]
    pub(crate) fn current(&self) -> u64 {
        self.current.load(Ordering::Relaxed)
    }
}

/// Something made from a global provider (instruments, a tracer) and kept until `otel`
/// installs another provider of that signal (tests, a second `init`), so it is never left
/// bound to the no-op provider that was global before. Read without a lock: every request
/// reads it.
#[cfg(any(feature = "http-server", feature = "_db"))]
#[derive(Debug)]
pub(crate) struct PerGeneration<T> {
    made: arc_swap::ArcSwapOption<(u64, T)>,
}

#[cfg(any(feature = "http-server", feature = "_db"))]
impl<T: Clone> PerGeneration<T> {
    pub(crate) const fn new() -> Self {
        Self {
            made: arc_swap::ArcSwapOption::const_empty(),
        }
    }

    /// The value for `generation`, made by `make` when it changed. Generation `0` (nothing
    /// installed through `otel`) is never kept: the global provider may change unseen. Two
    /// threads that find it stale at once both make it; the SDK hands both the same
    /// instruments, and the last one kept wins.
    pub(crate) fn get(&self, generation: u64, make: impl FnOnce() -> T) -> T {
        if generation == 0 {
            return make();
        }
        if let Some(made) = &*self.made.load()
            && made.0 == generation
        {
            return made.1.clone();
        }
        let value = make();
        self.made
            .store(Some(std::sync::Arc::new((generation, value.clone()))));
        value
    }
}
