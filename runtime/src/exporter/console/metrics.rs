//! Metrics as a compact summary: one line per data point, histograms as count/sum/min/max.

use std::fmt::Write as _;
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;

use super::style;

/// Prints every collection (each export interval and once at shutdown) as a summary.
#[derive(Debug, Default)]
pub(crate) struct ConsoleMetricExporter;

/// The meter scope of the SDK's own metrics (`otel.sdk.*`).
const SDK_SCOPE: &str = "otel.sdk";

impl PushMetricExporter for ConsoleMetricExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let mut out = String::new();
        // The SDK's self-observability metrics (scope `otel.sdk`) go to collectors, where they
        // are dashboards' business; on a terminal they only hide the program's own.
        for scope in metrics
            .scope_metrics()
            .filter(|scope| scope.scope().name() != SDK_SCOPE)
        {
            for metric in scope.metrics() {
                render_metric(metric, &mut out);
            }
        }
        if !out.is_empty() {
            style::print_block(&format!("{}\n{out}", style::bold("metrics")));
        }
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

fn render_metric(metric: &Metric, out: &mut String) {
    let unit = if metric.unit().is_empty() {
        String::new()
    } else {
        format!(" {}", metric.unit())
    };
    let head = format!("  {}", style::bold(metric.name()));
    match metric.data() {
        AggregatedMetrics::F64(data) => render_data(&head, &unit, data, out),
        AggregatedMetrics::U64(data) => render_data(&head, &unit, data, out),
        AggregatedMetrics::I64(data) => render_data(&head, &unit, data, out),
    }
}

fn render_data<T: std::fmt::Display + Copy>(
    head: &str,
    unit: &str,
    data: &MetricData<T>,
    out: &mut String,
) {
    match data {
        MetricData::Sum(sum) => {
            let kind = if sum.is_monotonic() {
                "counter"
            } else {
                "up-down counter"
            };
            for point in sorted(sum.data_points(), |p| {
                style::attributes(p.attributes(), &[])
            }) {
                let attrs = style::attributes(point.attributes(), &[]);
                let _ = writeln!(
                    out,
                    "{head} {} = {}{unit}  {}",
                    style::dim(kind),
                    point.value(),
                    style::dim(&attrs)
                );
            }
        }
        MetricData::Gauge(gauge) => {
            for point in sorted(gauge.data_points(), |p| {
                style::attributes(p.attributes(), &[])
            }) {
                let attrs = style::attributes(point.attributes(), &[]);
                let _ = writeln!(
                    out,
                    "{head} {} = {}{unit}  {}",
                    style::dim("gauge"),
                    point.value(),
                    style::dim(&attrs)
                );
            }
        }
        MetricData::Histogram(histogram) => {
            for point in sorted(histogram.data_points(), |p| {
                style::attributes(p.attributes(), &[])
            }) {
                let attrs = style::attributes(point.attributes(), &[]);
                let min = point
                    .min()
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "-".into());
                let max = point
                    .max()
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "-".into());
                let _ = writeln!(
                    out,
                    "{head} {} count={} sum={}{unit} min={min} max={max}  {}",
                    style::dim("histogram"),
                    point.count(),
                    point.sum(),
                    style::dim(&attrs)
                );
            }
        }
        MetricData::ExponentialHistogram(histogram) => {
            for point in histogram.data_points() {
                let attrs = style::attributes(point.attributes(), &[]);
                let _ = writeln!(
                    out,
                    "{head} {} count={}  {}",
                    style::dim("histogram"),
                    point.count(),
                    style::dim(&attrs)
                );
            }
        }
    }
}

/// Data points in a stable order (by their attributes), so repeated summaries line up.
fn sorted<'a, P>(points: impl Iterator<Item = &'a P>, key: impl Fn(&P) -> String) -> Vec<&'a P>
where
    P: 'a,
{
    let mut points: Vec<&P> = points.collect();
    points.sort_by_cached_key(|p| key(p));
    points
}
