#[otel::main(resource("" = "x"))]
fn main() {}
