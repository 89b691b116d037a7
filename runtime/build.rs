//! Records the compiler's version for the `process.runtime.version` and
//! `process.runtime.description` resource attributes: the code it generated is a Rust
//! program's runtime. When `rustc --version` cannot run, the attributes are left out.

fn main() {
    println!("cargo:rerun-if-env-changed=RUSTC");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(output) = std::process::Command::new(rustc).arg("--version").output() else {
        return;
    };
    if let Ok(version) = String::from_utf8(output.stdout) {
        let version = version.trim();
        if output.status.success() && !version.is_empty() {
            println!("cargo:rustc-env=OTEL_RUSTC_VERSION={version}");
        }
    }
}
