#[otel::span(kind = "server")]
fn checkout() {}

fn main() {}
