#[otel::main(system_metrics = "yes")]
fn main() {}
