//! The profiler, on a program whose two tasks burn CPU in turns on one `current_thread`
//! runtime, each under its own root span: the local pprof file and flamegraph, the samples'
//! labels against the span ids the program printed, and pushes to a fake Pyroscope server
//! (decoding what it receives), to one that is down, and to one that answers 500; a thread
//! sampled near its stack's end; and the memory of a program under steady traffic with the
//! profiler off, local and pushing.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use prost::Message as _;
use support::pprof::{self, Sample};
use support::program::{self, Run};

const PROGRAM: &str = env!("CARGO_BIN_EXE_profiler_program");

/// Every sample in `burn_a` carries task_a's labels and none of task_b's, and the other way
/// round; each task has enough samples to mean something.
fn assert_labelled_by_task(samples: &[Sample], run: &Run) {
    for (burn, own, other) in [
        ("burn_a", "task_a", "task_b"),
        ("burn_b", "task_b", "task_a"),
    ] {
        let own_id = run.printed(own);
        let other_id = run.printed(other);
        let burning: Vec<&Sample> = samples.iter().filter(|s| s.has(burn)).collect();
        let count: i64 = burning.iter().map(|s| s.count).sum();
        assert!(count >= 10, "{burn}: only {count} samples: {samples:#?}");
        for sample in &burning {
            assert_eq!(
                sample.labels.get("span_id"),
                Some(&own_id),
                "{burn} ran under {own} ({own_id}), never {other} ({other_id}): {sample:#?}"
            );
            assert_eq!(
                sample.labels.get("span_name").map(String::as_str),
                Some(own)
            );
        }
    }
}

fn profile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn local_profiles_label_each_tasks_samples_with_its_own_root_span() {
    let dir = profile_dir("profiler-local");
    let dir_text = dir.display().to_string();
    let run = program::run(
        PROGRAM,
        &[
            ("OTEL_PROFILE_DIR", dir_text.as_str()),
            ("OTEL_TEST_HTTP", "1"),
            ("NO_COLOR", "1"),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");

    let pprof_path = dir.join("profile.pb.gz");
    let svg_path = dir.join("flamegraph.svg");
    assert!(
        run.stderr
            .contains(&format!("written to {}", pprof_path.display())),
        "the paths are printed: {run:#?}"
    );
    let samples = pprof::samples(&std::fs::read(&pprof_path).expect("the pprof file"));
    assert_labelled_by_task(&samples, &run);
    assert!(
        samples
            .iter()
            .all(|s| s.value > 0 && s.value % 10_000_000 == 0),
        "samples count 10 ms of CPU each at 100 Hz: {samples:#?}"
    );
    // The span carries the id its samples are labelled with.
    let task_a = run.printed("task_a");
    assert!(
        run.stdout
            .contains(&format!("pyroscope.profile.id=\"{task_a}\"")),
        "{run:#?}"
    );

    // The HTTP server span is a local root too: its handler's samples carry it.
    let http_span = run.printed("http_span");
    let serving: Vec<&Sample> = samples.iter().filter(|s| s.has("burn_http")).collect();
    let count: i64 = serving.iter().map(|s| s.count).sum();
    assert!(count >= 10, "{count} samples in burn_http: {serving:#?}");
    for sample in serving {
        assert_eq!(
            sample.labels.get("span_id"),
            Some(&http_span),
            "{sample:#?}"
        );
        assert_eq!(
            sample.labels.get("span_name").map(String::as_str),
            Some("GET /burn")
        );
    }
    assert!(
        run.stdout
            .contains(&format!("pyroscope.profile.id=\"{http_span}\"")),
        "{run:#?}"
    );

    let svg = std::fs::read_to_string(&svg_path).expect("the flamegraph");
    assert!(
        svg.starts_with("<?xml") || svg.starts_with("<svg"),
        "an SVG"
    );
    for name in ["burn_a", "burn_b", "[task_a]", "[task_b]"] {
        assert!(svg.contains(name), "the flamegraph names {name}");
    }
}

/// A second `init` in one process (both asking for the local profiler): the first profiler
/// stops before the second starts, and the second, which the tasks run under, writes a
/// profile with their samples, each labelled by its task.
#[test]
fn a_second_init_leaves_exactly_one_working_profiler() {
    let dir = profile_dir("profiler-second-init");
    let dir_text = dir.display().to_string();
    let run = program::run(
        PROGRAM,
        &[
            ("OTEL_PROFILE_DIR", dir_text.as_str()),
            ("OTEL_TEST_SECOND_INIT", "1"),
            ("NO_COLOR", "1"),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let samples =
        pprof::samples(&std::fs::read(dir.join("profile.pb.gz")).expect("the pprof file"));
    assert_labelled_by_task(&samples, &run);
}

/// What a fake Pyroscope server received.
#[derive(Debug, Clone)]
struct Push {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// A fake Pyroscope server on a loopback port, answering `status`.
fn pyroscope(status: StatusCode) -> (SocketAddr, Arc<Mutex<Vec<Push>>>, tokio::runtime::Runtime) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let (runtime, listener, address) = support::loopback::listen(1);
    let store = received.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
            let store = store.clone();
            async move {
                store.lock().expect("the store").push(Push {
                    path: uri.path().to_owned(),
                    headers,
                    body,
                });
                status
            }
        },
    );
    runtime.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (address, received, runtime)
}

fn pyroscope_env(address: &str) -> Vec<(&'static str, String)> {
    vec![
        ("OTEL_RUST_PROFILER", "pyroscope".to_owned()),
        ("PYROSCOPE_SERVER_ADDRESS", format!("http://{address}")),
        ("PYROSCOPE_AUTH_TOKEN", "canary-token-4711".to_owned()),
        ("PYROSCOPE_TENANT_ID", "team-a".to_owned()),
        ("OTEL_SERVICE_NAME", "profiled-service".to_owned()),
        ("NO_COLOR", "1".to_owned()),
    ]
}

fn run_with(env: &[(&'static str, String)]) -> Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    program::run(PROGRAM, &env)
}

#[test]
fn pyroscope_receives_labelled_profiles_with_the_credentials() {
    let (address, received, _runtime) = pyroscope(StatusCode::OK);
    let run = run_with(&pyroscope_env(&address.to_string()));
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(!run.stderr.contains("warning"), "{run:#?}");
    for output in [&run.stdout, &run.stderr] {
        assert!(
            !output.contains("canary-token-4711"),
            "no credential printed: {run:#?}"
        );
    }

    let pushes = received.lock().expect("the store").clone();
    assert!(
        !pushes.is_empty(),
        "a profile was pushed at shutdown: {run:#?}"
    );
    let push = &pushes[0];
    assert_eq!(push.path, "/push.v1.PusherService/Push");
    assert_eq!(
        push.headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer canary-token-4711")
    );
    assert_eq!(
        push.headers
            .get("x-scope-orgid")
            .and_then(|v| v.to_str().ok()),
        Some("team-a")
    );
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&push.body[..]), &mut raw)
        .expect("a gzipped body");
    let request = pyroscope::encode::r#gen::push::PushRequest::decode(raw.as_slice())
        .expect("a push request");
    let series = &request.series[0];
    let label = |name: &str| {
        series
            .labels
            .iter()
            .find(|label| label.name == name)
            .map(|label| label.value.clone())
    };
    assert_eq!(label("__name__").as_deref(), Some("process_cpu"));
    assert_eq!(label("service_name").as_deref(), Some("profiled-service"));
    let samples: Vec<Sample> = pushes
        .iter()
        .flat_map(|push| {
            let mut raw = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&push.body[..]), &mut raw)
                .expect("a gzipped body");
            let request = pyroscope::encode::r#gen::push::PushRequest::decode(raw.as_slice())
                .expect("a push request");
            request
                .series
                .into_iter()
                .flat_map(|series| series.samples)
                .flat_map(|sample| pprof::samples(&sample.raw_profile))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_labelled_by_task(&samples, &run);
}

#[test]
fn a_pyroscope_that_is_down_or_failing_costs_one_warning() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.local_addr().expect("its address")
    };
    let (failing, _received, _runtime) = pyroscope(StatusCode::INTERNAL_SERVER_ERROR);
    for (address, cause) in [(closed, "could not connect"), (failing, "answered 500")] {
        let started = Instant::now();
        let run = run_with(&pyroscope_env(&address.to_string()));
        assert_eq!(run.code, Some(0), "{run:#?}");
        assert!(started.elapsed() < Duration::from_secs(8), "{run:#?}");
        let warnings: Vec<&str> = run
            .stderr
            .lines()
            .filter(|line| line.starts_with("otel: warning"))
            .collect();
        assert_eq!(warnings.len(), 1, "one warning: {run:#?}");
        assert!(
            warnings[0].contains(&format!("profiles to http://{address}"))
                && warnings[0].contains(cause),
            "{run:#?}"
        );
        assert!(!run.stderr.contains("canary-token-4711"), "{run:#?}");
        assert!(
            run.stdout.contains("done="),
            "the program ran to its end: {run:#?}"
        );
    }
}

#[test]
fn sampling_at_1000_hz_survives_threads_busy_in_the_allocator_and_the_unwinder() {
    let dir = profile_dir("profiler-stress");
    let dir_text = dir.display().to_string();
    let started = Instant::now();
    let run = program::run(
        PROGRAM,
        &[
            ("OTEL_PROFILE_DIR", dir_text.as_str()),
            ("PYROSCOPE_SAMPLE_RATE", "1000"),
            ("OTEL_TEST_STRESS", "3"),
            ("NO_COLOR", "1"),
        ],
    );
    assert_eq!(run.code, Some(0), "no crash: {run:#?}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "no hang: {run:#?}"
    );
    let stressed: u64 = run.printed("stressed").parse().expect("a count");
    assert!(
        stressed > 100,
        "the stress threads did their work: {run:#?}"
    );
    let samples =
        pprof::samples(&std::fs::read(dir.join("profile.pb.gz")).expect("the pprof file"));
    assert!(
        samples.iter().any(|s| s.has("stress")),
        "the stress threads were sampled too"
    );
    assert_labelled_by_task(&samples, &run);
}

/// The profile counts the CPU time the program spent, within 10%, whatever rate is asked
/// for: 100 Hz as asked, 1000 Hz capped at the kernel's scheduler tick (which is all the
/// kernel delivers), with one warning naming both rates.
#[test]
fn profiles_count_the_cpu_spent_at_every_rate() {
    for rate in [100u32, 1000] {
        let dir = profile_dir(&format!("profiler-rate-{rate}"));
        let dir_text = dir.display().to_string();
        let rate_text = rate.to_string();
        let run = program::run(
            PROGRAM,
            &[
                ("OTEL_PROFILE_DIR", dir_text.as_str()),
                ("PYROSCOPE_SAMPLE_RATE", rate_text.as_str()),
                ("NO_COLOR", "1"),
            ],
        );
        assert_eq!(run.code, Some(0), "{run:#?}");
        let samples =
            pprof::samples(&std::fs::read(dir.join("profile.pb.gz")).expect("the pprof file"));
        let profiled_ms: i64 = samples.iter().map(|s| s.value).sum::<i64>() / 1_000_000;
        let spent_ms: i64 = run.printed("cpu_ms").parse().expect("a number");
        assert!(
            (profiled_ms - spent_ms).abs() <= spent_ms / 10 + 30,
            "at {rate} Hz the profile counts {profiled_ms} ms of CPU; the program spent {spent_ms} ms"
        );
        let capped = run
            .stderr
            .lines()
            .filter(|line| line.contains("the profiler samples at"))
            .count();
        if rate > 100 && capped == 1 {
            assert!(
                run.stderr.contains(&format!("not the {rate} Hz asked for")),
                "{run:#?}"
            );
        } else {
            assert_eq!(capped, 0, "{run:#?}");
        }
    }
}

/// A thread that runs 4 KiB above its stack's end with the profiler off runs so with it on:
/// the kernel's signal frame and the stack walk take the thread's signal stack, not the
/// little that is left of its own (they need some 5 KiB, and the thread would abort with
/// "has overflowed its stack"). The samples taken there still have their whole stack.
#[test]
fn the_profiler_leaves_a_thread_near_its_stack_end_running() {
    let dir = profile_dir("profiler-deep");
    let dir_text = dir.display().to_string();
    let run = program::run(
        PROGRAM,
        &[
            ("OTEL_PROFILE_DIR", dir_text.as_str()),
            ("OTEL_TEST_DEEP", "4096"),
            ("NO_COLOR", "1"),
        ],
    );
    assert_eq!(run.code, Some(0), "no overflow: {run:#?}");
    let left: usize = run.printed("deep").parse().expect("bytes left");
    assert!(left <= 4096 + 1024, "{run:#?}");
    let samples =
        pprof::samples(&std::fs::read(dir.join("profile.pb.gz")).expect("the pprof file"));
    let deep: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.has("burn_at_the_stack_end"))
        .collect();
    let count: i64 = deep.iter().map(|s| s.count).sum();
    assert!(
        count >= 50,
        "a second of CPU is some 100 samples: {deep:#?}"
    );
    assert!(
        deep.iter().all(|s| s.has("down_to")),
        "walked from the signal stack, the samples hold the recursion: {deep:#?}"
    );
}

/// An HTTP server on a loopback port answering 200 to everything and keeping nothing: where
/// the memory program's spans and profiles go.
fn sink() -> (SocketAddr, tokio::runtime::Runtime) {
    let (runtime, listener, address) = support::loopback::listen(1);
    let app = axum::Router::new().fallback(|_body: Bytes| async { StatusCode::OK });
    runtime.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (address, runtime)
}

/// Twelve seconds of requests, each its own root span (so every sample is labelled with a
/// span id never seen before): with the profiler on, in either mode, the program's peak
/// resident memory stays within 20 MB of the same traffic with it off. Symbolising with
/// DWARF and building the profile as messages took it 65–80 MB above.
#[test]
fn the_profiler_keeps_its_memory_within_20_mb_in_either_mode() {
    const MEMORY_PROGRAM: &str = env!("CARGO_BIN_EXE_profiler_memory");
    let (address, _runtime) = sink();
    let server = format!("http://{address}");
    let dir = profile_dir("profiler-memory");
    let dir_text = dir.display().to_string();
    let peak_kb = |profiler: &str| {
        let run = program::run(
            MEMORY_PROGRAM,
            &[
                ("OTEL_TEST_SECONDS", "12"),
                ("OTEL_RUST_PROFILER", profiler),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &server),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
                ("PYROSCOPE_SERVER_ADDRESS", &server),
                ("OTEL_PROFILE_DIR", &dir_text),
                ("NO_COLOR", "1"),
            ],
        );
        assert_eq!(run.code, Some(0), "{run:#?}");
        assert!(!run.stderr.contains("warning"), "{run:#?}");
        let peak: u64 = run.printed("hwm_kb").parse().expect("a peak");
        (peak, run)
    };
    let (off, _) = peak_kb("none");
    for profiler in ["local", "pyroscope"] {
        let (on, run) = peak_kb(profiler);
        assert!(
            on <= off + 20 * 1024,
            "{profiler}: peak {on} kB with the profiler, {off} kB without: {run:#?}"
        );
    }
    assert!(
        dir.join("profile.pb.gz").is_file(),
        "the local profile was written"
    );
}

/// A program whose executable is deleted while it runs (a deployment replacing it) still
/// has its functions named: the kernel keeps the file, and the profiler reads it there.
#[test]
fn a_program_whose_file_was_replaced_still_has_its_functions_named() {
    let dir = profile_dir("profiler-deleted");
    std::fs::create_dir_all(&dir).expect("a directory");
    let copy = dir.join("profiler_program");
    std::fs::copy(PROGRAM, &copy).expect("a copy of the program");
    let dir_text = dir.display().to_string();
    let run = program::run(
        copy.to_str().expect("a UTF-8 path"),
        &[
            ("OTEL_PROFILE_DIR", dir_text.as_str()),
            ("OTEL_TEST_DELETE_SELF", "1"),
            ("NO_COLOR", "1"),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(!copy.exists(), "the program deleted itself");
    let samples =
        pprof::samples(&std::fs::read(dir.join("profile.pb.gz")).expect("the pprof file"));
    assert_labelled_by_task(&samples, &run);
}
