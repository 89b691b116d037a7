//! Runnable programs that show `otel`; see `examples/`.
