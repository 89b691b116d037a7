#[otel::main(propagators = "tracecontext,b3")]
fn main() {}
