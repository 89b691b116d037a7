//! The span of a sync call: started and made current on entry, ended on every exit (return,
//! `?`, panic unwinding).

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Context, ContextGuard, KeyValue};

use super::backend;
use super::site::SpanSite;

/// The active span of one call. Not a public API: expansions create it.
#[derive(Debug)]
pub struct SpanGuard {
    active: Option<Active>,
}

#[derive(Debug)]
struct Active {
    cx: Context,
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
    ) -> Option<Context> {
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
        let active = site.start(generation, attributes, false).map(|cx| Active {
            _current: cx.clone().attach(),
            cx,
        });
        Self { active }
    }

    /// The span's context, `None` when nothing is recorded.
    #[inline]
    pub fn context(&self) -> Option<&Context> {
        self.active.as_ref().map(|active| &active.cx)
    }

    /// Leaves the span open and no longer current, for the future an `fn -> impl Future`
    /// returns to carry on.
    #[inline]
    pub fn into_context(mut self) -> Option<Context> {
        self.active.take().map(|active| active.cx)
    }
}

impl Drop for SpanGuard {
    #[inline]
    fn drop(&mut self) {
        if let Some(active) = self.active.take() {
            // Ended explicitly: a clone of the context kept by the body (a child, a spawned
            // task) must not stretch the span to whenever that clone goes away.
            active.cx.span().end();
        }
    }
}
