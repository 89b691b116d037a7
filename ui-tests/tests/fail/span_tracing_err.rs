#[otel::span(err)]
fn checkout() -> Result<(), String> {
    Ok(())
}

fn main() {}
