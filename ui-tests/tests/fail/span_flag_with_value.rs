#[otel::span(root = true)]
fn checkout() {}

fn main() {}
