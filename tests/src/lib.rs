//! What the test programs in `src/bin` do, and how they end.
//!
//! Each program runs [`workload`] then ends as `OTEL_TEST_EXIT` says, so one program per
//! runtime flavour covers every exit path. The tests read what the programs print on stdout
//! (`trace_id=...`) and what the collector received.

pub mod payments;

use otel::opentelemetry::KeyValue;
use otel::opentelemetry::global;
use otel::opentelemetry::trace::{TraceContextExt as _, Tracer as _};

/// How a test program ends after its workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// `main` returns normally.
    Return,
    /// `main` returns `Err`.
    Error,
    /// `main` panics.
    Panic,
    /// `otel::exit(3)`.
    Exit,
    /// Waits for a signal (the program has `flush_on_signal`).
    AwaitSignal,
}

impl Ending {
    /// Reads `OTEL_TEST_EXIT` (`return`, `error`, `panic`, `exit`, `signal`).
    pub fn from_env() -> Ending {
        match std::env::var("OTEL_TEST_EXIT").as_deref() {
            Ok("error") => Ending::Error,
            Ok("panic") => Ending::Panic,
            Ok("exit") => Ending::Exit,
            Ok("signal") => Ending::AwaitSignal,
            _ => Ending::Return,
        }
    }
}

/// A span through the OpenTelemetry API with a `tracing` span and a `tracing` event inside it,
/// a `tracing` span with an API span inside it, and a counter point. Prints the trace ids.
pub fn workload(flavour: &str) {
    let started = std::time::Instant::now();
    let tracer = global::tracer("otel-tests");
    let counter = global::meter("otel-tests")
        .u64_counter("e2e.workload.runs")
        .build();

    tracer.in_span("e2e.api.outer", |cx| {
        println!("trace_id={}", cx.span().span_context().trace_id());
        println!("api_outer_span_id={}", cx.span().span_context().span_id());
        cx.span()
            .set_attribute(KeyValue::new("e2e.flavour", flavour.to_owned()));
        let inner = tracing::info_span!("e2e.tracing.inner", flavour);
        let _entered = inner.enter();
        tracing::info!(flavour, "e2e log inside spans");
    });

    let outer = tracing::info_span!("e2e.tracing.outer");
    outer.in_scope(|| {
        tracer.in_span("e2e.api.inner", |cx| {
            println!("second_trace_id={}", cx.span().span_context().trace_id());
        });
    });

    counter.add(1, &[KeyValue::new("flavour", flavour.to_owned())]);
    flood();
    println!("workload_ms={}", started.elapsed().as_millis());
}

/// `OTEL_TEST_FLOOD=N`: N annotated calls in a row, more than a small batch queue holds;
/// with `OTEL_TEST_FLOOD_LOGS=1`, each logs one `tracing` event too.
fn flood() {
    let calls: u64 = std::env::var("OTEL_TEST_FLOOD")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let logs = std::env::var("OTEL_TEST_FLOOD_LOGS").as_deref() == Ok("1");
    for n in 0..calls {
        flooded(n);
        if logs {
            tracing::info!(n, "flooded");
        }
    }
    if calls > 0 {
        println!("flooded={calls}");
    }
}

#[otel::span(attributes(n))]
fn flooded(n: u64) -> u64 {
    std::hint::black_box(n)
}

/// Ends the program the way `ending` says; `main` returns what this returns.
pub async fn end_async(ending: Ending) -> anyhow::Result<()> {
    if ending == Ending::AwaitSignal {
        println!("ready");
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }
    end(ending)
}

/// Ends a sync program the way `ending` says.
pub fn end(ending: Ending) -> anyhow::Result<()> {
    match ending {
        Ending::Return => Ok(()),
        Ending::Error => {
            tracing::error!("about to fail");
            Err(anyhow::anyhow!("the workload failed on purpose"))
        }
        Ending::Panic => global::tracer("otel-tests").in_span("e2e.panicking", |_| {
            panic!("the workload panicked on purpose");
        }),
        Ending::Exit => otel::exit(3),
        Ending::AwaitSignal => {
            println!("ready");
            std::thread::sleep(std::time::Duration::from_secs(60));
            Ok(())
        }
    }
}
