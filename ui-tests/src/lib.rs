//! Compile-pass and compile-fail cases for the macros; see `tests/ui.rs`.
