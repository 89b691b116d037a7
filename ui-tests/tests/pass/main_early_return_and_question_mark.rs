#[otel::main(traces = "none", metrics = "none", logs = "none")]
fn main() -> anyhow::Result<()> {
    let n: u32 = "7".parse()?;
    if n == 7 {
        return Ok(());
    }
    Ok(())
}
