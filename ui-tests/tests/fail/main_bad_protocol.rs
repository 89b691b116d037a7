#[otel::main(protocol = "http")]
fn main() {}
