//! One compile-fail case per key or value that needs a cargo feature of otel, with otel built
//! with the SDK alone: each error names the feature and points at the value (regenerate the `.stderr`
//! files with `TRYBUILD=overwrite`).

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/fail/*.rs");
}
