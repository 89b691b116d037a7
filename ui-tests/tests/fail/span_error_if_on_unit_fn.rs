#[otel::span(error_if = |e: &String| e.is_empty())]
fn checkout() {}

fn main() {}
