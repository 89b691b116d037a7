//! Every span and log record handed to `otel`'s OTLP pipelines is delivered or counted lost,
//! and said: a failing export is one warning when it starts, at most one a minute while it
//! lasts (with what was lost since), a line when exports recover (how long, how much lost),
//! and at shutdown one summary per signal that lost anything, split by cause:
//!
//! ```text
//! otel: warning: spans: exports to http://collector:4318/v1/traces fail (connection refused); 512 spans lost
//! otel: warning: spans: exports to http://collector:4318/v1/traces recovered after 12s; 671 spans lost
//! otel: warning: spans: 20004 ended, 13854 delivered, 6150 lost (5488 export failed, 662 queue full or not flushed by the shutdown deadline)
//! ```
//!
//! Counted around the SDK's own pieces, not instead of them: a processor wrapper counts the
//! sampled spans (log records) the SDK's batch processor is given, an exporter wrapper the
//! ones each export delivered or failed. What the batch processor was given but no export
//! reported was dropped in its queue (full) or still there at the shutdown deadline.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, LogProcessor, SdkLogRecord};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

use crate::diagnostics::warn;

/// At most one "still failing" line per signal in this long.
const REPORT_EVERY: Duration = Duration::from_secs(60);

/// One signal's counts.
#[derive(Debug)]
pub(crate) struct Ledger {
    /// `spans`, `log records`, `metric exports`.
    what: &'static str,
    /// What being handed to the pipeline is called: `ended` (spans, log records) or
    /// `attempted` (metric exports, each one item).
    handed_word: &'static str,
    /// Where exports go, as messages show it (no credentials).
    endpoint: String,
    handed: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    outage: Mutex<Option<Outage>>,
    /// Whether the final flush finished before the shutdown deadline.
    flushed: AtomicBool,
}

/// A run of failing exports.
#[derive(Debug)]
struct Outage {
    since: Instant,
    reported: Instant,
    lost: u64,
    lost_since_report: u64,
}

/// The ledgers of the pipelines installed now, summed up at shutdown.
static LEDGERS: Mutex<Vec<Arc<Ledger>>> = Mutex::new(Vec::new());

impl Ledger {
    /// A ledger for `what` exported to `endpoint`, summed up at the next shutdown.
    pub(crate) fn register(what: &'static str, endpoint: &str) -> Arc<Ledger> {
        let ledger = Arc::new(Ledger {
            what,
            handed_word: if what == "metric exports" {
                "attempted"
            } else {
                "ended"
            },
            endpoint: crate::config::endpoint::without_userinfo(endpoint),
            handed: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            outage: Mutex::new(None),
            flushed: AtomicBool::new(true),
        });
        crate::sync::lock(&LEDGERS).push(ledger.clone());
        ledger
    }

    fn handed(&self) {
        self.handed.fetch_add(1, Ordering::Relaxed);
    }

    /// One export of `count` items ended with `result`.
    fn exported(&self, count: u64, result: &OTelSdkResult) {
        let mut outage = crate::sync::lock(&self.outage);
        match result {
            Ok(()) => {
                self.delivered.fetch_add(count, Ordering::Relaxed);
                if let Some(ended) = outage.take() {
                    warn(&format!(
                        "{}: exports to {} recovered after {}; {} {} lost",
                        self.what,
                        self.endpoint,
                        humantime::format_duration(round(ended.since.elapsed())),
                        ended.lost,
                        self.what
                    ));
                }
            }
            Err(error) => {
                self.failed.fetch_add(count, Ordering::Relaxed);
                let error = crate::exporter::failure::describe(error);
                let now = Instant::now();
                match outage.as_mut() {
                    None => {
                        warn(&format!(
                            "{}: exports to {} fail ({error}); {count} {} lost",
                            self.what, self.endpoint, self.what
                        ));
                        *outage = Some(Outage {
                            since: now,
                            reported: now,
                            lost: count,
                            lost_since_report: 0,
                        });
                    }
                    Some(ongoing) => {
                        ongoing.lost += count;
                        ongoing.lost_since_report += count;
                        if now.duration_since(ongoing.reported) >= REPORT_EVERY {
                            warn(&format!(
                                "{}: exports to {} still fail ({error}); {} more {} lost in \
                                 the last {}",
                                self.what,
                                self.endpoint,
                                ongoing.lost_since_report,
                                self.what,
                                humantime::format_duration(round(
                                    now.duration_since(ongoing.reported)
                                ))
                            ));
                            ongoing.reported = now;
                            ongoing.lost_since_report = 0;
                        }
                    }
                }
            }
        }
    }

    /// The shutdown line, when anything was lost.
    fn summary(&self) -> Option<String> {
        let handed = self.handed.load(Ordering::Relaxed);
        let delivered = self.delivered.load(Ordering::Relaxed);
        let failed = self.failed.load(Ordering::Relaxed);
        let unexported = handed.saturating_sub(delivered + failed);
        if failed + unexported == 0 {
            return None;
        }
        let mut causes = Vec::new();
        if failed > 0 {
            causes.push(format!("{failed} export failed"));
        }
        if unexported > 0 {
            causes.push(if self.flushed.load(Ordering::Relaxed) {
                format!("{unexported} queue full")
            } else {
                format!("{unexported} queue full or not flushed by the shutdown deadline")
            });
        }
        Some(format!(
            "{}: {handed} {}, {delivered} delivered, {} lost ({}) on the way to {}",
            self.what,
            self.handed_word,
            failed + unexported,
            causes.join(", "),
            self.endpoint
        ))
    }
}

fn round(duration: Duration) -> Duration {
    Duration::from_secs(duration.as_secs().max(1))
}

/// Whether the pipelines of `what` (`spans`, `log records`, `metric exports`) have had failed
/// exports, which they have said: a shutdown error repeating it need not be.
pub(crate) fn failures_said(what: &str) -> bool {
    crate::sync::lock(&LEDGERS)
        .iter()
        .any(|ledger| ledger.what == what && ledger.failed.load(Ordering::Relaxed) > 0)
}

/// Says what each installed pipeline lost, once, after its final flush; `flushed` says
/// whether the flush finished before the deadline.
pub(crate) fn summarize(flushed: bool) {
    let ledgers = std::mem::take(&mut *crate::sync::lock(&LEDGERS));
    for ledger in ledgers {
        ledger.flushed.store(flushed, Ordering::Relaxed);
        if let Some(line) = ledger.summary() {
            warn(&line);
        }
    }
}

/// A span processor counting the sampled spans it hands on.
#[derive(Debug)]
pub(crate) struct CountedSpans<P> {
    pub(crate) inner: P,
    pub(crate) ledger: Arc<Ledger>,
}

impl<P: SpanProcessor> SpanProcessor for CountedSpans<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        if span.span_context.is_sampled() {
            self.ledger.handed();
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// A span exporter counting what each export delivered or lost.
#[derive(Debug)]
pub(crate) struct CountedSpanExporter<E> {
    pub(crate) inner: E,
    pub(crate) ledger: Arc<Ledger>,
}

impl<E: SpanExporter> SpanExporter for CountedSpanExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let count = batch.len() as u64;
        let result = self.inner.export(batch).await;
        self.ledger.exported(count, &result);
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// A log processor counting the records it hands on.
#[derive(Debug)]
pub(crate) struct CountedLogs<P> {
    pub(crate) inner: P,
    pub(crate) ledger: Arc<Ledger>,
}

impl<P: LogProcessor> LogProcessor for CountedLogs<P> {
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        self.ledger.handed();
        self.inner.emit(record, scope);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn event_enabled(
        &self,
        level: opentelemetry::logs::Severity,
        target: &str,
        name: Option<&str>,
    ) -> bool {
        self.inner.event_enabled(level, target, name)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// A log exporter counting what each export delivered or lost.
#[derive(Debug)]
pub(crate) struct CountedLogExporter<E> {
    pub(crate) inner: E,
    pub(crate) ledger: Arc<Ledger>,
}

impl<E: LogExporter> LogExporter for CountedLogExporter<E> {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let count = batch.iter().count() as u64;
        let result = self.inner.export(batch).await;
        self.ledger.exported(count, &result);
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn event_enabled(
        &self,
        level: opentelemetry::logs::Severity,
        target: &str,
        name: Option<&str>,
    ) -> bool {
        self.inner.event_enabled(level, target, name)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// A metric exporter counting its exports, each one item: a failed export loses that
/// collection's points.
#[derive(Debug)]
pub(crate) struct CountedMetricExporter<E> {
    pub(crate) inner: E,
    pub(crate) ledger: Arc<Ledger>,
}

impl<E: opentelemetry_sdk::metrics::exporter::PushMetricExporter>
    opentelemetry_sdk::metrics::exporter::PushMetricExporter for CountedMetricExporter<E>
{
    async fn export(
        &self,
        metrics: &opentelemetry_sdk::metrics::data::ResourceMetrics,
    ) -> OTelSdkResult {
        self.ledger.handed();
        let result = self.inner.export(metrics).await;
        self.ledger.exported(1, &result);
        result
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> opentelemetry_sdk::metrics::Temporality {
        self.inner.temporality()
    }
}
