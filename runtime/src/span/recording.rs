//! A sampled `#[otel::span]` span while it runs: the [`SpanRecord`] it fills in, shared by the
//! call that owns it and the [`Context`](opentelemetry::Context) that makes it current.
//!
//! [`RecordingSpan`] implements the OpenTelemetry [`Span`] trait, so in a context it is the
//! current span for the OpenTelemetry API, the `tracing` bridge and `otel::current_span`
//! alike. When the span ends, its record goes to the [`collector`], which
//! builds the exported `SpanData` off the calling thread.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Event, Link, Span, SpanContext, Status};
use opentelemetry_sdk::trace::SpanLimits;

use super::clock::Timestamp;
use super::record::{RecordedError, SpanRecord, push_event, truncate};
use super::{backend, collector};
use crate::span::outcome::ErrorReport;

/// What a span records, from its start until the collector takes it: the calling thread hands
/// the collector this cell, not a copy of what it holds.
#[derive(Debug)]
pub(crate) struct SpanCell(Mutex<Option<Recording>>);

#[derive(Debug)]
pub(crate) struct Recording {
    record: SpanRecord,
    limits: SpanLimits,
    /// Set when the span ends: later writes (through a context that outlived the call) are
    /// ignored, as an ended SDK span ignores them.
    ended: bool,
}

impl SpanCell {
    /// A span recording `record` from now on, within `limits`.
    pub(crate) fn new(record: SpanRecord, limits: SpanLimits) -> Self {
        Self(Mutex::new(Some(Recording {
            record,
            limits,
            ended: false,
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Option<Recording>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` on the span while it records; after it ended, nothing happens.
    #[inline]
    fn with(&self, f: impl FnOnce(&mut Recording)) {
        if let Some(recording) = self.lock().as_mut()
            && !recording.ended
        {
            f(recording);
        }
    }

    pub(crate) fn is_recording(&self) -> bool {
        self.lock()
            .as_ref()
            .is_some_and(|recording| !recording.ended)
    }

    /// Ends the span at `end_time` and sends it on, unless it already ended or its backend
    /// is gone (replaced or shut down: its provider no longer takes spans, as an SDK span
    /// would find).
    pub(crate) fn finish(self: Arc<Self>, end_time: Timestamp) {
        let mut recording = self.lock();
        let Some(ended) = recording.as_mut().filter(|recording| !recording.ended) else {
            return;
        };
        ended.ended = true;
        ended.record.end_time = end_time;
        if backend::generation() != ended.record.generation {
            *recording = None;
            return;
        }
        drop(recording);
        collector::submit(self);
    }

    /// The record of an ended span, for the collector; `None` once taken.
    pub(crate) fn take_ended(&self) -> Option<SpanRecord> {
        let mut recording = self.lock();
        if recording.as_ref().is_some_and(|recording| recording.ended) {
            recording.take().map(|recording| recording.record)
        } else {
            None
        }
    }

    pub(crate) fn set_attribute(&self, attribute: KeyValue) {
        self.with(|recording| recording.set_attribute(attribute));
    }

    /// Records an `Err` of the call, turned into status, `error.type` and an `exception`
    /// event when the span is exported.
    pub(crate) fn record_error(&self, report: ErrorReport, as_event: bool) {
        self.with(|recording| {
            recording.record.error = Some(RecordedError { report, as_event });
        });
    }
}

impl Recording {
    fn set_attribute(&mut self, attribute: KeyValue) {
        let record = &mut self.record;
        if record.attributes.len() < self.limits.max_attributes_per_span as usize {
            record.attributes.push(attribute);
        } else {
            record.dropped_attributes_count += 1;
        }
    }
}

/// The span as the OpenTelemetry API sees it, inside a context.
#[derive(Debug)]
pub(crate) struct RecordingSpan {
    span_context: SpanContext,
    cell: Arc<SpanCell>,
}

impl RecordingSpan {
    pub(crate) fn new(span_context: SpanContext, cell: Arc<SpanCell>) -> Self {
        Self { span_context, cell }
    }
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
        self.cell.with(|recording| {
            let dropped = truncate(&mut attributes, recording.limits.max_attributes_per_event);
            let event = Event::new(name, timestamp, attributes, dropped);
            let limits = recording.limits;
            push_event(&mut recording.record.details().events, event, &limits);
        });
    }

    fn span_context(&self) -> &SpanContext {
        &self.span_context
    }

    fn is_recording(&self) -> bool {
        self.cell.is_recording()
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        self.cell.set_attribute(attribute);
    }

    fn set_status(&mut self, status: Status) {
        self.cell.with(|recording| {
            let current = &mut recording.record.details().status;
            // Unset < Error < Ok, as in the SDK: Ok is final, Error overrides Unset.
            if status > *current {
                *current = status;
            }
        });
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        self.cell.with(|recording| {
            recording.record.details().name = Some(new_name.into());
        });
    }

    fn add_link(&mut self, span_context: SpanContext, mut attributes: Vec<KeyValue>) {
        self.cell.with(|recording| {
            let limits = recording.limits;
            let links = &mut recording.record.details().links;
            if links.links.len() < limits.max_links_per_span as usize {
                let dropped = truncate(&mut attributes, limits.max_attributes_per_link);
                let mut link = Link::with_context(span_context);
                link.attributes = attributes;
                link.dropped_attributes_count = dropped;
                links.links.push(link);
            } else {
                links.dropped_count += 1;
            }
        });
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        self.cell.clone().finish(Timestamp::wall(timestamp));
    }
}

#[cfg(test)]
mod tests {
    use super::super::record::test_record;
    use super::*;

    #[test]
    fn span_limits_drop_and_count_what_is_beyond_them() {
        let limits = SpanLimits {
            max_attributes_per_span: 5,
            max_events_per_span: 1,
            max_attributes_per_event: 1,
            ..SpanLimits::default()
        };
        let record = test_record(vec![KeyValue::new("a", 1), KeyValue::new("b", 2)]);
        let cell = Arc::new(SpanCell::new(record, limits));
        let mut span = RecordingSpan::new(SpanContext::NONE, cell.clone());
        for key in ["c", "d", "e", "f"] {
            span.set_attribute(KeyValue::new(key, 4));
        }
        span.add_event("first", vec![KeyValue::new("x", 1), KeyValue::new("y", 2)]);
        span.add_event("second", Vec::new());
        let Some(recording) = cell.lock().take() else {
            panic!("the span is recording");
        };
        // Five recorded, then the code location added on export: the limit holds for all.
        assert_eq!(recording.record.attributes.len(), 5);
        assert_eq!(recording.record.dropped_attributes_count, 1);
        let data = recording
            .record
            .into_span_data(&limits, &crate::span::clock::Anchor::now());
        assert_eq!(data.attributes.len(), 5);
        assert_eq!(data.dropped_attributes_count, 4);
        assert_eq!(data.events.events.len(), 1);
        assert_eq!(data.events.events[0].dropped_attributes_count, 1);
        assert_eq!(data.events.dropped_count, 1);
        assert!(!span.is_recording());
    }
}
