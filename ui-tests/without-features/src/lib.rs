//! Only the tests matter: see `tests/ui.rs`.
