//! Steady traffic under the profiler, for its memory: two threads handle one request a
//! millisecond each for `OTEL_TEST_SECONDS`, every request its own root span burning CPU in one
//! of four functions, so each sample is labelled with a span id never seen before. The
//! profiler and where spans go come from the environment (`OTEL_RUST_PROFILER`,
//! `PYROSCOPE_*`, `OTEL_EXPORTER_OTLP_*`).
//!
//! Prints the resident memory (`rss_kb_<n>=`, from `/proc/self/status`) after each fifth of
//! the traffic, and once the guard has delivered the last profile, the peak (`hwm_kb=`) and
//! the resident memory (`rss_kb=`), with the requests handled (`requests=`).

use std::time::{Duration, Instant};

const THREADS: usize = 2;

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with(field))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or_default()
}

/// Spins for `for_how_long` of wall time (each request's work).
fn spin(for_how_long: Duration) -> u64 {
    let until = Instant::now() + for_how_long;
    let mut value = 0u64;
    while Instant::now() < until {
        for _ in 0..1000 {
            value = std::hint::black_box(value.wrapping_mul(31).wrapping_add(7));
        }
    }
    value
}

#[inline(never)]
fn parse_order(work: Duration) -> u64 {
    spin(work)
}
#[inline(never)]
fn price_items(work: Duration) -> u64 {
    spin(work)
}
#[inline(never)]
fn check_stock(work: Duration) -> u64 {
    spin(work)
}
#[inline(never)]
fn render_receipt(work: Duration) -> u64 {
    spin(work)
}

#[otel::span]
fn handle_request(number: u64) -> u64 {
    let work = Duration::from_micros(250);
    match number % 4 {
        0 => parse_order(work) ^ price_items(work),
        1 => check_stock(work) ^ render_receipt(work),
        2 => price_items(work) ^ check_stock(work),
        _ => render_receipt(work) ^ parse_order(work),
    }
}

fn main() {
    let seconds: u64 = std::env::var("OTEL_TEST_SECONDS")
        .ok()
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or(10);
    let guard = otel::Config::new()
        .service("profiler-memory")
        .metrics([otel::Exporter::None])
        .logs([otel::Exporter::None])
        .init();
    let started = Instant::now();
    let total = Duration::from_secs(seconds);
    let workers: Vec<_> = (0..THREADS)
        .map(|thread| {
            std::thread::spawn(move || {
                let mut handled = 0u64;
                while started.elapsed() < total {
                    std::hint::black_box(handle_request(handled * THREADS as u64 + thread as u64));
                    handled += 1;
                }
                handled
            })
        })
        .collect();
    for fifth in 1..=5u32 {
        let at = total * fifth / 5;
        std::thread::sleep(at.saturating_sub(started.elapsed()));
        println!("rss_kb_{fifth}={}", status_kb("VmRSS:"));
    }
    let requests: u64 = workers
        .into_iter()
        .map(|worker| worker.join().unwrap_or_default())
        .sum();
    drop(guard);
    println!("requests={requests}");
    println!("hwm_kb={}", status_kb("VmHWM:"));
    println!("rss_kb={}", status_kb("VmRSS:"));
    println!(
        "anon_kb={} file_kb={}",
        status_kb("RssAnon:"),
        status_kb("RssFile:")
    );
}
