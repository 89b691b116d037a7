#[otel::main(metrics = "prometheus", prometheus = "9464")]
fn main() {}
