// otel is built without its `tls` feature here.
#[otel::main(endpoint = "https://collector.example:4317")]
fn main() {}
