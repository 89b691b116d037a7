//! `otel::system_metrics` and `otel::runtime_metrics`, read into memory: the instruments are
//! named, typed, unit-ed and labelled as the semantic conventions say, and their values are
//! plausible against what the kernel and the runtime say directly.

use std::sync::{Barrier, Once};
use std::time::Duration;

use otel::opentelemetry::global;
use otel::testing::{MetricCapture, MetricPoint, PointValue, capture_metrics};

/// The capture's provider, with the system metrics registered once for the whole binary.
fn capture() -> MetricCapture {
    static REGISTERED: Once = Once::new();
    let capture = capture_metrics();
    REGISTERED.call_once(|| otel::system_metrics::register(&*global::meter_provider()));
    // The first collection after registering reports totals; start each test from there.
    let _ = capture.points();
    capture
}

fn value(point: &MetricPoint) -> f64 {
    match &point.value {
        PointValue::Sum(value) | PointValue::Gauge(value) => *value,
        other => panic!("{} is not a sum or gauge: {other:?}", point.name),
    }
}

/// The points of `name` whose attribute `key` is `wanted` (any, when `key` is empty).
fn points<'a>(
    points: &'a [MetricPoint],
    name: &str,
    key: &str,
    wanted: &str,
) -> Vec<&'a MetricPoint> {
    points
        .iter()
        .filter(|p| {
            p.name == name && (key.is_empty() || p.attribute(key).as_deref() == Some(wanted))
        })
        .collect()
}

fn one(all: &[MetricPoint], name: &str) -> f64 {
    let found = points(all, name, "", "");
    assert_eq!(found.len(), 1, "one point of {name}: {found:#?}");
    value(found[0])
}

/// From `/proc/self/status`, in bytes.
fn vm_rss() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line");
    kib * 1024.0
}

#[test]
fn names_units_and_attributes_follow_the_semantic_conventions() {
    let metrics = capture();
    let all = metrics.points();
    let expected: &[(&str, &str, &str, &[&str])] = &[
        ("process.cpu.time", "s", "cpu.mode", &["user", "system"]),
        (
            "process.cpu.utilization",
            "1",
            "cpu.mode",
            &["user", "system"],
        ),
        ("process.memory.usage", "By", "", &[]),
        ("process.memory.virtual", "By", "", &[]),
        ("process.thread.count", "{thread}", "", &[]),
        (
            "process.unix.file_descriptor.count",
            "{file_descriptor}",
            "",
            &[],
        ),
        (
            "process.disk.io",
            "By",
            "disk.io.direction",
            &["read", "write"],
        ),
        (
            "process.context_switches",
            "{context_switch}",
            "process.context_switch.type",
            &["voluntary", "involuntary"],
        ),
        (
            "system.cpu.time",
            "s",
            "cpu.mode",
            &[
                "user",
                "nice",
                "system",
                "idle",
                "iowait",
                "interrupt",
                "steal",
            ],
        ),
        (
            "system.cpu.utilization",
            "1",
            "cpu.mode",
            &["user", "system", "idle"],
        ),
        (
            "system.memory.usage",
            "By",
            "system.memory.state",
            &["used", "free"],
        ),
        (
            "system.memory.utilization",
            "1",
            "system.memory.state",
            &["used", "free"],
        ),
        (
            "system.network.io",
            "By",
            "network.io.direction",
            &["receive", "transmit"],
        ),
        (
            "system.disk.io",
            "By",
            "disk.io.direction",
            &["read", "write"],
        ),
        (
            "system.filesystem.usage",
            "By",
            "system.filesystem.state",
            &["used", "free"],
        ),
    ];
    for (name, unit, key, values) in expected {
        let found = points(&all, name, "", "");
        assert!(!found.is_empty(), "{name} missing; captured {all:#?}");
        assert!(
            found.iter().all(|p| p.unit == *unit),
            "{name} in {unit}: {found:#?}"
        );
        for wanted in *values {
            assert!(
                !points(&all, name, key, wanted).is_empty(),
                "{name} with {key}={wanted}: {found:#?}"
            );
        }
    }
    let lo = points(&all, "system.network.io", "network.interface.name", "lo");
    assert_eq!(
        lo.len(),
        2,
        "the loopback interface, both directions: {lo:#?}"
    );
    let root = points(
        &all,
        "system.filesystem.usage",
        "system.filesystem.mountpoint",
        "/",
    );
    assert!(
        root.iter().all(|p| p.attribute("system.device").is_some()
            && p.attribute("system.filesystem.type").is_some()),
        "{root:#?}"
    );
    for state in ["used", "free"] {
        let share = value(
            points(
                &all,
                "system.memory.utilization",
                "system.memory.state",
                state,
            )[0],
        );
        assert!((0.0..=1.0).contains(&share), "{state}: {share}");
    }
}

/// This thread's CPU time, from `/proc/thread-self/stat` (user + system, in seconds).
fn thread_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("/proc/thread-self/stat");
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("a stat line")
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 =
        fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    // USER_HZ is 100 on every Linux the tests run on.
    ticks / 100.0
}

#[test]
fn process_cpu_time_grows_by_about_a_busy_loops_length() {
    let metrics = capture();
    // Spin until this thread has had half a second of CPU, however loaded the machine is.
    let target = 0.5;
    let start = thread_cpu_seconds();
    let mut spins = 0u64;
    while thread_cpu_seconds() - start < target {
        for _ in 0..100_000 {
            spins = std::hint::black_box(spins.wrapping_add(1));
        }
    }
    let spent = thread_cpu_seconds() - start;
    let all = metrics.points();
    // Delta temporality: each point is what the counter grew by since the last collection.
    let grown: f64 = points(&all, "process.cpu.time", "", "")
        .iter()
        .map(|p| value(p))
        .sum();
    assert!(
        grown >= spent - 0.02 && grown <= spent + 0.3,
        "process.cpu.time grew {grown} s while the busy thread used {spent} s"
    );
    let user = value(points(&all, "process.cpu.utilization", "cpu.mode", "user")[0]);
    assert!(user > 0.0 && user <= 1.0, "user utilization {user}");
}

#[test]
fn process_memory_usage_is_the_resident_set() {
    let metrics = capture();
    let all = metrics.points();
    let reported = one(&all, "process.memory.usage");
    let rss = vm_rss();
    assert!(
        (reported - rss).abs() <= rss * 0.2,
        "process.memory.usage {reported} against VmRSS {rss}"
    );
    assert!(one(&all, "process.memory.virtual") >= reported);
}

#[test]
fn process_thread_count_follows_threads_started() {
    let metrics = capture();
    let before = one(&metrics.points(), "process.thread.count");
    let started = 5;
    let barrier = std::sync::Arc::new(Barrier::new(started + 1));
    let threads: Vec<_> = (0..started)
        .map(|_| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
            })
        })
        .collect();
    let during = one(&metrics.points(), "process.thread.count");
    barrier.wait();
    for thread in threads {
        thread.join().expect("a thread");
    }
    let grown = during - before;
    assert!(
        (started as f64..=started as f64 + 2.0).contains(&grown),
        "{started} threads started: the count went from {before} to {during}"
    );
}

#[test]
fn tokio_runtime_metrics_count_workers_and_alive_tasks() {
    let metrics = capture();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(3)
        .enable_all()
        .build()
        .expect("a runtime");
    otel::runtime_metrics::register(&*global::meter_provider(), runtime.handle().clone());
    let (release, released) = std::sync::mpsc::channel::<()>();
    let released = std::sync::Arc::new(std::sync::Mutex::new(released));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let released = released.clone();
            runtime.spawn_blocking(move || {
                let _ = released.lock().map(|r| r.recv());
            })
        })
        .collect();
    let waiting: Vec<_> = (0..7)
        .map(|_| runtime.spawn(async { tokio::time::sleep(Duration::from_secs(30)).await }))
        .collect();
    let all = metrics.points();
    let runtime_points: Vec<_> = all
        .iter()
        .filter(|p| {
            p.name.starts_with("tokio.")
                && p.attribute("tokio.runtime.flavor").as_deref() == Some("multi_thread")
        })
        .collect();
    let named = |name: &str| {
        runtime_points
            .iter()
            .find(|p| p.name == name)
            .map(|p| value(p))
            .unwrap_or_else(|| panic!("{name} missing: {runtime_points:#?}"))
    };
    assert_eq!(named("tokio.workers"), 3.0);
    assert!(named("tokio.tasks.alive") >= 7.0, "{runtime_points:#?}");
    assert!(named("tokio.global_queue.depth") >= 0.0);
    assert!(named("tokio.worker.busy_time") >= 0.0);
    assert!(named("tokio.worker.park_count") >= 0.0);
    for _ in &tasks {
        let _ = release.send(());
    }
    for task in waiting {
        task.abort();
    }
    drop(runtime);
}
