//! `process.*` for this process, from `/proc/self`.

use std::sync::Arc;
use std::time::Instant;

use opentelemetry::KeyValue;
use opentelemetry::metrics::Meter;
use opentelemetry_semantic_conventions::{attribute, metric};
use procfs::process::Process;

use super::{Numbering, Sample, Source};

/// One reading of `/proc/self/{stat,status,io,fd}`. A figure the kernel does not give (no
/// `io` without the accounting, say) stays at its last value.
#[derive(Debug, Default)]
pub(crate) struct ProcessSample {
    pub(crate) cpu_user: f64,
    pub(crate) cpu_system: f64,
    pub(crate) utilization_user: f64,
    pub(crate) utilization_system: f64,
    pub(crate) memory_usage: i64,
    pub(crate) memory_virtual: i64,
    pub(crate) threads: i64,
    pub(crate) open_fds: i64,
    pub(crate) disk_read: u64,
    pub(crate) disk_write: u64,
    pub(crate) voluntary_switches: u64,
    pub(crate) involuntary_switches: u64,
    /// When the CPU times were read, for the utilization of the next reading.
    read_at: Option<Instant>,
}

impl Sample for ProcessSample {
    fn read(&mut self) {
        let Ok(process) = Process::myself() else {
            return;
        };
        let now = Instant::now();
        if let Ok(stat) = process.stat() {
            let ticks = procfs::ticks_per_second() as f64;
            let user = stat.utime as f64 / ticks;
            let system = stat.stime as f64 / ticks;
            if let Some(before) = self.read_at {
                // The share of the CPUs this process could use that it did use.
                let capacity = now.duration_since(before).as_secs_f64() * cpus();
                if capacity > 0.0 {
                    self.utilization_user = (user - self.cpu_user).max(0.0) / capacity;
                    self.utilization_system = (system - self.cpu_system).max(0.0) / capacity;
                }
            }
            self.cpu_user = user;
            self.cpu_system = system;
            self.read_at = Some(now);
            self.memory_usage = saturating_i64(stat.rss.saturating_mul(procfs::page_size()));
            self.memory_virtual = saturating_i64(stat.vsize);
            self.threads = stat.num_threads;
        }
        if let Ok(status) = process.status() {
            self.voluntary_switches = status
                .voluntary_ctxt_switches
                .unwrap_or(self.voluntary_switches);
            self.involuntary_switches = status
                .nonvoluntary_ctxt_switches
                .unwrap_or(self.involuntary_switches);
        }
        if let Ok(io) = process.io() {
            self.disk_read = io.read_bytes;
            self.disk_write = io.write_bytes;
        }
        if let Ok(count) = process.fd_count() {
            self.open_fds = saturating_i64(count as u64);
        }
    }
}

fn cpus() -> f64 {
    std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64)
}

fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(crate) fn register(meter: &Meter) {
    let source = Source::new(ProcessSample::default());
    let mut numbers = Numbering::new();
    let modes = |user: f64, system: f64| {
        [
            (user, KeyValue::new(attribute::CPU_MODE, "user")),
            (system, KeyValue::new(attribute::CPU_MODE, "system")),
        ]
    };

    let (s, n) = (Arc::clone(&source), numbers.next());
    meter
        .f64_observable_counter(metric::PROCESS_CPU_TIME)
        .with_unit("s")
        .with_description("Total CPU seconds broken down by different CPU modes.")
        .with_callback(move |observer| {
            s.with(n, |p| {
                for (value, mode) in modes(p.cpu_user, p.cpu_system) {
                    observer.observe(value, &[mode]);
                }
            });
        })
        .build();

    let (s, n) = (Arc::clone(&source), numbers.next());
    meter
        .f64_observable_gauge(metric::PROCESS_CPU_UTILIZATION)
        .with_unit("1")
        .with_description(
            "Difference in process.cpu.time since the last measurement, divided by the \
             elapsed time and number of CPUs available to the process.",
        )
        .with_callback(move |observer| {
            s.with(n, |p| {
                for (value, mode) in modes(p.utilization_user, p.utilization_system) {
                    observer.observe(value, &[mode]);
                }
            });
        })
        .build();

    let gauges: [ProcessGauge; 4] = [
        (
            metric::PROCESS_MEMORY_USAGE,
            "By",
            "The amount of physical memory in use.",
            |p| p.memory_usage,
        ),
        (
            metric::PROCESS_MEMORY_VIRTUAL,
            "By",
            "The amount of committed virtual memory.",
            |p| p.memory_virtual,
        ),
        (
            metric::PROCESS_THREAD_COUNT,
            "{thread}",
            "Process threads count.",
            |p| p.threads,
        ),
        (
            metric::PROCESS_UNIX_FILE_DESCRIPTOR_COUNT,
            "{file_descriptor}",
            "Number of file descriptors in use by the process.",
            |p| p.open_fds,
        ),
    ];
    for (name, unit, description, value) in gauges {
        let (s, n) = (Arc::clone(&source), numbers.next());
        meter
            .i64_observable_up_down_counter(name)
            .with_unit(unit)
            .with_description(description)
            .with_callback(move |observer| s.with(n, |p| observer.observe(value(p), &[])))
            .build();
    }

    let (s, n) = (Arc::clone(&source), numbers.next());
    meter
        .u64_observable_counter(metric::PROCESS_DISK_IO)
        .with_unit("By")
        .with_description("Disk bytes transferred.")
        .with_callback(move |observer| {
            s.with(n, |p| {
                observer.observe(
                    p.disk_read,
                    &[KeyValue::new(attribute::DISK_IO_DIRECTION, "read")],
                );
                observer.observe(
                    p.disk_write,
                    &[KeyValue::new(attribute::DISK_IO_DIRECTION, "write")],
                );
            });
        })
        .build();

    let (s, n) = (Arc::clone(&source), numbers.next());
    meter
        .u64_observable_counter(metric::PROCESS_CONTEXT_SWITCHES)
        .with_unit("{context_switch}")
        .with_description("Number of times the process has been context switched.")
        .with_callback(move |observer| {
            s.with(n, |p| {
                let kind = |value| KeyValue::new(attribute::PROCESS_CONTEXT_SWITCH_TYPE, value);
                observer.observe(p.voluntary_switches, &[kind("voluntary")]);
                observer.observe(p.involuntary_switches, &[kind("involuntary")]);
            });
        })
        .build();
}

/// An instrument read from one figure: name, unit, description, and how to read it.
type ProcessGauge = (
    &'static str,
    &'static str,
    &'static str,
    fn(&ProcessSample) -> i64,
);
