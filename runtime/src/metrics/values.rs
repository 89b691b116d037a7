//! The values instruments take: whole counts for counters, signed deltas for up-down
//! counters, and any number (or a `Duration`, in seconds) for histograms and gauges.

use std::time::Duration;

use crate::diagnostics::warn_once;

/// A counter increment: any integer; negative values are not counted (and warned about once).
#[diagnostic::on_unimplemented(
    message = "a counter counts whole things; `{Self}` is not an integer",
    note = "record fractional values with a histogram or a gauge"
)]
pub trait CountValue {
    /// The increment, `None` for a negative value.
    fn to_count(&self) -> Option<u64>;
}

macro_rules! counts {
    ($($ty:ty)*) => {$(
        impl CountValue for $ty {
            #[inline]
            fn to_count(&self) -> Option<u64> {
                let count = u64::try_from(*self).ok();
                if count.is_none() {
                    warn_once("a counter was given a negative increment; it was not counted");
                }
                count
            }
        }
    )*};
}
counts!(u8 u16 u32 u64 usize i8 i16 i32 i64 isize);

/// An up-down counter delta: any integer that fits `i64`.
#[diagnostic::on_unimplemented(
    message = "an up-down counter moves by whole steps; `{Self}` is not an integer"
)]
pub trait UpDownValue {
    /// The delta.
    fn to_delta(&self) -> i64;
}

macro_rules! deltas {
    ($($ty:ty)*) => {$(
        impl UpDownValue for $ty {
            #[inline]
            fn to_delta(&self) -> i64 {
                i64::try_from(*self).unwrap_or(i64::MAX)
            }
        }
    )*};
}
deltas!(u8 u16 u32 u64 usize i8 i16 i32 i64 isize);

/// A histogram or gauge measurement: any number, or a `Duration` in seconds.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a number a histogram or gauge can record",
    note = "integers, floats and `std::time::Duration` (in seconds) are recorded"
)]
pub trait MeasureValue {
    /// The measurement.
    fn to_measure(&self) -> f64;
}

macro_rules! measures {
    ($($ty:ty)*) => {$(
        impl MeasureValue for $ty {
            #[inline]
            #[allow(clippy::cast_precision_loss, clippy::cast_lossless)]
            fn to_measure(&self) -> f64 {
                *self as f64
            }
        }
    )*};
}
measures!(u8 u16 u32 u64 usize i8 i16 i32 i64 isize f32 f64);

impl MeasureValue for Duration {
    #[inline]
    fn to_measure(&self) -> f64 {
        self.as_secs_f64()
    }
}

impl<T: MeasureValue + ?Sized> MeasureValue for &T {
    #[inline]
    fn to_measure(&self) -> f64 {
        (**self).to_measure()
    }
}

impl<T: CountValue + ?Sized> CountValue for &T {
    #[inline]
    fn to_count(&self) -> Option<u64> {
        (**self).to_count()
    }
}

impl<T: UpDownValue + ?Sized> UpDownValue for &T {
    #[inline]
    fn to_delta(&self) -> i64 {
        (**self).to_delta()
    }
}

/// A call's return value, asked whether it is an error. Not a public API.
#[derive(Debug)]
pub struct Measured<'a, T>(pub &'a T);

/// `(&&Measured(&value)).__otel_error_type()`: the error's type name for an `Err`, `None`
/// for an `Ok` or any value that is not a `Result`. Not a public API.
#[doc(hidden)]
pub trait ErrorTypeOf {
    fn __otel_error_type(&self) -> Option<&'static str>;
}

impl<T, E> ErrorTypeOf for &Measured<'_, Result<T, E>> {
    #[inline]
    fn __otel_error_type(&self) -> Option<&'static str> {
        self.0.is_err().then(std::any::type_name::<E>)
    }
}

impl<T> ErrorTypeOf for Measured<'_, T> {
    #[inline(always)]
    fn __otel_error_type(&self) -> Option<&'static str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(3u8.to_count(), Some(3));
        assert_eq!((-1i32).to_count(), None);
        assert_eq!(u64::MAX.to_delta(), i64::MAX);
        assert_eq!(Duration::from_millis(1500).to_measure(), 1.5);
        assert_eq!((&&2.5f32).to_measure(), 2.5);
    }

    #[test]
    fn error_type_of_results_only() {
        let failed: Result<(), std::fmt::Error> = Err(std::fmt::Error);
        assert_eq!(
            (&&Measured(&failed)).__otel_error_type(),
            Some("core::fmt::Error")
        );
        assert_eq!((&&Measured(&Ok::<u8, String>(1))).__otel_error_type(), None);
        // As the expansion writes it: two borrows, whatever the type.
        #[allow(clippy::needless_borrow)]
        let not_a_result = (&&Measured(&7u8)).__otel_error_type();
        assert_eq!(not_a_result, None);
    }
}
