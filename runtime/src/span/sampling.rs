//! The configured sampler, decided by `#[otel::span]` itself: the decisions that are certain
//! before anything is built (an unsampled span then costs a span context at most), and the
//! rest with the trace id, exactly as the SDK's samplers decide.

use opentelemetry::trace::{SpanContext, TraceId};

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

    /// Whether a span under `parent` in trace `trace_id` is recorded and sampled. `ratio` is
    /// the configured `TraceIdRatio` ratio.
    pub(crate) fn samples(self, parent: &SpanContext, trace_id: TraceId, ratio: f64) -> bool {
        match self {
            Self::AlwaysOn => true,
            Self::AlwaysOff => false,
            Self::TraceIdRatio => by_ratio(trace_id, ratio),
            Self::ParentBased(_) if parent.is_valid() => parent.is_sampled(),
            Self::ParentBased(Root::AlwaysOn) => true,
            Self::ParentBased(Root::AlwaysOff) => false,
            Self::ParentBased(Root::TraceIdRatio) => by_ratio(trace_id, ratio),
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

/// The SDK's `TraceIdRatioBased` decision: the low 63 bits of the trace id below the ratio's
/// share of them. Same trace id, same decision, whoever decides.
fn by_ratio(trace_id: TraceId, ratio: f64) -> bool {
    if ratio >= 1.0 {
        return true;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let upper_bound = (ratio.max(0.0) * (1u64 << 63) as f64) as u64;
    let bytes = trace_id.to_bytes();
    let mut low = [0u8; 8];
    low.copy_from_slice(&bytes[8..]);
    (u64::from_be_bytes(low) >> 1) < upper_bound
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
    fn ratio_decisions_match_the_sdk_sampler() {
        use opentelemetry::trace::SpanKind;
        use opentelemetry_sdk::trace::{Sampler, SamplingDecision, ShouldSample as _};

        for ratio in [0.0, 0.25, 0.5, 0.9, 1.0] {
            let sdk = Sampler::TraceIdRatioBased(ratio);
            for seed in 0u128..200 {
                let trace_id =
                    TraceId::from(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835));
                let sdk_samples = sdk
                    .should_sample(None, trace_id, "s", &SpanKind::Internal, &[], &[])
                    .decision
                    == SamplingDecision::RecordAndSample;
                let ours = Sampling::TraceIdRatio.samples(&SpanContext::NONE, trace_id, ratio);
                assert_eq!(ours, sdk_samples, "ratio {ratio}, trace id {trace_id}");
            }
        }
    }

    #[test]
    fn parent_based_samples_as_the_parent_did() {
        let sampling = Sampling::of(SamplerKind::ParentBasedTraceIdRatio);
        let trace_id = TraceId::from(1u128);
        assert!(sampling.samples(&parent(true), trace_id, 0.0));
        assert!(!sampling.samples(&parent(false), trace_id, 1.0));
        assert!(!sampling.samples(&SpanContext::NONE, trace_id, 0.0));
        assert!(Sampling::of(SamplerKind::ParentBasedAlwaysOn).samples(
            &SpanContext::NONE,
            trace_id,
            0.0
        ));
    }

    #[test]
    fn only_always_off_drops_without_a_parent_rule() {
        assert!(Sampling::of(SamplerKind::AlwaysOff).certainly_drops(&parent(true)));
        assert!(!Sampling::of(SamplerKind::AlwaysOn).certainly_drops(&parent(false)));
        assert!(!Sampling::of(SamplerKind::TraceIdRatio).certainly_drops(&parent(false)));
    }
}
