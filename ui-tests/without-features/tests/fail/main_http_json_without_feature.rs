// otel is built without its `http-json` feature here.
#[otel::main(protocol = "http/json")]
fn main() {}
