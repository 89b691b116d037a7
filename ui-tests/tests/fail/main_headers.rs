#[otel::main(headers = "api-key=secret")]
fn main() {}
