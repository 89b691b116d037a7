#[otel::main(servce = "checkout")]
fn main() {}
