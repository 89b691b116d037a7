//! Free fns of every kind; run with no SDK installed (the disabled path).

use std::fmt::Debug;

#[otel::span]
fn unit() {}

#[otel::span]
fn value(x: u32) -> u32 {
    x + 1
}

#[otel::span]
fn early_return(x: u32) -> Result<u32, std::num::ParseIntError> {
    if x == 0 {
        return Ok(0);
    }
    let parsed: u32 = "7".parse()?;
    Ok(parsed + x)
}

#[otel::span]
fn io_alias() -> std::io::Result<()> {
    Ok(())
}

#[otel::span]
fn anyhow_alias() -> anyhow::Result<&'static str> {
    Ok("ok")
}

#[otel::span]
fn generic<T, U>(t: T, u: &U) -> String
where
    T: Debug + Clone,
    U: Debug + ?Sized,
{
    format!("{:?} {:?}", t.clone(), u)
}

#[otel::span]
fn impl_trait_arg(items: impl IntoIterator<Item = u32>) -> u32 {
    items.into_iter().sum()
}

#[otel::span]
fn impl_trait_return() -> impl Iterator<Item = u32> {
    vec![1, 2].into_iter()
}

#[otel::span]
fn borrowed(s: &str) -> &str {
    &s[1..]
}

#[otel::span]
fn lifetimes<'a, 'b: 'a>(a: &'a str, _b: &'b str) -> &'a str {
    a
}

#[otel::span]
unsafe fn unsafe_fn(p: *const u8) -> u8 {
    unsafe { *p }
}

#[otel::span]
pub(crate) fn visibility() -> Option<u8> {
    let x = Some(1)?;
    Some(x)
}

#[otel::span]
fn patterns((a, b): (u32, u32), _: u8, mut c: u32) -> u32 {
    c += a + b;
    c
}

fn main() {
    unit();
    assert_eq!(value(1), 2);
    assert_eq!(early_return(1).ok(), Some(8));
    assert!(io_alias().is_ok());
    assert_eq!(anyhow_alias().ok(), Some("ok"));
    assert_eq!(generic(1, "x"), "1 \"x\"");
    assert_eq!(impl_trait_arg([1, 2]), 3);
    assert_eq!(impl_trait_return().count(), 2);
    assert_eq!(borrowed("abc"), "bc");
    assert_eq!(lifetimes("a", "b"), "a");
    let byte = 9u8;
    assert_eq!(unsafe { unsafe_fn(&byte) }, 9);
    assert_eq!(visibility(), Some(1));
    assert_eq!(patterns((1, 2), 0, 3), 6);
}
