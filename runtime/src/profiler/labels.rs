//! Which trace the CPU is working for: the local root span each thread runs under, read by
//! the profiler's sampler when it interrupts the thread.
//!
//! A span that starts while the profiler runs gets [`ProfileLabels`]: its own id and name when
//! it is a local root (no parent in this process), else those of the labels current where it
//! starts. They are current while the span is: entered with a sync span, and for an async span
//! on each poll of its future (set when the poll starts, put back when it returns), so labels
//! follow the task, not the OS thread.
//!
//! The thread's slot is two atomics and a "switching" flag raised around their update, so a
//! sample taken in the middle of a switch sees no labels rather than half of two; names are
//! `&'static` (span names live in their call site, route names are kept), so the slot holds
//! a pointer to one and nothing is allocated per span or per poll.

use crate::conventions;
use std::sync::atomic::{AtomicBool, Ordering};

/// The local root span a sample is attributed to: `span_id` and `span_name` in the profile,
/// `pyroscope.profile.id` on the span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ProfileLabels {
    /// Never 0: span ids are not.
    pub(crate) root: u64,
    pub(crate) name: &'static &'static str,
}

/// Whether a profiler runs: spans take labels only then.
static ACTIVE: AtomicBool = AtomicBool::new(false);

#[inline]
pub(crate) fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

#[cfg_attr(not(feature = "profiler"), allow(dead_code))]
pub(crate) fn set_active(active: bool) {
    ACTIVE.store(active, Ordering::Relaxed);
}

#[cfg(feature = "profiler")]
mod slot {
    use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering, compiler_fence};

    use super::ProfileLabels;

    /// One thread's current labels.
    pub(crate) struct Slot {
        switching: AtomicBool,
        root: AtomicU64,
        name: AtomicPtr<&'static str>,
    }

    thread_local! {
        /// Const-initialised and without a destructor: reading it is a plain thread-local
        /// access, safe in a signal handler.
        static CURRENT: Slot = const {
            Slot {
                switching: AtomicBool::new(false),
                root: AtomicU64::new(0),
                name: AtomicPtr::new(std::ptr::null_mut()),
            }
        };
    }

    impl Slot {
        fn read(&self) -> Option<ProfileLabels> {
            if self.switching.load(Ordering::Relaxed) {
                return None;
            }
            compiler_fence(Ordering::SeqCst);
            let root = self.root.load(Ordering::Relaxed);
            let name = self.name.load(Ordering::Relaxed);
            if root == 0 || name.is_null() {
                return None;
            }
            Some(ProfileLabels {
                root,
                name: super::super::sampler::static_name(name),
            })
        }

        fn write(&self, labels: Option<ProfileLabels>) {
            let (root, name) = labels.map_or((0, std::ptr::null_mut()), |labels| {
                (labels.root, std::ptr::from_ref(labels.name).cast_mut())
            });
            // The signal handler runs on this thread, between any two of these stores: the
            // flag tells it the pair is being changed.
            self.switching.store(true, Ordering::Relaxed);
            compiler_fence(Ordering::SeqCst);
            self.root.store(root, Ordering::Relaxed);
            self.name.store(name, Ordering::Relaxed);
            compiler_fence(Ordering::SeqCst);
            self.switching.store(false, Ordering::Relaxed);
        }
    }

    /// Makes `labels` current; returns the ones they replace.
    pub(crate) fn replace(labels: Option<ProfileLabels>) -> Option<ProfileLabels> {
        CURRENT
            .try_with(|slot| {
                let previous = slot.read();
                slot.write(labels);
                previous
            })
            .ok()
            .flatten()
    }

    /// This thread's current labels.
    pub(crate) fn current() -> Option<ProfileLabels> {
        CURRENT.try_with(Slot::read).ok().flatten()
    }
}

#[cfg(feature = "profiler")]
pub(crate) use slot::current;

/// Without the profiler no thread has labels.
#[cfg(not(feature = "profiler"))]
pub(crate) fn current() -> Option<ProfileLabels> {
    None
}

/// The labels of a span, current whenever it is.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "profiler"), allow(dead_code))]
pub(crate) struct SpanLabels(ProfileLabels);

impl SpanLabels {
    /// The labels for a span starting now that is not a local root: the current ones (`None`
    /// outside any profiled trace).
    pub(crate) fn inherited() -> Option<Self> {
        current().map(Self)
    }

    /// Makes these labels current until the guard drops.
    #[inline]
    pub(crate) fn enter(&self) -> LabelsGuard {
        #[cfg(feature = "profiler")]
        {
            LabelsGuard {
                previous: slot::replace(Some(self.0)),
            }
        }
        #[cfg(not(feature = "profiler"))]
        LabelsGuard {}
    }
}

/// The labels of a local root span that starts while the profiler runs, which also gets
/// `pyroscope.profile.id`: the span id its samples carry as `span_id`. `None` when no
/// profiler runs.
pub(crate) fn local_root(
    cx: &opentelemetry::Context,
    name: &'static &'static str,
) -> Option<SpanLabels> {
    use opentelemetry::trace::TraceContextExt as _;
    if !active() {
        return None;
    }
    let span = cx.span();
    let root = u64::from_be_bytes(span.span_context().span_id().to_bytes());
    span.set_attribute(opentelemetry::KeyValue::new(
        conventions::PYROSCOPE_PROFILE_ID,
        hex(root),
    ));
    Some(SpanLabels(ProfileLabels { root, name }))
}

/// A span id as 16 lowercase hex digits, as trace backends print it; without the formatting
/// machinery, on every profiled root span.
fn hex(id: u64) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(16);
    for shift in (0..16).rev() {
        text.push(char::from(DIGITS[((id >> (shift * 4)) & 0xf) as usize]));
    }
    text
}

/// Puts back the labels that were current before [`SpanLabels::enter`].
#[derive(Debug)]
#[must_use]
pub(crate) struct LabelsGuard {
    #[cfg(feature = "profiler")]
    previous: Option<ProfileLabels>,
}

impl Drop for LabelsGuard {
    #[inline]
    fn drop(&mut self) {
        #[cfg(feature = "profiler")]
        slot::replace(self.previous);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_sixteen_hex_digits() {
        assert_eq!(super::hex(0x00f0_67aa_0ba9_02b7), "00f067aa0ba902b7");
        assert_eq!(
            super::hex(0x00f0_67aa_0ba9_02b7),
            opentelemetry::trace::SpanId::from(0x00f0_67aa_0ba9_02b7_u64).to_string()
        );
    }
}
