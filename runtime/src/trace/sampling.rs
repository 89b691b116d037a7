//! The decisions of a built-in sampler that are certain before a span is built: a span under
//! an unsampled parent with a parent-based sampler, or any span with `always_off`. Only for
//! providers `otel` built itself, whose sampler it knows; every other decision is the SDK's.

use opentelemetry::trace::SpanContext;

#[cfg(feature = "sdk")]
use crate::config::SamplerKind;

/// The configured sampler, as far as a decision can be taken without a trace id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sampling {
    AlwaysOn,
    AlwaysOff,
    /// Ratio-based without a parent: only the SDK (which draws the trace id) can decide.
    TraceIdRatio,
    /// Follows a valid parent; roots decided as the inner sampler says.
    ParentBased(Root),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    AlwaysOn,
    AlwaysOff,
    TraceIdRatio,
}

impl Sampling {
    #[cfg(feature = "sdk")]
    pub(crate) fn of(kind: SamplerKind) -> Self {
        match kind {
            SamplerKind::AlwaysOn => Self::AlwaysOn,
            SamplerKind::AlwaysOff => Self::AlwaysOff,
            SamplerKind::TraceIdRatio => Self::TraceIdRatio,
            SamplerKind::ParentBasedAlwaysOn => Self::ParentBased(Root::AlwaysOn),
            SamplerKind::ParentBasedAlwaysOff => Self::ParentBased(Root::AlwaysOff),
            SamplerKind::ParentBasedTraceIdRatio => Self::ParentBased(Root::TraceIdRatio),
        }
    }

    /// `true` when the SDK would certainly drop a span under `parent`. `false` means "ask
    /// the SDK", which then decides (and may still drop, for ratio samplers).
    pub(crate) fn certainly_drops(self, parent: &SpanContext) -> bool {
        match self {
            Self::AlwaysOff => true,
            Self::AlwaysOn | Self::TraceIdRatio => false,
            Self::ParentBased(root) => {
                if parent.is_valid() {
                    // The SDK's default parent-based delegates: sampled parents sample,
                    // unsampled parents drop, remote or local alike.
                    !parent.is_sampled()
                } else {
                    root == Root::AlwaysOff
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};

    use super::*;

    fn parent(sampled: bool) -> SpanContext {
        let flags = if sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        SpanContext::new(
            TraceId::from(7u128),
            SpanId::from(9u64),
            flags,
            true,
            TraceState::default(),
        )
    }

    #[test]
    fn parent_based_follows_the_parent_and_the_root_sampler() {
        let sampling = Sampling::of(SamplerKind::ParentBasedTraceIdRatio);
        assert!(sampling.certainly_drops(&parent(false)));
        assert!(!sampling.certainly_drops(&parent(true)));
        assert!(!sampling.certainly_drops(&SpanContext::empty_context()));
        let off_roots = Sampling::of(SamplerKind::ParentBasedAlwaysOff);
        assert!(off_roots.certainly_drops(&SpanContext::empty_context()));
        assert!(!off_roots.certainly_drops(&parent(true)));
    }

    #[test]
    fn only_always_off_drops_without_a_parent_rule() {
        assert!(Sampling::of(SamplerKind::AlwaysOff).certainly_drops(&parent(true)));
        assert!(!Sampling::of(SamplerKind::AlwaysOn).certainly_drops(&parent(false)));
        assert!(!Sampling::of(SamplerKind::TraceIdRatio).certainly_drops(&parent(false)));
    }
}
