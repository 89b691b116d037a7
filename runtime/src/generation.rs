//! A number naming what is installed now (a tracer or meter provider): `0` while nothing is,
//! a new number at each installation. Call sites cache what they made from the installed
//! provider (a tracer, an instrument) with the number it was made in, and remake it when the
//! number changes; with nothing installed, the per-call check is one relaxed load.

use std::sync::atomic::{AtomicU64, Ordering};

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
