//! Attribute values from ordinary Rust values: `key = expr` takes integers, floats, bools and
//! strings as they are; `%expr` and `?expr` format with `Display` and `Debug`.

use std::borrow::Cow;
use std::fmt::{Debug, Display};

use opentelemetry::{Key, KeyValue, StringValue, Value};

/// A value `#[otel::span(attributes(key = value))]` records as it is.
///
/// Integers become `i64` (values beyond `i64::MAX` become strings, never wrapped), floats
/// `f64`, `bool` stays `bool`, strings and `char` become strings. `Option` records its value,
/// or nothing when `None`. Anything else: `key = %value` (Display) or `key = ?value` (Debug).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be recorded as an attribute value as it is",
    label = "not an integer, float, bool or string",
    note = "write `key = %value` to record it with `Display`, or `key = ?value` for `Debug`"
)]
pub trait AttributeValue {
    /// The OpenTelemetry value, `None` to record nothing.
    fn to_value(&self) -> Option<Value>;
}

macro_rules! small_integers {
    ($($ty:ty)*) => {$(
        impl AttributeValue for $ty {
            #[inline]
            fn to_value(&self) -> Option<Value> {
                Some(Value::I64(i64::from(*self)))
            }
        }
    )*};
}
small_integers!(i8 i16 i32 i64 u8 u16 u32);

macro_rules! wide_integers {
    ($($ty:ty)*) => {$(
        impl AttributeValue for $ty {
            #[inline]
            fn to_value(&self) -> Option<Value> {
                Some(match i64::try_from(*self) {
                    Ok(value) => Value::I64(value),
                    Err(_) => Value::String(self.to_string().into()),
                })
            }
        }
    )*};
}
wide_integers!(u64 usize isize i128 u128);

impl AttributeValue for f64 {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        Some(Value::F64(*self))
    }
}

impl AttributeValue for f32 {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        Some(Value::F64(f64::from(*self)))
    }
}

impl AttributeValue for bool {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        Some(Value::Bool(*self))
    }
}

impl AttributeValue for str {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        Some(Value::String(self.to_owned().into()))
    }
}

/// A string literal written in an attribute list, recorded without a copy. Not a public API.
#[derive(Debug, Clone, Copy)]
pub struct StaticStr(pub &'static str);

impl AttributeValue for StaticStr {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        Some(Value::String(StringValue::from(self.0)))
    }
}

impl AttributeValue for String {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        Some(Value::String(self.clone().into()))
    }
}

impl AttributeValue for Cow<'_, str> {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        Some(Value::String(self.to_string().into()))
    }
}

impl AttributeValue for char {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        Some(Value::String(self.to_string().into()))
    }
}

impl AttributeValue for Value {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        Some(self.clone())
    }
}

impl AttributeValue for StringValue {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        Some(Value::String(self.clone()))
    }
}

impl<T: AttributeValue + ?Sized> AttributeValue for &T {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        (**self).to_value()
    }
}

impl<T: AttributeValue> AttributeValue for Option<T> {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        self.as_ref().and_then(AttributeValue::to_value)
    }
}

/// `key = value`. Not a public API.
#[inline]
pub fn attribute<T: AttributeValue + ?Sized>(
    list: &mut Vec<KeyValue>,
    key: &'static str,
    value: &T,
) {
    if let Some(value) = value.to_value() {
        list.push(KeyValue::new(
            Key::from_static_str(key),
            crate::limits::span_value(value),
        ));
    }
}

/// What an attribute records when making its value panicked.
pub(crate) const PANICKED: &str = "<panicked>";

/// `value` formatted by `format`; a panic in the program's `Display` or `Debug` is caught,
/// said once, and recorded as [`PANICKED`]: telemetry never changes what the program does.
#[inline]
fn formatted(key: &'static str, format: impl FnOnce() -> String) -> Value {
    match crate::panic_hook::caught(format) {
        Some(text) => Value::String(crate::limits::span_string(text).into()),
        None => {
            warned_panic(key);
            Value::from(PANICKED)
        }
    }
}

/// One warning for span attribute expressions that panicked.
#[cold]
pub(crate) fn warned_expression_panic() {
    crate::diagnostics::warn_once(
        "an attribute expression of a span panicked; the span records the attributes made \
         before it and `otel.attribute.panicked`, and the function runs as it would without \
         telemetry",
    );
}

/// One warning per attribute key whose value panicked.
#[cold]
pub(crate) fn warned_panic(key: &str) {
    crate::diagnostics::warn_once(&format!(
        "the attribute `{key}` panicked while its value was made; it is recorded as \
         \"{PANICKED}\" and the function runs as it would without telemetry"
    ));
}

/// `key = %value`. Not a public API.
#[inline]
pub fn attribute_display<T: Display + ?Sized>(
    list: &mut Vec<KeyValue>,
    key: &'static str,
    value: &T,
) {
    list.push(KeyValue::new(
        Key::from_static_str(key),
        formatted(key, || value.to_string()),
    ));
}

/// `key = ?value`. Not a public API.
#[inline]
pub fn attribute_debug<T: Debug + ?Sized>(list: &mut Vec<KeyValue>, key: &'static str, value: &T) {
    list.push(KeyValue::new(
        Key::from_static_str(key),
        formatted(key, || format!("{value:?}")),
    ));
}

/// A metric attribute `key = value`; `None` records an empty string, since a metric
/// attribute list has a fixed length. Not a public API.
#[inline]
pub fn metric_attribute<T: AttributeValue + ?Sized>(key: &'static str, value: &T) -> KeyValue {
    KeyValue::new(
        Key::from_static_str(key),
        value.to_value().unwrap_or_else(|| Value::from("")),
    )
}

/// A metric attribute `key = %value`. Not a public API.
#[inline]
pub fn metric_attribute_display<T: Display + ?Sized>(key: &'static str, value: &T) -> KeyValue {
    KeyValue::new(
        Key::from_static_str(key),
        formatted(key, || value.to_string()),
    )
}

/// A metric attribute `key = ?value`. Not a public API.
#[inline]
pub fn metric_attribute_debug<T: Debug + ?Sized>(key: &'static str, value: &T) -> KeyValue {
    KeyValue::new(
        Key::from_static_str(key),
        formatted(key, || format!("{value:?}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_type_and_wide_integers_never_wrap() {
        assert_eq!(7u32.to_value(), Some(Value::I64(7)));
        assert_eq!(
            u64::MAX.to_value(),
            Some(Value::String(u64::MAX.to_string().into()))
        );
        assert_eq!("eur".to_value(), Some(Value::String("eur".into())));
        assert_eq!(None::<i32>.to_value(), None);
        assert_eq!((&&true).to_value(), Some(Value::Bool(true)));
    }

    #[test]
    fn a_string_literal_is_recorded_without_a_copy() {
        const LITERAL: &str = "EUR";
        let Some(Value::String(recorded)) = StaticStr(LITERAL).to_value() else {
            panic!("a string value");
        };
        assert_eq!(recorded.as_str(), LITERAL);
        assert_eq!(
            recorded.as_str().as_ptr(),
            LITERAL.as_ptr(),
            "borrowed, not copied"
        );
    }
}
