// otel is built without its `http-proto` feature here.
#[otel::main(protocol = "http/protobuf")]
fn main() {}
