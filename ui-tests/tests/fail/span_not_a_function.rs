#[otel::span]
struct Order {
    id: u64,
}

fn main() {}
