#[otel::span(parent = headers)]
fn consume(headers: &str) {
    let _ = headers;
}

fn main() {}
