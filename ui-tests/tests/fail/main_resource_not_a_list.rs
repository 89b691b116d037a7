#[otel::main(resource = "team=payments")]
fn main() {}
