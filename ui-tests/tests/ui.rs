//! Compile-pass cases for every supported shape, and one compile-fail case per diagnostic with
//! the exact compiler output in its `.stderr` (regenerate with `TRYBUILD=overwrite`).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/pass/*.rs");
    cases.compile_fail("tests/fail/*.rs");
}
