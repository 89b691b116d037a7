//! Every spelling the macro accepts names a runtime variant: the macro's tables and the
//! runtime's enums cannot drift apart without this case failing to compile.
//! (`#[otel::main]` accepts any fn name; only `main` runs.)

#[otel::main(traces = "otlp,console", metrics = "none", logs = "none", protocol = "grpc")]
fn exporters_and_grpc() {}

#[otel::main(traces = "none", metrics = "none", logs = "none", protocol = "http/protobuf", compression = "gzip")]
fn http_protobuf_gzip() {}

#[otel::main(traces = "none", metrics = "none", logs = "none", protocol = "http/json", compression = "none")]
fn http_json() {}

#[otel::main(traces = "none", metrics = "none", logs = "none", sampler = "always_on", propagators = "none")]
fn always_on() {}

#[otel::main(traces = "none", metrics = "none", logs = "none", sampler = "always_off", propagators = "tracecontext,baggage")]
fn always_off() {}

#[otel::main(traces = "none", metrics = "none", logs = "none", sampler = "traceidratio", sample_ratio = 0.5)]
fn trace_id_ratio() {}

#[otel::main(traces = "none", metrics = "none", logs = "none", sampler = "parentbased_always_on")]
fn parent_based_always_on() {}

#[otel::main(traces = "none", metrics = "none", logs = "none", sampler = "parentbased_always_off")]
fn parent_based_always_off() {}

#[otel::main(traces = "none", metrics = "none", logs = "none", sampler = "parentbased_traceidratio")]
fn parent_based_trace_id_ratio() {}

fn main() {
    // Only the type check matters; referencing them keeps them from being dead code.
    let _ = [
        exporters_and_grpc as fn(),
        http_protobuf_gzip,
        http_json,
        always_on,
        always_off,
        trace_id_ratio,
        parent_based_always_on,
        parent_based_always_off,
        parent_based_trace_id_ratio,
    ];
}
