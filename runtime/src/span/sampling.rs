//! The sampling decisions that are certain before a span is built: with them an unsampled
//! span costs a span context, not an SDK span with its attributes.

use opentelemetry::trace::SpanContext;

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

    pub(crate) fn to_u8(self) -> u8 {
        match self {
            Self::AlwaysOn => 0,
            Self::AlwaysOff => 1,
            Self::TraceIdRatio => 2,
            Self::ParentBased(Root::AlwaysOn) => 3,
            Self::ParentBased(Root::AlwaysOff) => 4,
            Self::ParentBased(Root::TraceIdRatio) => 5,
        }
    }

    pub(crate) fn from_u8(value: u8) -> Self {
        match value {
            1 => Self::AlwaysOff,
            2 => Self::TraceIdRatio,
            3 => Self::ParentBased(Root::AlwaysOn),
            4 => Self::ParentBased(Root::AlwaysOff),
            5 => Self::ParentBased(Root::TraceIdRatio),
            _ => Self::AlwaysOn,
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
    fn survives_the_atomic_round_trip() {
        for kind in [
            SamplerKind::AlwaysOn,
            SamplerKind::AlwaysOff,
            SamplerKind::TraceIdRatio,
            SamplerKind::ParentBasedAlwaysOn,
            SamplerKind::ParentBasedAlwaysOff,
            SamplerKind::ParentBasedTraceIdRatio,
        ] {
            let sampling = Sampling::of(kind);
            assert_eq!(Sampling::from_u8(sampling.to_u8()), sampling);
        }
    }

    #[test]
    fn only_always_off_drops_without_a_parent_rule() {
        assert!(Sampling::of(SamplerKind::AlwaysOff).certainly_drops(&parent(true)));
        assert!(!Sampling::of(SamplerKind::AlwaysOn).certainly_drops(&parent(false)));
        assert!(!Sampling::of(SamplerKind::TraceIdRatio).certainly_drops(&parent(false)));
    }
}
