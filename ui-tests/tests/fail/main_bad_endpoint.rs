#[otel::main(endpoint = "localhost:4317")]
fn main() {}
