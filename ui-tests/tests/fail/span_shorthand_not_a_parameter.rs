#[otel::span(attributes(user))]
fn checkout(_id: u64) {}

fn main() {}
