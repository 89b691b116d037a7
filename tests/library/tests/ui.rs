//! What the facade cannot do says so: `#[otel::main]` in a build of otel without its `sdk`
//! feature is one error naming the feature (regenerate the `.stderr` with `TRYBUILD=overwrite`).

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/fail/*.rs");
}
