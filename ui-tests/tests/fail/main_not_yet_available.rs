#[otel::main(profiler = "pyroscope")]
fn main() {}
