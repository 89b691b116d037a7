#[otel::main(sampler = "always_on", sample_ratio = 0.5)]
fn main() {}
