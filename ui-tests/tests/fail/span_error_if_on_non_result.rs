#[otel::span(error_if = |e: &String| e.is_empty())]
fn checkout() -> u32 {
    1
}

fn main() {}
