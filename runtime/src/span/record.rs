//! A finished `#[otel::span]` span as its calling thread leaves it: only what varies per call.
//! The collector thread turns it into the `SpanData` exporters take, adding what the call site
//! knows (name, kind, scope, code location) and building an error's status, `error.type` and
//! `exception` event, so none of that is paid for on the calling thread.

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Event, SpanContext, SpanId, Status};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLimits, SpanLinks};

use super::clock::{Anchor, Timestamp};
use super::outcome::ErrorReport;
use super::site::SpanSite;

/// One span as its call recorded it. It stays in its
/// [`SpanCell`](super::recording::SpanCell) until the collector takes it, so its size is paid
/// once, in that allocation.
#[derive(Debug)]
pub(crate) struct SpanRecord {
    pub(crate) site: &'static SpanSite,
    /// The backend generation the span was started in, which its processors belong to.
    pub(crate) generation: u64,
    pub(crate) span_context: SpanContext,
    pub(crate) parent_span_id: SpanId,
    pub(crate) parent_span_is_remote: bool,
    pub(crate) start_time: Timestamp,
    pub(crate) end_time: Timestamp,
    /// The attributes of the call, with room for the code location and `error.type`.
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) dropped_attributes_count: u32,
    /// What most spans never have, boxed so the common record stays small.
    pub(crate) details: Option<Box<Details>>,
    /// The call's `Err`: kept in the record, so a failing call allocates nothing more than
    /// its message.
    pub(crate) error: Option<RecordedError>,
}

/// The rarer parts of a span, written through the OpenTelemetry API: a new name, events,
/// links, a status.
#[derive(Debug, Default)]
pub(crate) struct Details {
    pub(crate) name: Option<Cow<'static, str>>,
    pub(crate) events: SpanEvents,
    pub(crate) links: SpanLinks,
    pub(crate) status: Status,
}

/// An `Err` the call returned, recorded as it was found; made into telemetry on export.
#[derive(Debug)]
pub(crate) struct RecordedError {
    pub(crate) report: ErrorReport,
    /// Whether it becomes an `exception` span event (not when only a log record is asked for).
    pub(crate) as_event: bool,
}

impl SpanRecord {
    /// How many attributes a site with `call_attributes` of its own records, at most.
    pub(crate) const fn attribute_capacity(call_attributes: usize) -> usize {
        // The code location's three, and `error.type`.
        call_attributes + 3 + 1
    }

    pub(crate) fn details(&mut self) -> &mut Details {
        self.details.get_or_insert_with(Box::default)
    }

    /// The span as exporters see it. `limits` are the provider's, applied to what is added
    /// here as they were to what the call recorded; `anchor` dates the counter readings.
    pub(crate) fn into_span_data(self, limits: &SpanLimits, anchor: &Anchor) -> SpanData {
        let SpanRecord {
            site,
            generation: _,
            span_context,
            parent_span_id,
            parent_span_is_remote,
            start_time,
            end_time,
            mut attributes,
            mut dropped_attributes_count,
            details,
            error,
        } = self;
        let Details {
            name,
            mut events,
            links,
            mut status,
        } = details.map(|details| *details).unwrap_or_default();
        let start_time = anchor.wall_time(start_time);
        let end_time = anchor.wall_time(end_time);
        site.push_code_location(&mut attributes);
        if let Some(error) = error {
            let RecordedError { report, as_event } = error;
            attributes.push(KeyValue::new("error.type", report.type_name));
            if as_event {
                push_event(
                    &mut events,
                    exception_event(&report, end_time, limits),
                    limits,
                );
            }
            // As `Span::set_status` does: Ok is final, Error replaces Unset.
            let error = Status::error(report.message);
            if error > status {
                status = error;
            }
        }
        dropped_attributes_count += truncate(&mut attributes, limits.max_attributes_per_span);
        SpanData {
            span_context,
            parent_span_id,
            parent_span_is_remote,
            span_kind: site.kind().clone(),
            name: name.unwrap_or(Cow::Borrowed(site.span_name())),
            start_time,
            end_time,
            attributes,
            dropped_attributes_count,
            events,
            links,
            status,
            instrumentation_scope: site.scope().clone(),
        }
    }
}

/// The semantic-convention `exception` event, at the moment the call returned.
fn exception_event(report: &ErrorReport, timestamp: SystemTime, limits: &SpanLimits) -> Event {
    let mut attributes = vec![
        KeyValue::new("exception.type", report.type_name),
        KeyValue::new("exception.message", report.message.clone()),
    ];
    if let Some(stacktrace) = &report.stacktrace {
        attributes.push(KeyValue::new("exception.stacktrace", stacktrace.clone()));
    }
    let dropped = truncate(&mut attributes, limits.max_attributes_per_event);
    Event::new("exception", timestamp, attributes, dropped)
}

/// Adds `event` unless the span already has as many as `limits` allow, counting it then.
pub(crate) fn push_event(events: &mut SpanEvents, event: Event, limits: &SpanLimits) {
    if events.events.len() < limits.max_events_per_span as usize {
        events.events.push(event);
    } else {
        events.dropped_count += 1;
    }
}

/// Keeps the first `limit` items, returning how many were dropped.
pub(crate) fn truncate<T>(items: &mut Vec<T>, limit: u32) -> u32 {
    let limit = limit as usize;
    let dropped = items.len().saturating_sub(limit);
    items.truncate(limit);
    u32::try_from(dropped).unwrap_or(u32::MAX)
}

/// Links from `links`, at most as many as `limits` allow, each with at most the allowed
/// attributes.
pub(crate) fn span_links(links: Vec<opentelemetry::trace::Link>, limits: &SpanLimits) -> SpanLinks {
    let mut span_links = SpanLinks::default();
    span_links.links = links;
    span_links.dropped_count = truncate(&mut span_links.links, limits.max_links_per_span);
    for link in &mut span_links.links {
        link.dropped_attributes_count +=
            truncate(&mut link.attributes, limits.max_attributes_per_link);
    }
    span_links
}

/// A record of a test call site, for the unit tests of what carries records.
#[cfg(test)]
pub(crate) fn test_record(attributes: Vec<KeyValue>) -> SpanRecord {
    use opentelemetry::trace::SpanKind;

    fn marker() -> &'static str {
        "tests::recorded::__otel_function"
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
    let now = super::clock::now();
    SpanRecord {
        site: &SITE,
        generation: 0,
        span_context: SpanContext::NONE,
        parent_span_id: SpanId::INVALID,
        parent_span_is_remote: false,
        start_time: now,
        end_time: now,
        attributes,
        dropped_attributes_count: 0,
        details: None,
        error: None,
    }
}
