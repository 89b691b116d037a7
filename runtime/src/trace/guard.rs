//! The span of a sync call: started and made current on entry, ended on every exit (return,
//! `?`, panic unwinding).

use opentelemetry::trace::Link;
use opentelemetry::{Context, ContextGuard, KeyValue};

use super::installed;
use super::live::LiveSpan;
use super::site::SpanSite;
use crate::profiler::labels::LabelsGuard;

/// Whether spans may be recorded: one relaxed atomic load while a provider is installed;
/// without one, also a thread-local countdown to this thread's next look at the global
/// provider (one installed by hand, which cannot announce itself).
#[inline(always)]
pub(crate) fn enabled() -> bool {
    installed::generation() != 0 || installed::check_due()
}

/// The active span of one call. Not a public API: expansions create it.
#[derive(Debug)]
pub struct SpanGuard {
    active: Option<Active>,
}

#[derive(Debug)]
struct Active {
    // Dropped in this order: the profiler's labels stop pointing at the span's, then the span
    // ends while it is still current, then the caller's context is back.
    labels: Option<LabelsGuard>,
    span: LiveSpan,
    _current: ContextGuard,
}

impl SpanGuard {
    /// Starts the span of `site` and makes it current. With nothing installed this is one
    /// relaxed atomic load and a branch (and a thread-local countdown to the next look at the
    /// global provider); `parent`, `attributes` and `links` then never run. `parent` gives the
    /// context of `parent = ...`, `None` for the current one; `links` those of `links = ...`.
    #[inline(always)]
    pub fn enter(
        site: &'static SpanSite,
        parent: impl FnOnce() -> Option<Context>,
        attributes: impl FnOnce(&mut Vec<KeyValue>),
        links: impl FnOnce() -> Vec<Link>,
    ) -> Self {
        if !enabled() {
            return Self { active: None };
        }
        Self::start(site, installed::generation(), parent, attributes, links)
    }

    /// [`enter`](Self::enter) after the caller checked [`enabled`] itself.
    #[inline(always)]
    pub fn enter_enabled(
        site: &'static SpanSite,
        parent: impl FnOnce() -> Option<Context>,
        attributes: impl FnOnce(&mut Vec<KeyValue>),
        links: impl FnOnce() -> Vec<Link>,
    ) -> Self {
        Self::start(site, installed::generation(), parent, attributes, links)
    }

    /// Starts the span of `site` without making it current: an async fn's span, current
    /// only while its future is polled.
    #[inline(always)]
    pub fn open(
        site: &'static SpanSite,
        parent: impl FnOnce() -> Option<Context>,
        attributes: impl FnOnce(&mut Vec<KeyValue>),
        links: impl FnOnce() -> Vec<Link>,
    ) -> Option<LiveSpan> {
        if !enabled() {
            return None;
        }
        site.start(installed::generation(), parent, attributes, links, true)
    }

    #[inline(never)]
    fn start(
        site: &'static SpanSite,
        generation: u64,
        parent: impl FnOnce() -> Option<Context>,
        attributes: impl FnOnce(&mut Vec<KeyValue>),
        links: impl FnOnce() -> Vec<Link>,
    ) -> Self {
        let active = site
            .start(generation, parent, attributes, links, false)
            .map(|span| Active {
                _current: span.context().clone().attach(),
                labels: span.enter_labels(),
                span,
            });
        Self { active }
    }

    /// The span, `None` when nothing is recorded.
    #[inline]
    pub fn live_span(&self) -> Option<&LiveSpan> {
        self.active.as_ref().map(|active| &active.span)
    }

    /// Leaves the span open and no longer current, for the future an `fn -> impl Future`
    /// returns to carry on.
    #[inline]
    pub fn into_context(mut self) -> Option<LiveSpan> {
        self.active.take().map(|active| {
            drop(active.labels);
            active.span
        })
    }
}
