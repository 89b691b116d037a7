#[otel::main]
struct App;

fn main() {}
