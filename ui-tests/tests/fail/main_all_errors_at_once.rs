#[otel::main(servce = "a", protocol = "http", timeout = "soon")]
fn main() {}
