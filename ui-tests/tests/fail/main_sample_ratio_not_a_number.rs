#[otel::main(sample_ratio = "0.5")]
fn main() {}
