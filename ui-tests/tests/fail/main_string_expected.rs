#[otel::main(service = 42)]
fn main() {}
