//! Two tasks on one `current_thread` runtime, each under its own annotated root span, burning
//! CPU in turns: `burn_a` only ever under `task_a`, `burn_b` under `task_b`. Prints each
//! span's id (`task_a=...`). The profiler comes from `profiler = "local"`, or from
//! `OTEL_RUST_PROFILER` and the `PYROSCOPE_*` variables.
//!
//! With `OTEL_TEST_HTTP=1` it also serves `GET /burn` behind `otel::http::ServerLayer`, whose
//! handler runs `burn_http`, calls itself once and prints the server span's id
//! (`http_span=...`, from the `traceresponse` header).
//!
//! `OTEL_TEST_SECOND_INIT=1`: `otel::Config::init` once more at the start of `main`, with the
//! same profiler; its guard ends before `main`'s.
//!
//! `OTEL_TEST_STRESS=<seconds>`: meanwhile, four threads allocate, format, capture
//! backtraces and unwind caught panics for that long, the work most likely to be interrupted
//! in the allocator or the unwinder.
//!
//! `OTEL_TEST_DELETE_SELF=1`: first, the program deletes its own executable, as a deployment
//! replacing it while it runs would.
//!
//! `OTEL_TEST_DEEP=<bytes>`: first, a thread with a 256 KiB stack recurses until that many
//! bytes are left above its stack's end and burns a second of its CPU time there
//! (`burn_at_the_stack_end`), then prints `deep=<bytes left>`: a program that runs with the
//! profiler off must run with it on.

use std::time::{Duration, Instant};

/// Turns in which each task burns, yielding to the other between them.
const TURNS: u32 = 25;
const TURN: Duration = Duration::from_millis(20);

#[inline(never)]
fn burn_a(for_how_long: Duration) -> u64 {
    spin(for_how_long)
}

#[inline(never)]
fn burn_b(for_how_long: Duration) -> u64 {
    spin(for_how_long)
}

#[inline(never)]
fn burn_http(for_how_long: Duration) -> u64 {
    spin(for_how_long)
}

/// Serves `GET /burn` on a loopback port, calls it, and prints the server span's id.
async fn http_request() {
    let app = axum::Router::new()
        .route(
            "/burn",
            axum::routing::get(|| async { burn_http(Duration::from_millis(300)).to_string() }),
        )
        .layer(otel::http::ServerLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address = listener.local_addr().expect("its address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let response = reqwest::get(format!("http://{address}/burn"))
        .await
        .expect("a response");
    let trace_response = response
        .headers()
        .get("traceresponse")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    println!(
        "http_span={}",
        trace_response.split('-').nth(2).unwrap_or_default()
    );
}

/// The CPU time this process spent so far (all threads, user and system), in milliseconds.
fn process_cpu_ms() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let after = stat.rsplit_once(')')?.1.to_owned();
            let fields: Vec<&str> = after.split_whitespace().collect();
            let user: u64 = fields.get(11)?.parse().ok()?;
            let system: u64 = fields.get(12)?.parse().ok()?;
            Some((user + system) * 10)
        })
        .unwrap_or_default()
}

#[inline(never)]
/// Burns `for_how_long` of this thread's CPU time (not wall time: on a loaded machine the
/// profiler, which samples CPU time, still sees as many samples).
fn spin(for_how_long: Duration) -> u64 {
    let until = thread_cpu_time() + for_how_long;
    let mut value = 0u64;
    while thread_cpu_time() < until {
        for _ in 0..100_000 {
            value = std::hint::black_box(value.wrapping_mul(31).wrapping_add(7));
        }
    }
    value
}

/// This thread's user and system CPU time, from `/proc/thread-self/stat` (clock ticks of
/// 10 ms); wall time where that cannot be read.
fn thread_cpu_time() -> Duration {
    static STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let ticks = std::fs::read_to_string("/proc/thread-self/stat")
        .ok()
        .and_then(|stat| {
            // Fields after the command name (which may hold spaces) start at the state.
            let after = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = after.split_whitespace().collect();
            let user: u64 = fields.get(11)?.parse().ok()?;
            let system: u64 = fields.get(12)?.parse().ok()?;
            Some(user + system)
        });
    match ticks {
        Some(ticks) => Duration::from_millis(ticks * 10),
        None => STARTED.get_or_init(Instant::now).elapsed(),
    }
}

#[otel::span]
async fn task_a() -> u64 {
    println!(
        "task_a={}",
        otel::current_span::span_id().unwrap_or_default()
    );
    let mut total = 0;
    for _ in 0..TURNS {
        total ^= burn_a(TURN);
        tokio::task::yield_now().await;
    }
    total
}

#[otel::span]
async fn task_b() -> u64 {
    println!(
        "task_b={}",
        otel::current_span::span_id().unwrap_or_default()
    );
    let mut total = 0;
    for _ in 0..TURNS {
        total ^= burn_b(TURN);
        tokio::task::yield_now().await;
    }
    total
}

#[otel::main(
    profiler = "local",
    traces = "console",
    metrics = "none",
    logs = "none"
)]
#[tokio::main(flavor = "current_thread")]
async fn main() {
    // A second `init` in the same process, with the same profiler: it must leave exactly one
    // working profiler, whose profile (written when this guard drops, before main's) holds
    // the tasks' samples.
    let _second = std::env::var("OTEL_TEST_SECOND_INIT").is_ok().then(|| {
        otel::Config::new()
            .service("profiler-second-init")
            .profiler(otel::ProfilerKind::Local)
            .traces([otel::Exporter::Console])
            .metrics([otel::Exporter::None])
            .logs([otel::Exporter::None])
            .init()
    });
    if std::env::var("OTEL_TEST_DELETE_SELF").is_ok() {
        let own = std::env::current_exe().expect("its path");
        std::fs::remove_file(own).expect("deleted");
    }
    if let Some(left) = std::env::var("OTEL_TEST_DEEP")
        .ok()
        .and_then(|bytes| bytes.parse().ok())
    {
        let deep = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || down_to(stack_end(), left))
            .expect("a thread");
        println!("deep={}", deep.join().expect("no overflow"));
    }
    let stress = std::env::var("OTEL_TEST_STRESS")
        .ok()
        .and_then(|seconds| seconds.parse().ok())
        .map(|seconds| stress(Duration::from_secs(seconds)));
    if std::env::var("OTEL_TEST_HTTP").is_ok() {
        http_request().await;
    }
    let a = tokio::spawn(task_a());
    let b = tokio::spawn(task_b());
    let (a, b) = (a.await.unwrap_or_default(), b.await.unwrap_or_default());
    let stressed: u64 = stress
        .into_iter()
        .flatten()
        .map(|thread| thread.join().unwrap_or_default())
        .sum();
    println!("stressed={stressed}");
    println!("done={}", a ^ b);
    println!("cpu_ms={}", process_cpu_ms());
}

/// Threads that allocate, format, capture backtraces and unwind caught panics.
fn stress(for_how_long: Duration) -> Vec<std::thread::JoinHandle<u64>> {
    std::panic::set_hook(Box::new(|_| {}));
    (0..4)
        .map(|thread| {
            std::thread::spawn(move || {
                let started = Instant::now();
                let mut rounds = 0u64;
                while started.elapsed() < for_how_long {
                    let words: Vec<String> = (0..64).map(|n| format!("{thread}-{n}")).collect();
                    let joined = words.join(",");
                    let backtrace = std::backtrace::Backtrace::force_capture();
                    let caught = std::panic::catch_unwind(|| {
                        if joined.len() > 1 {
                            panic!("caught on purpose");
                        }
                    });
                    rounds +=
                        u64::from(caught.is_err()) + u64::from(!format!("{backtrace}").is_empty());
                }
                rounds
            })
        })
        .collect()
}

/// The lowest usable address of this thread's stack (its guard page is below it).
#[allow(unsafe_code)]
fn stack_end() -> usize {
    // SAFETY: `pthread_getattr_np` fills the zeroed attribute for the calling thread, which
    // `pthread_attr_getstack` reads and `pthread_attr_destroy` releases.
    unsafe {
        let mut attributes: libc::pthread_attr_t = std::mem::zeroed();
        assert_eq!(
            libc::pthread_getattr_np(libc::pthread_self(), &mut attributes),
            0
        );
        let mut end = std::ptr::null_mut();
        let mut size = 0;
        libc::pthread_attr_getstack(&attributes, &mut end, &mut size);
        libc::pthread_attr_destroy(&mut attributes);
        end as usize
    }
}

/// Recurses (256 bytes and more a frame) until fewer than `left` + 512 bytes are left above
/// `end`, burns a second there and returns how many bytes were left.
#[inline(never)]
fn down_to(end: usize, left: usize) -> usize {
    let frame = std::hint::black_box([0u8; 256]);
    let here = std::ptr::from_ref(&frame) as usize;
    if here - end > left + 512 {
        return std::hint::black_box(down_to(end, left)) + usize::from(frame[1]);
    }
    burn_at_the_stack_end(Duration::from_secs(1));
    here - end
}

/// Burns `for_how_long` of this thread's CPU time in a loop that needs almost no stack (the
/// clock is one system call).
#[inline(never)]
fn burn_at_the_stack_end(for_how_long: Duration) {
    #[allow(unsafe_code)]
    let cpu_time = || {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `clock_gettime` writes the time into `now` and reads nothing else.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
        Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
    };
    let until = cpu_time() + for_how_long;
    let mut value = 0u64;
    while cpu_time() < until {
        for _ in 0..1000 {
            value = std::hint::black_box(value.wrapping_mul(31).wrapping_add(7));
        }
    }
    std::hint::black_box(value);
}
