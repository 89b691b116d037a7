//! The rules of section 6: instrument names and units the OpenTelemetry specification accepts,
//! buckets that make a histogram, and each option only with the instrument it belongs to.

use proc_macro2::Span;

use crate::attribute_list;
use crate::diag::Errors;
use crate::item::ItemFn;

use super::parse::{MetricArgs, MetricKind};

pub(super) fn check(args: &MetricArgs, item: &ItemFn, errors: &mut Errors) {
    if let Some(constness) = &item.sig.constness {
        errors.error(
            constness,
            "#[otel::metric] cannot go on a `const fn`: a measurement is a runtime event, and a \
             const fn may run at compile time",
        );
    }
    let instrument = args.instrument.as_ref().map(|(kind, _)| *kind);
    if let Some((_, name)) = &args.instrument
        && let Some(problem) = name_problem(&name.value())
    {
        errors.push(syn::Error::new(name.span(), problem));
    }
    if let Some(unit) = &args.unit
        && let Some(problem) = unit_problem(&unit.value())
    {
        errors.push(syn::Error::new(unit.span(), problem));
    }
    if let Some((key, buckets)) = &args.buckets {
        if buckets.is_empty() {
            errors.error(key, "`buckets` needs at least one boundary");
        } else if let Some((problem, span)) = buckets_problem(buckets) {
            errors.push(syn::Error::new(span, problem));
        }
    }
    if let Some((_, list)) = &args.attributes {
        attribute_list::check(list, item, &[], errors);
    }

    let Some(instrument) = instrument else {
        // The bare form: the RED metrics, whose names, units and labels are fixed.
        let fixed = [
            args.by.as_ref().map(|(key, _)| key),
            args.value.as_ref().map(|(key, _)| key),
            args.buckets.as_ref().map(|(key, _)| key),
            args.attributes.as_ref().map(|(key, _)| key),
        ];
        for key in fixed.into_iter().flatten() {
            errors.error(
                key,
                format!(
                    "`{key}` needs an instrument: `counter = \"...\"`, `histogram = \"...\"` \
                     or `up_down_counter = \"...\"`; the bare #[otel::metric] records the \
                     function RED metrics, whose names and labels are fixed"
                ),
            );
        }
        for lit in [&args.unit, &args.description].into_iter().flatten() {
            errors.error(
                lit,
                "the bare #[otel::metric] records the function RED metrics, whose units and \
                 descriptions are fixed; name an instrument to set them",
            );
        }
        return;
    };
    // Each option with the one instrument it goes with, and what to say otherwise.
    let by_instead = match instrument {
        MetricKind::Histogram => "takes `value = <expr>`",
        _ => "moves by +1 on entry and -1 on exit",
    };
    let options = [
        (
            args.value.as_ref().map(|(key, _)| key),
            MetricKind::Histogram,
            format!(
                "`value` goes with `histogram` only (a `{}` does not take a measured value)",
                instrument.key()
            ),
        ),
        (
            args.by.as_ref().map(|(key, _)| key),
            MetricKind::Counter,
            format!(
                "`by` goes with `counter` only (a `{}` {by_instead})",
                instrument.key()
            ),
        ),
        (
            args.buckets.as_ref().map(|(key, _)| key),
            MetricKind::Histogram,
            "`buckets` goes with `histogram` only".to_owned(),
        ),
    ];
    for (key, goes_with, message) in options {
        if let Some(key) = key
            && instrument != goes_with
        {
            errors.error(key, message);
        }
    }
}

/// Why `name` is not a valid instrument name, if it is not (OpenTelemetry specification: an
/// ASCII letter, then letters, digits, `_`, `.`, `-` or `/`, at most 255 characters).
pub(crate) fn name_problem(name: &str) -> Option<String> {
    let rule = "instrument names start with an ASCII letter, followed by letters, digits, `_`, \
                `.`, `-` or `/`, at most 255 characters";
    if name.is_empty() {
        return Some(format!("an instrument name cannot be empty: {rule}"));
    }
    if name.len() > 255 {
        return Some(format!(
            "instrument name is {} characters long: {rule}",
            name.len()
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Some(format!(
            "instrument name `{name}` does not start with a letter: {rule}"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')))
    {
        return Some(format!("instrument name `{name}` contains `{bad}`: {rule}"));
    }
    None
}

/// Why `unit` is not a valid unit, if it is not (ASCII, at most 63 characters).
pub(crate) fn unit_problem(unit: &str) -> Option<String> {
    if !unit.is_ascii() {
        return Some(format!(
            "unit `{unit}` is not ASCII: units are ASCII, at most 63 characters (write `us`, \
             not `µs`)"
        ));
    }
    if unit.len() > 63 {
        return Some(format!(
            "unit is {} characters long: units are ASCII, at most 63 characters",
            unit.len()
        ));
    }
    None
}

/// Why `buckets` cannot be a histogram's boundaries, if they cannot: finite and strictly
/// increasing.
fn buckets_problem(buckets: &[(f64, Span)]) -> Option<(String, Span)> {
    for window in buckets.windows(2) {
        let ((previous, _), (next, span)) = (window[0], window[1]);
        if next <= previous {
            return Some((
                format!("bucket boundaries must be strictly increasing: {next} follows {previous}"),
                span,
            ));
        }
    }
    buckets
        .iter()
        .find(|(value, _)| !value.is_finite())
        .map(|(value, span)| (format!("bucket boundary {value} is not finite"), *span))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(name_problem("orders.placed"), None);
        assert_eq!(name_problem("http.server/request-duration_x"), None);
        assert!(name_problem("").is_some());
        assert!(name_problem("1orders").is_some());
        assert!(name_problem("orders placed").is_some());
        assert!(name_problem(&"a".repeat(256)).is_some());
    }

    #[test]
    fn units() {
        assert_eq!(unit_problem("ms"), None);
        assert_eq!(unit_problem("{order}"), None);
        assert!(unit_problem("µs").is_some());
        assert!(unit_problem(&"s".repeat(64)).is_some());
    }

    #[test]
    fn buckets() {
        let at = |values: &[f64]| -> Vec<(f64, Span)> {
            values.iter().map(|v| (*v, Span::call_site())).collect()
        };
        assert!(buckets_problem(&at(&[0.1, 1.0, 10.0])).is_none());
        assert!(buckets_problem(&at(&[1.0, 1.0])).is_some());
        assert!(buckets_problem(&at(&[2.0, 1.0])).is_some());
    }
}
