#[otel::main(compression = "zip")]
fn main() {}
