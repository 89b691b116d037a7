//! The effective-configuration report printed once at `OTEL_LOG_LEVEL=debug`.

use std::fmt::{Display, Write as _};

use super::settings::{HeaderList, Resolved, Settings, SignalSettings};
use super::value::spell_list;

impl Settings {
    /// Every value with its source, one per line. Header values are masked.
    pub(crate) fn report(&self) -> String {
        let mut out = String::from("otel: effective configuration\n");
        line(&mut out, "sdk.disabled", &self.disabled);
        for (key, value) in &self.resource {
            line(&mut out, &format!("resource.{key}"), value);
        }
        signal(&mut out, "traces", &self.traces);
        signal(&mut out, "metrics", &self.metrics);
        signal(&mut out, "logs", &self.logs);
        line(&mut out, "traces.sampler", &self.sampler);
        line(&mut out, "traces.sampler_arg", &self.sample_ratio);
        line(
            &mut out,
            "propagators",
            &self.propagators.as_ref().map(|p| spell_list(p)),
        );
        line(
            &mut out,
            "traces.batch.schedule_delay",
            &self.span_batch.schedule_delay.as_ref().map(human),
        );
        line(
            &mut out,
            "traces.batch.max_queue_size",
            &self.span_batch.max_queue_size,
        );
        line(
            &mut out,
            "traces.batch.max_export_batch_size",
            &self.span_batch.max_export_batch_size,
        );
        line(
            &mut out,
            "logs.batch.schedule_delay",
            &self.log_batch.schedule_delay.as_ref().map(human),
        );
        line(
            &mut out,
            "logs.batch.max_queue_size",
            &self.log_batch.max_queue_size,
        );
        line(
            &mut out,
            "logs.batch.max_export_batch_size",
            &self.log_batch.max_export_batch_size,
        );
        line(
            &mut out,
            "metrics.export_interval",
            &self.export_interval.as_ref().map(human),
        );
        if self.metrics.uses(super::Exporter::Prometheus) {
            line(&mut out, "metrics.prometheus.host", &self.prometheus_host);
            line(&mut out, "metrics.prometheus.port", &self.prometheus_port);
        }
        let profiler = &self.profiler;
        line(&mut out, "profiler", &profiler.kind);
        match profiler.kind.value {
            super::ProfilerKind::Pyroscope => {
                let server = profiler.server.as_ref();
                let server = server.map(|server| super::endpoint::without_userinfo(server));
                line(&mut out, "profiler.server", &server);
                line(&mut out, "profiler.sample_rate", &profiler.sample_rate);
            }
            super::ProfilerKind::Local => {
                let dir = profiler.dir.as_ref().map(|dir| dir.display().to_string());
                line(&mut out, "profiler.dir", &dir);
            }
            super::ProfilerKind::None => {}
        }
        line(&mut out, "metrics.system", &self.system_metrics);
        line(&mut out, "metrics.runtime", &self.runtime_metrics);
        line(
            &mut out,
            "shutdown_timeout",
            &self.shutdown_timeout.as_ref().map(human),
        );
        line(&mut out, "log_filter", &self.log_filter);
        line(&mut out, "flush_on_signal", &self.flush_on_signal);
        line(&mut out, "subscriber", &self.subscriber);
        out
    }
}

fn signal(out: &mut String, name: &str, s: &SignalSettings) {
    line(
        out,
        &format!("{name}.exporter"),
        &s.exporters.as_ref().map(|e| spell_list(e)),
    );
    line(out, &format!("{name}.otlp.protocol"), &s.protocol);
    line(out, &format!("{name}.otlp.endpoint"), &s.endpoint);
    line(
        out,
        &format!("{name}.otlp.headers"),
        &s.headers.as_ref().map(|h| masked(h)),
    );
    line(
        out,
        &format!("{name}.otlp.timeout"),
        &s.timeout.as_ref().map(human),
    );
    line(out, &format!("{name}.otlp.compression"), &s.compression);
    if let Some(certificate) = &s.certificate {
        line(
            out,
            &format!("{name}.otlp.certificate"),
            &certificate.as_ref().map(|p| p.display().to_string()),
        );
    }
}

/// Header keys with their values replaced, so the report can be pasted anywhere.
fn masked(headers: &[(String, String)]) -> String {
    let masked: Vec<(String, String)> = headers
        .iter()
        .map(|(k, _)| (k.clone(), "***".to_owned()))
        .collect();
    if masked.is_empty() {
        return HeaderList(masked).to_string();
    }
    masked
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn human(duration: &std::time::Duration) -> String {
    humantime::format_duration(*duration).to_string()
}

fn line<T: Display>(out: &mut String, key: &str, value: &Resolved<T>) {
    // Writing to a String cannot fail.
    let _ = writeln!(out, "  {key:<38} = {:<40} ({})", value.value, value.source);
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, Settings};

    #[test]
    fn report_lists_sources_and_masks_headers() {
        let vars = [
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20s3cret",
            ),
            ("OTEL_TRACES_SAMPLER", "always_off"),
        ];
        let (settings, _) = Settings::resolve(&Config::new().service("svc"), &|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        });
        let report = settings.report();
        assert!(!report.contains("s3cret"), "{report}");
        assert!(report.contains("authorization=***"), "{report}");
        assert!(report.contains("(from OTEL_TRACES_SAMPLER)"), "{report}");
        assert!(report.contains("resource.service.name"), "{report}");
        assert!(report.contains("(from code)"), "{report}");
    }
}
