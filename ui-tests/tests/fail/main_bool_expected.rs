#[otel::main(flush_on_signal = "yes")]
fn main() {}
