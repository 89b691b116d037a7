const NAME: &str = "checkout";

#[otel::main(service = NAME)]
fn main() {}
