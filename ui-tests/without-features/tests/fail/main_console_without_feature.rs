// otel is built without its `console` feature here.
#[otel::main(traces = "console", metrics = "none", logs = "none")]
fn main() {}
