//! `attributes(...)` lists, shared by `#[otel::span]`, `#[otel::metric]` and the metric
//! macros: `key = expr`, `key = %expr` (Display), `key = ?expr` (Debug) and a bare parameter
//! name; keys are dotted identifiers or string literals, checked here.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream, Parser as _};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::{Expr, ExprLit, FnArg, Ident, Lit, LitStr, Pat, Token};

use crate::args::{ExprArg, ExprArgValue};
use crate::diag::Errors;
use crate::item::ItemFn;

/// One `attributes(...)` entry.
pub(crate) struct Field {
    pub(crate) key: String,
    pub(crate) key_span: Span,
    pub(crate) value: FieldValue,
}

pub(crate) enum FieldValue {
    /// `key = expr`.
    Plain(Expr),
    /// `key = %expr`.
    Display(Expr),
    /// `key = ?expr`.
    Debug(Expr),
    /// `arg`: the parameter of that name.
    Shorthand(Ident),
}

/// `attributes(a.b = expr, "c.d" = %expr, e = ?expr, arg)`.
pub(crate) fn list(arg: &ExprArg) -> syn::Result<Vec<Field>> {
    let ExprArgValue::List(tokens) = &arg.value else {
        return Err(syn::Error::new_spanned(
            &arg.key,
            "`attributes` expects a list, such as `attributes(order.id = id, user)`",
        ));
    };
    let entries = Punctuated::<Field, Token![,]>::parse_terminated.parse2(tokens.clone())?;
    Ok(entries.into_iter().collect())
}

impl Parse for Field {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let (key, key_span, single) = if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            (lit.value(), lit.span(), None)
        } else {
            let first = input.call(Ident::parse_any)?;
            let mut key = first.unraw().to_string();
            let mut span = first.span();
            let mut dotted = false;
            while input.peek(Token![.]) {
                input.parse::<Token![.]>()?;
                let segment = input.call(Ident::parse_any)?;
                key.push('.');
                key.push_str(&segment.unraw().to_string());
                span = span.join(segment.span()).unwrap_or(span);
                dotted = true;
            }
            (key, span, (!dotted).then_some(first))
        };
        if !input.peek(Token![=]) {
            return match single {
                Some(ident) => Ok(Self {
                    key,
                    key_span,
                    value: FieldValue::Shorthand(ident),
                }),
                None => Err(syn::Error::new(
                    key_span,
                    format!(
                        "`{key}` needs a value: `{key} = expr`; only a parameter name can stand \
                         alone"
                    ),
                )),
            };
        }
        let eq = input.parse::<Token![=]>()?;
        if input.is_empty() || input.peek(Token![,]) {
            return Err(syn::Error::new(
                eq.span(),
                format!("`{key} =` needs a value after `=`"),
            ));
        }
        let value = if input.peek(Token![%]) {
            input.parse::<Token![%]>()?;
            FieldValue::Display(input.parse()?)
        } else if input.peek(Token![?]) {
            input.parse::<Token![?]>()?;
            FieldValue::Debug(input.parse()?)
        } else {
            FieldValue::Plain(input.parse()?)
        };
        Ok(Self {
            key,
            key_span,
            value,
        })
    }
}

/// The value of `key = expr` as the expansion passes it on: a string literal as a
/// `&'static str` the recorded value borrows (no copy per call), anything else as written.
pub(crate) fn plain_value(expr: &Expr, private: &TokenStream) -> TokenStream {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(literal),
            ..
        }) => quote_spanned!(expr.span()=> #private::StaticStr(#literal)),
        _ => quote_spanned!(expr.span()=> (#expr)),
    }
}

/// Every key well-formed, not one of `reserved`, given once; every shorthand a parameter.
pub(crate) fn check(list: &[Field], item: &ItemFn, reserved: &[&str], errors: &mut Errors) {
    let parameters = parameter_names(item);
    check_keys(list, reserved, errors);
    for field in list {
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

/// Every key well-formed, not one of `reserved`, given once.
pub(crate) fn check_keys(list: &[Field], reserved: &[&str], errors: &mut Errors) {
    let mut seen: Vec<&str> = Vec::new();
    for field in list {
        if let Some(problem) = key_problem(&field.key) {
            errors.push(syn::Error::new(field.key_span, problem));
        } else if reserved.contains(&field.key.as_str()) {
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
pub(crate) fn key_problem(key: &str) -> Option<String> {
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
        for good in ["payment.amount", "http.response.status_code"] {
            assert_eq!(key_problem(good), None, "{good}");
        }
        let long = "a".repeat(256);
        for bad in ["", "a..b", ".a", "a b", long.as_str()] {
            assert!(key_problem(bad).is_some(), "{bad:?}");
        }
    }
}
