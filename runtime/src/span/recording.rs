//! The span `#[otel::span]` records: the fields of the `SpanData` an exporter receives, filled
//! in place and handed to the installed processors when the span ends.
//!
//! It implements the OpenTelemetry [`Span`] trait, so once in a [`Context`] it is the current
//! span for the OpenTelemetry API, the `tracing` bridge and `otel::current_span` alike. What
//! it skips compared with an SDK span is what a call site already knows: the tracer and scope
//! (per call site), the sampler (decided from the parent before anything is built), the span
//! builder (the fields are written once, where they end up).

use std::borrow::Cow;
use std::mem;
use std::time::SystemTime;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Event, Link, Span, SpanContext, SpanId, Status};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLimits, SpanLinks};

use super::backend;
use super::site::SpanSite;

/// A sampled `#[otel::span]` span, recording until it ends.
#[derive(Debug)]
pub(crate) struct RecordingSpan {
    span_context: SpanContext,
    parent_span_id: SpanId,
    parent_span_is_remote: bool,
    site: &'static SpanSite,
    /// The backend generation the span was started in: it ends into that backend's
    /// processors, or nowhere once another one is installed.
    generation: u64,
    limits: SpanLimits,
    name: Cow<'static, str>,
    start_time: SystemTime,
    attributes: Vec<KeyValue>,
    dropped_attributes_count: u32,
    events: SpanEvents,
    links: SpanLinks,
    status: Status,
    ended: bool,
}

/// Where a new span sits: its own context, its parent's, and the backend it records into.
#[derive(Debug)]
pub(crate) struct Placement<'a> {
    pub(crate) span_context: SpanContext,
    pub(crate) parent: &'a SpanContext,
    pub(crate) generation: u64,
    pub(crate) limits: SpanLimits,
}

impl RecordingSpan {
    /// Starts the span now. `attributes` is the site's list, already at the span limit's
    /// mercy: what is beyond `max_attributes_per_span` is dropped and counted.
    pub(crate) fn start(
        site: &'static SpanSite,
        name: &'static str,
        placement: Placement<'_>,
        mut attributes: Vec<KeyValue>,
        links: Vec<Link>,
    ) -> Self {
        let limits = placement.limits;
        let dropped_attributes_count = truncate(&mut attributes, limits.max_attributes_per_span);
        let mut span_links = SpanLinks::default();
        span_links.links = links;
        span_links.dropped_count = truncate(&mut span_links.links, limits.max_links_per_span);
        Self {
            span_context: placement.span_context,
            parent_span_id: placement.parent.span_id(),
            parent_span_is_remote: placement.parent.is_valid() && placement.parent.is_remote(),
            site,
            generation: placement.generation,
            limits,
            name: Cow::Borrowed(name),
            start_time: opentelemetry::time::now(),
            attributes,
            dropped_attributes_count,
            events: SpanEvents::default(),
            links: span_links,
            status: Status::Unset,
            ended: false,
        }
    }

    fn finish(&mut self, end_time: SystemTime) {
        if mem::replace(&mut self.ended, true) {
            return;
        }
        if backend::generation() != self.generation {
            // Another backend was installed, or none is (shutdown): this span's provider no
            // longer takes spans.
            return;
        }
        let Some(backend) = self.site.backend(self.generation) else {
            return;
        };
        backend.processors.on_end(SpanData {
            span_context: self.span_context.clone(),
            parent_span_id: self.parent_span_id,
            parent_span_is_remote: self.parent_span_is_remote,
            span_kind: self.site.kind().clone(),
            name: mem::take(&mut self.name),
            start_time: self.start_time,
            end_time,
            attributes: mem::take(&mut self.attributes),
            dropped_attributes_count: self.dropped_attributes_count,
            events: mem::take(&mut self.events),
            links: mem::take(&mut self.links),
            status: mem::take(&mut self.status),
            instrumentation_scope: self.site.scope().clone(),
        });
    }
}

/// Keeps the first `limit` items, returning how many were dropped.
fn truncate<T>(items: &mut Vec<T>, limit: u32) -> u32 {
    let limit = limit as usize;
    let dropped = items.len().saturating_sub(limit);
    items.truncate(limit);
    u32::try_from(dropped).unwrap_or(u32::MAX)
}

impl Span for RecordingSpan {
    fn add_event_with_timestamp<T>(
        &mut self,
        name: T,
        timestamp: SystemTime,
        mut attributes: Vec<KeyValue>,
    ) where
        T: Into<Cow<'static, str>>,
    {
        if self.ended {
            return;
        }
        if self.events.events.len() < self.limits.max_events_per_span as usize {
            let dropped = truncate(&mut attributes, self.limits.max_attributes_per_event);
            self.events
                .events
                .push(Event::new(name, timestamp, attributes, dropped));
        } else {
            self.events.dropped_count += 1;
        }
    }

    fn span_context(&self) -> &SpanContext {
        &self.span_context
    }

    fn is_recording(&self) -> bool {
        !self.ended
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        if self.ended {
            return;
        }
        if self.attributes.len() < self.limits.max_attributes_per_span as usize {
            self.attributes.push(attribute);
        } else {
            self.dropped_attributes_count += 1;
        }
    }

    fn set_status(&mut self, status: Status) {
        // Unset < Error < Ok, as in the SDK: Ok is final, Error overrides Unset.
        if !self.ended && status > self.status {
            self.status = status;
        }
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        if !self.ended {
            self.name = new_name.into();
        }
    }

    fn add_link(&mut self, span_context: SpanContext, mut attributes: Vec<KeyValue>) {
        if self.ended {
            return;
        }
        if self.links.links.len() < self.limits.max_links_per_span as usize {
            let dropped = truncate(&mut attributes, self.limits.max_attributes_per_link);
            let mut link = Link::with_context(span_context);
            link.attributes = attributes;
            link.dropped_attributes_count = dropped;
            self.links.links.push(link);
        } else {
            self.links.dropped_count += 1;
        }
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        self.finish(timestamp);
    }
}

impl Drop for RecordingSpan {
    /// A span whose last context goes away unended still reaches the exporter, as an SDK
    /// span does.
    fn drop(&mut self) {
        if !self.ended {
            self.finish(opentelemetry::time::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::SpanKind;

    use super::*;

    fn marker() -> &'static str {
        "tests::limited::__otel_function"
    }

    static SITE: SpanSite = SpanSite::new(
        None,
        SpanKind::Internal,
        marker,
        file!(),
        line!(),
        ("tests", "0"),
        false,
        0,
    );

    #[test]
    fn span_limits_drop_and_count_what_is_beyond_them() {
        let limits = SpanLimits {
            max_attributes_per_span: 2,
            max_events_per_span: 1,
            max_attributes_per_event: 1,
            ..SpanLimits::default()
        };
        let placement = Placement {
            span_context: SpanContext::NONE,
            parent: &SpanContext::NONE,
            generation: 0,
            limits,
        };
        let attributes = vec![
            KeyValue::new("a", 1),
            KeyValue::new("b", 2),
            KeyValue::new("c", 3),
        ];
        let mut span = RecordingSpan::start(&SITE, "limited", placement, attributes, Vec::new());
        span.set_attribute(KeyValue::new("d", 4));
        span.add_event("first", vec![KeyValue::new("x", 1), KeyValue::new("y", 2)]);
        span.add_event("second", Vec::new());
        assert_eq!(span.attributes.len(), 2);
        assert_eq!(span.dropped_attributes_count, 2);
        assert_eq!(span.events.events.len(), 1);
        assert_eq!(span.events.events[0].dropped_attributes_count, 1);
        assert_eq!(span.events.dropped_count, 1);
        span.end();
        assert!(!span.is_recording());
    }
}
