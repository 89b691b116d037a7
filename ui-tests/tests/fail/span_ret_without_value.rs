#[otel::span(ret)]
fn checkout() {}

fn main() {}
