// otel is built without its `grpc` feature here.
#[otel::main(protocol = "grpc")]
fn main() {}
