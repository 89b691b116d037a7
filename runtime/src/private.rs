//! What macro expansions call. Not a public API: anything here may change in any release.

pub use crate::config::{Compression, Config, Exporter, Propagator, Protocol, SamplerKind};
pub use crate::guard::ShutdownGuard;
pub use tokio;

/// `let __otel_guard = init(config);` at the top of an annotated `main`.
#[inline]
pub fn init(config: Config) -> ShutdownGuard {
    config.init()
}

/// Runs an `async fn main` body when no runtime attribute is present: a multi-thread tokio
/// runtime, as `#[tokio::main]` would build.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    #[allow(clippy::expect_used)]
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        // Same contract as `#[tokio::main]`: without a runtime the program cannot start.
        .expect("failed building the tokio runtime for `#[otel::main] async fn main`");
    runtime.block_on(future)
}
