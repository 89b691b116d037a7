#[otel::span(error_if)]
fn checkout() -> Result<(), String> {
    Ok(())
}

fn main() {}
