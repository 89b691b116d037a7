#[otel::main(service)]
fn main() {}
