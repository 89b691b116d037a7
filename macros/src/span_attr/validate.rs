//! Rules across arguments and the function: the shape is one a span can wrap, attribute keys
//! are well-formed and distinct, shorthands name parameters, `ret`/`error_if` have a value.

use syn::{FnArg, Pat, ReturnType, Type};

use crate::diag::Errors;
use crate::item::ItemFn;

use super::parse::{FieldValue, SpanArgs};

/// Set by the macro itself on every span.
const RESERVED_KEYS: &[&str] = &["code.function.name", "code.file.path", "code.line.number"];

pub(super) fn check(args: &SpanArgs, item: &ItemFn, errors: &mut Errors) {
    if let Some(constness) = &item.sig.constness {
        errors.error(
            constness,
            "#[otel::span] cannot go on a `const fn`: a span is a runtime event, and a const fn \
             may run at compile time",
        );
    }
    let returns_value = returns_value(&item.sig.output);
    if let Some(ret) = &args.ret
        && !returns_value
    {
        errors.error(
            ret,
            "`ret` records the returned value, but this fn returns nothing",
        );
    }
    if let Some((key, _)) = &args.error_if
        && !returns_value
    {
        errors.error(
            key,
            "`error_if` chooses which `Err` values count, but this fn returns nothing",
        );
    }
    let parameters = parameter_names(item);
    let mut seen: Vec<&str> = Vec::new();
    for field in &args.attributes {
        if let Some(problem) = key_problem(&field.key) {
            errors.push(syn::Error::new(field.key_span, problem));
        } else if RESERVED_KEYS.contains(&field.key.as_str()) {
            errors.push(syn::Error::new(
                field.key_span,
                format!("`{}` is set on every span automatically", field.key),
            ));
        } else if seen.contains(&field.key.as_str()) {
            errors.push(syn::Error::new(
                field.key_span,
                format!(
                    "duplicate attribute `{}`: each key may be given once",
                    field.key
                ),
            ));
        }
        seen.push(&field.key);
        if let FieldValue::Shorthand(ident) = &field.value
            && !parameters.contains(&ident.to_string())
        {
            errors.error(
                ident,
                format!(
                    "`{ident}` is not a parameter of `{}`; record other values as \
                         `{ident} = <expr>`",
                    item.sig.ident
                ),
            );
        }
    }
}

/// `false` for no return type, `()` and `!`.
fn returns_value(output: &ReturnType) -> bool {
    match output {
        ReturnType::Default => false,
        ReturnType::Type(_, ty) => {
            !matches!(
                &**ty,
                Type::Tuple(tuple) if tuple.elems.is_empty()
            ) && !matches!(&**ty, Type::Never(_))
        }
    }
}

/// The names shorthand attributes may use: `self` and identifier parameters.
fn parameter_names(item: &ItemFn) -> Vec<String> {
    item.sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Receiver(_) => Some("self".to_owned()),
            FnArg::Typed(typed) => match &*typed.pat {
                Pat::Ident(ident) => Some(ident.ident.to_string()),
                _ => None,
            },
        })
        .collect()
}

/// Why `key` is not a valid attribute key, if it is not: dot-separated segments of ASCII
/// letters, digits, `_` and `-`, at most 255 bytes.
pub(super) fn key_problem(key: &str) -> Option<String> {
    if key.is_empty() {
        return Some("an attribute key cannot be empty".to_owned());
    }
    if key.len() > 255 {
        return Some(format!(
            "attribute key is {} bytes long; keys are at most 255",
            key.len()
        ));
    }
    if key.split('.').any(str::is_empty) {
        return Some(format!(
            "attribute key `{key}` has an empty segment: dots separate non-empty names"
        ));
    }
    if let Some(bad) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Some(format!(
            "attribute key `{key}` contains `{bad}`: keys use ASCII letters, digits, `_`, `-` \
             and dots"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(key_problem("payment.amount"), None);
        assert_eq!(key_problem("http.response.status_code"), None);
        assert!(key_problem("").is_some());
        assert!(key_problem("a..b").is_some());
        assert!(key_problem(".a").is_some());
        assert!(key_problem("a b").is_some());
        assert!(key_problem(&"a".repeat(256)).is_some());
    }
}
