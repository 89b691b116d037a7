//! W3C Trace Context with every flag the receiver may act on kept: the SDK's propagator keeps
//! only `sampled` and zeroes Level 2's `random` (the trace id is random, so a sampler
//! downstream may sample on it), which every other hop of the trace then loses.

use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt as _, TraceFlags};
use opentelemetry_sdk::propagation::TraceContextPropagator;

const TRACEPARENT: &str = "traceparent";

/// `sampled` (Level 1) and `random` (Level 2).
const KNOWN_FLAGS: u8 = 0x03;

/// The SDK's propagator, with the `random` flag read and written on top of it.
#[derive(Debug, Default)]
pub(crate) struct TraceContext {
    sdk: TraceContextPropagator,
}

impl TextMapPropagator for TraceContext {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        self.sdk.inject_context(cx, injector);
        let span = cx.span();
        let span_context = span.span_context();
        let flags = span_context.trace_flags().to_u8() & KNOWN_FLAGS;
        // The SDK wrote the header; only a flag it dropped makes ours different.
        if span_context.is_valid() && flags & !TraceFlags::SAMPLED.to_u8() != 0 {
            injector.set(
                TRACEPARENT,
                format!(
                    "00-{}-{}-{flags:02x}",
                    span_context.trace_id(),
                    span_context.span_id()
                ),
            );
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let extracted = self.sdk.extract_with_context(cx, extractor);
        let span_context = extracted.span().span_context().clone();
        let Some(flags) = extractor
            .get(TRACEPARENT)
            .and_then(|header| received_flags(header, &span_context))
        else {
            return extracted;
        };
        let kept = flags & KNOWN_FLAGS;
        if kept == span_context.trace_flags().to_u8() {
            return extracted;
        }
        extracted.with_remote_span_context(SpanContext::new(
            span_context.trace_id(),
            span_context.span_id(),
            TraceFlags::new(kept),
            true,
            span_context.trace_state().clone(),
        ))
    }

    fn fields(&self) -> FieldIter<'_> {
        self.sdk.fields()
    }
}

/// The flags byte of `header`, when it is the header the SDK just accepted as `extracted`
/// (same ids, a remote context): a header the SDK rejected stays rejected.
fn received_flags(header: &str, extracted: &SpanContext) -> Option<u8> {
    if !extracted.is_valid() || !extracted.is_remote() {
        return None;
    }
    let mut parts = header.trim().split('-');
    let (_version, trace_id, span_id, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let same =
        trace_id == extracted.trace_id().to_string() && span_id == extracted.span_id().to_string();
    same.then(|| u8::from_str_radix(flags, 16).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use opentelemetry::propagation::TextMapPropagator as _;
    use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::trace::SdkTracerProvider;

    use super::TraceContext;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    fn headers(traceparent: &str) -> HashMap<String, String> {
        HashMap::from([("traceparent".to_owned(), traceparent.to_owned())])
    }

    #[test]
    fn the_random_flag_is_kept_and_forwarded_by_child_spans() {
        let propagator = TraceContext::default();
        let parent = propagator.extract(&headers(&format!("00-{TRACE}-00f067aa0ba902b7-03")));
        assert_eq!(parent.span().span_context().trace_flags().to_u8(), 0x03);

        let provider = SdkTracerProvider::builder().build();
        let child = provider.tracer("test").start_with_context("child", &parent);
        let child = parent.with_span(child);
        let mut sent = HashMap::new();
        propagator.inject_context(&child, &mut sent);
        let span_id = child.span().span_context().span_id();
        assert_eq!(sent["traceparent"], format!("00-{TRACE}-{span_id}-03"));
    }

    #[test]
    fn unknown_flags_are_dropped_and_plain_headers_pass_unchanged() {
        let propagator = TraceContext::default();
        for (received, kept) in [("01", 0x01), ("00", 0x00), ("02", 0x02), ("ff", 0x03)] {
            let cx =
                propagator.extract(&headers(&format!("00-{TRACE}-00f067aa0ba902b7-{received}")));
            let span_context = cx.span().span_context().clone();
            assert!(span_context.is_remote(), "{received}");
            assert_eq!(span_context.trace_flags().to_u8(), kept, "{received}");
            let mut sent = HashMap::new();
            propagator.inject_context(&cx, &mut sent);
            assert_eq!(
                sent["traceparent"],
                format!("00-{TRACE}-00f067aa0ba902b7-{kept:02x}")
            );
        }
    }

    #[test]
    fn a_header_the_sdk_rejects_stays_rejected() {
        let propagator = TraceContext::default();
        let cx = propagator.extract(&headers(
            "00-00000000000000000000000000000000-00f067aa0ba902b7-03",
        ));
        assert!(!cx.span().span_context().is_valid());
    }
}
