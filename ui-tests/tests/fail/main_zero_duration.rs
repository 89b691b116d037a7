#[otel::main(shutdown_timeout = "0s")]
fn main() {}
