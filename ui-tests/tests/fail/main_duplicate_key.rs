#[otel::main(service = "a", service = "b")]
fn main() {}
