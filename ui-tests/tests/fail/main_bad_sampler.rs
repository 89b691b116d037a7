#[otel::main(sampler = "always")]
fn main() {}
