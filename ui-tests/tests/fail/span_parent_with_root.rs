#[otel::span(root, parent = otel::opentelemetry::Context::new())]
fn consume() {}

fn main() {}
