#[otel::main(traces = "none", metrics = "none", logs = "none")]
fn main() -> Result<(), std::io::Error> {
    Ok(())
}
