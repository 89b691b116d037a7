// The ui-tests build otel without its `profiler` feature.
#[otel::main(profiler = "pyroscope")]
fn main() {}
