use otel as telemetry;

#[otel::main(crate = "telemetry", traces = "none", metrics = "none", logs = "none")]
fn main() {}
