//! `system.*` for the machine: CPU time per mode (`/proc/stat`, Linux), memory, network
//! interfaces, disks and file systems (sysinfo).

use std::sync::Arc;

use opentelemetry::KeyValue;
use opentelemetry::metrics::Meter;
use opentelemetry_semantic_conventions::{attribute, metric};

use super::{Numbering, Sample, Source};

/// A name the OS gives as bytes, as text.
fn text(value: &std::ffi::OsStr) -> String {
    value.to_string_lossy().into_owned()
}

pub(crate) fn register(meter: &Meter) {
    #[cfg(target_os = "linux")]
    cpu::register(meter);
    memory::register(meter);
    network::register(meter);
    disks::register(meter);
}

#[cfg(target_os = "linux")]
mod cpu {
    use procfs::{CurrentSI as _, KernelStats};

    use super::*;

    /// The modes the semantic conventions name, as `/proc/stat` splits the time.
    const MODES: [&str; 7] = [
        "user",
        "nice",
        "system",
        "idle",
        "iowait",
        "interrupt",
        "steal",
    ];

    /// Seconds per mode, all CPUs together, and each mode's share of the last interval.
    #[derive(Debug, Default)]
    struct CpuSample {
        seconds: [f64; 7],
        utilization: [f64; 7],
    }

    impl Sample for CpuSample {
        fn read(&mut self) {
            let Ok(stats) = KernelStats::current() else {
                return;
            };
            let t = &stats.total;
            let seconds = |d: Option<std::time::Duration>| d.map_or(0.0, |d| d.as_secs_f64());
            let now = [
                t.user_duration().as_secs_f64(),
                t.nice_duration().as_secs_f64(),
                t.system_duration().as_secs_f64(),
                t.idle_duration().as_secs_f64(),
                seconds(t.iowait_duration()),
                seconds(t.irq_duration()) + seconds(t.softirq_duration()),
                seconds(t.steal_duration()),
            ];
            let deltas: Vec<f64> = now
                .iter()
                .zip(&self.seconds)
                .map(|(now, before)| (now - before).max(0.0))
                .collect();
            let total: f64 = deltas.iter().sum();
            if total > 0.0 {
                for (share, delta) in self.utilization.iter_mut().zip(&deltas) {
                    *share = delta / total;
                }
            }
            self.seconds = now;
        }
    }

    pub(super) fn register(meter: &Meter) {
        let source = Source::new(CpuSample::default());
        let mut numbers = Numbering::new();
        let (s, n) = (Arc::clone(&source), numbers.next());
        meter
            .f64_observable_counter(metric::SYSTEM_CPU_TIME)
            .with_unit("s")
            .with_description("Seconds each logical CPU spent on each mode, all CPUs together.")
            .with_callback(move |observer| {
                s.with(n, |c| {
                    for (mode, value) in MODES.iter().zip(c.seconds) {
                        observer.observe(value, &[KeyValue::new(attribute::CPU_MODE, *mode)]);
                    }
                });
            })
            .build();
        let (s, n) = (Arc::clone(&source), numbers.next());
        meter
            .f64_observable_gauge(metric::SYSTEM_CPU_UTILIZATION)
            .with_unit("1")
            .with_description(
                "Difference in system.cpu.time since the last measurement, divided by the \
                 elapsed time and the number of logical CPUs.",
            )
            .with_callback(move |observer| {
                s.with(n, |c| {
                    for (mode, value) in MODES.iter().zip(c.utilization) {
                        observer.observe(value, &[KeyValue::new(attribute::CPU_MODE, *mode)]);
                    }
                });
            })
            .build();
    }
}

mod memory {
    use sysinfo::{MemoryRefreshKind, RefreshKind, System};

    use super::*;

    struct MemorySample(System);

    impl Sample for MemorySample {
        fn read(&mut self) {
            self.0
                .refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
        }
    }

    impl MemorySample {
        /// `used` and `free` in bytes, and the total.
        fn states(&self) -> ([(&'static str, u64); 2], u64) {
            (
                [
                    ("used", self.0.used_memory()),
                    ("free", self.0.free_memory()),
                ],
                self.0.total_memory(),
            )
        }
    }

    pub(super) fn register(meter: &Meter) {
        let Ok(system) = System::new_with_specifics(RefreshKind::nothing()) else {
            return;
        };
        let source = Source::new(MemorySample(system));
        let mut numbers = Numbering::new();
        let state = |name: &'static str| KeyValue::new(attribute::SYSTEM_MEMORY_STATE, name);
        let (s, n) = (Arc::clone(&source), numbers.next());
        meter
            .i64_observable_up_down_counter(metric::SYSTEM_MEMORY_USAGE)
            .with_unit("By")
            .with_description("Reports memory in use by state.")
            .with_callback(move |observer| {
                s.with(n, |m| {
                    for (name, bytes) in m.states().0 {
                        observer.observe(i64::try_from(bytes).unwrap_or(i64::MAX), &[state(name)]);
                    }
                });
            })
            .build();
        let (s, n) = (Arc::clone(&source), numbers.next());
        meter
            .f64_observable_gauge(metric::SYSTEM_MEMORY_UTILIZATION)
            .with_unit("1")
            .with_description("Reports the share of memory in each state.")
            .with_callback(move |observer| {
                s.with(n, |m| {
                    let (states, total) = m.states();
                    if total > 0 {
                        for (name, bytes) in states {
                            observer.observe(bytes as f64 / total as f64, &[state(name)]);
                        }
                    }
                });
            })
            .build();
    }
}

mod network {
    use sysinfo::Networks;

    use super::*;

    struct NetworkSample(Networks);

    impl Sample for NetworkSample {
        fn read(&mut self) {
            self.0.refresh(true);
        }
    }

    pub(super) fn register(meter: &Meter) {
        let Ok(networks) = Networks::new() else {
            return;
        };
        let source = Source::new(NetworkSample(networks));
        let n = Numbering::new().next();
        meter
            .u64_observable_counter(metric::SYSTEM_NETWORK_IO)
            .with_unit("By")
            .with_description("Bytes received and transmitted per network interface.")
            .with_callback(move |observer| {
                source.with(n, |networks| {
                    for (interface, data) in networks.0.iter() {
                        let interface =
                            KeyValue::new(attribute::NETWORK_INTERFACE_NAME, text(interface));
                        for (direction, bytes) in [
                            ("receive", data.total_received()),
                            ("transmit", data.total_transmitted()),
                        ] {
                            observer.observe(
                                bytes,
                                &[
                                    KeyValue::new(attribute::NETWORK_IO_DIRECTION, direction),
                                    interface.clone(),
                                ],
                            );
                        }
                    }
                });
            })
            .build();
    }
}

mod disks {
    use sysinfo::{DiskRefreshKind, Disks};

    use super::*;

    struct DiskSample(Disks);

    impl Sample for DiskSample {
        fn read(&mut self) {
            self.0.refresh_specifics(
                true,
                DiskRefreshKind::nothing().with_storage().with_io_usage(),
            );
        }
    }

    pub(super) fn register(meter: &Meter) {
        let Ok(disks) = Disks::new() else {
            return;
        };
        let source = Source::new(DiskSample(disks));
        let mut numbers = Numbering::new();
        let (s, n) = (Arc::clone(&source), numbers.next());
        meter
            .u64_observable_counter(metric::SYSTEM_DISK_IO)
            .with_unit("By")
            .with_description("Bytes read from and written to each disk.")
            .with_callback(move |observer| {
                s.with(n, |disks| {
                    for disk in disks.0.iter() {
                        let usage = disk.usage();
                        let device = KeyValue::new(attribute::SYSTEM_DEVICE, text(disk.name()));
                        for (direction, bytes) in [
                            ("read", usage.total_read_bytes),
                            ("write", usage.total_written_bytes),
                        ] {
                            observer.observe(
                                bytes,
                                &[
                                    KeyValue::new(attribute::DISK_IO_DIRECTION, direction),
                                    device.clone(),
                                ],
                            );
                        }
                    }
                });
            })
            .build();
        let (s, n) = (Arc::clone(&source), numbers.next());
        meter
            .i64_observable_up_down_counter(metric::SYSTEM_FILESYSTEM_USAGE)
            .with_unit("By")
            .with_description("Bytes used and free on each mounted file system.")
            .with_callback(move |observer| {
                s.with(n, |disks| {
                    for disk in disks.0.iter() {
                        let labels = [
                            KeyValue::new(attribute::SYSTEM_DEVICE, text(disk.name())),
                            KeyValue::new(
                                attribute::SYSTEM_FILESYSTEM_MOUNTPOINT,
                                disk.mount_point().to_string_lossy().into_owned(),
                            ),
                            KeyValue::new(
                                attribute::SYSTEM_FILESYSTEM_TYPE,
                                text(disk.file_system()),
                            ),
                        ];
                        let free = disk.available_space();
                        let used = disk.total_space().saturating_sub(free);
                        for (state, bytes) in [("used", used), ("free", free)] {
                            let mut attributes = labels.to_vec();
                            attributes
                                .push(KeyValue::new(attribute::SYSTEM_FILESYSTEM_STATE, state));
                            observer.observe(i64::try_from(bytes).unwrap_or(i64::MAX), &attributes);
                        }
                    }
                });
            })
            .build();
    }
}
