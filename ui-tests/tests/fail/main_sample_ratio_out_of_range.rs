#[otel::main(sample_ratio = 1.5)]
fn main() {}
