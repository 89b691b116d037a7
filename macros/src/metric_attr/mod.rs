//! `#[otel::metric]`: instruments measured on every call, or the function RED metrics.

mod expand;
mod parse;
pub(crate) mod validate;

pub(crate) use expand::metric_attributes;
pub(crate) use parse::MetricKind;

use proc_macro2::TokenStream;

use crate::diag::{self, Errors};
use crate::item::ItemFn;

/// parse → validate → expand; on any error, every error next to the unchanged item.
pub(crate) fn entry(args: TokenStream, item: TokenStream) -> TokenStream {
    diag::attribute_entry(
        item,
        |_| {
            "#[otel::metric] goes on a function: a free fn, a method, or a trait fn with a \
             body"
        },
        |function, errors| {
            let list = stacked(args, function, errors);
            for args in &list {
                validate::check(args, function, errors);
            }
            list
        },
        |list, function| expand::expand(&list, function),
    )
}

/// This attribute's arguments, then those of every other `#[otel::metric]` on the function,
/// taken off it: they all expand here, so attribute lists they share are evaluated once per
/// call.
fn stacked(
    args: TokenStream,
    function: &mut ItemFn,
    errors: &mut Errors,
) -> Vec<parse::MetricArgs> {
    let mut list = vec![crate::args::parse::<parse::MetricArgs>(args, errors)];
    let attrs = std::mem::take(&mut function.attrs);
    for attr in attrs {
        if !is_otel_metric(attr.path()) {
            function.attrs.push(attr);
            continue;
        }
        let tokens = match &attr.meta {
            syn::Meta::Path(_) => TokenStream::new(),
            syn::Meta::List(list) => list.tokens.clone(),
            syn::Meta::NameValue(name_value) => {
                errors.error(name_value, "write `#[otel::metric(...)]`");
                continue;
            }
        };
        list.push(crate::args::parse::<parse::MetricArgs>(tokens, errors));
    }
    list
}

/// `#[otel::metric]` or `#[::otel::metric]`.
fn is_otel_metric(path: &syn::Path) -> bool {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segments == ["otel", "metric"]
}
