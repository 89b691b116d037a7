#[otel::span(links)]
fn consume() {}

fn main() {}
