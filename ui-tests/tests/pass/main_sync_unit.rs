#[otel::main(traces = "none", metrics = "none", logs = "none")]
fn main() {}
