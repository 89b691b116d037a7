#[otel::main(profiler = "perf")]
fn main() {}
