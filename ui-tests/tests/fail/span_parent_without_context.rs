#[otel::span(parent)]
fn consume() {}

fn main() {}
