//! The span of a sync call: started and made current on entry, ended on every exit (return,
//! `?`, panic unwinding).

use opentelemetry::{ContextGuard, KeyValue};

use super::backend;
use super::live::LiveSpan;
use super::site::SpanSite;

/// The active span of one call. Not a public API: expansions create it.
#[derive(Debug)]
pub struct SpanGuard {
    active: Option<Active>,
}

#[derive(Debug)]
struct Active {
    // Declared first, dropped first: the span ends while it is still current.
    span: LiveSpan,
    _current: ContextGuard,
}

impl SpanGuard {
    /// Starts the span of `site` and makes it current. With no backend installed this is one
    /// relaxed atomic load and a branch; `attributes` then never runs.
    #[inline(always)]
    pub fn enter(site: &'static SpanSite, attributes: impl FnOnce(&mut Vec<KeyValue>)) -> Self {
        let generation = backend::generation();
        if generation == 0 {
            return Self { active: None };
        }
        Self::start(site, generation, attributes)
    }

    /// Starts the span of `site` without making it current: an async fn's span, current
    /// only while its future is polled.
    #[inline(always)]
    pub fn open(
        site: &'static SpanSite,
        attributes: impl FnOnce(&mut Vec<KeyValue>),
    ) -> Option<LiveSpan> {
        let generation = backend::generation();
        if generation == 0 {
            return None;
        }
        site.start(generation, attributes, true)
    }

    #[inline(never)]
    fn start(
        site: &'static SpanSite,
        generation: u64,
        attributes: impl FnOnce(&mut Vec<KeyValue>),
    ) -> Self {
        let active = site
            .start(generation, attributes, false)
            .map(|span| Active {
                _current: span.context().clone().attach(),
                span,
            });
        Self { active }
    }

    /// The span, `None` when nothing is recorded.
    #[inline]
    pub fn context(&self) -> Option<&LiveSpan> {
        self.active.as_ref().map(|active| &active.span)
    }

    /// Leaves the span open and no longer current, for the future an `fn -> impl Future`
    /// returns to carry on.
    #[inline]
    pub fn into_context(mut self) -> Option<LiveSpan> {
        self.active.take().map(|active| active.span)
    }
}
