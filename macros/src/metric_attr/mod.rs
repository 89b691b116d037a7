//! `#[otel::metric]`: instruments measured on every call, or the function RED metrics.

mod expand;
mod parse;
pub(crate) mod validate;

pub(crate) use expand::metric_attributes;
pub(crate) use parse::Instrument;

use proc_macro2::TokenStream;

use crate::diag::Errors;
use crate::item::ItemFn;

/// parse → validate → expand; on any error, every error next to the unchanged item.
pub(crate) fn entry(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let parsed_item = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(item) => item,
        Err(_) => {
            errors.error(
                &item,
                "#[otel::metric] goes on a function: a free fn, a method, or a trait fn with a \
                 body",
            );
            return errors.with_item(item);
        }
    };
    let mut parsed_item = parsed_item;
    let mut list = vec![parse::MetricArgs::parse(args, &mut errors)];
    // Every other `#[otel::metric]` on the function expands here too, so attribute lists
    // they share are evaluated once per call.
    let attrs = std::mem::take(&mut parsed_item.attrs);
    for attr in attrs {
        if !is_otel_metric(attr.path()) {
            parsed_item.attrs.push(attr);
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
        list.push(parse::MetricArgs::parse(tokens, &mut errors));
    }
    for args in &list {
        validate::check(args, &parsed_item, &mut errors);
    }
    if !errors.is_empty() {
        return errors.with_item(item);
    }
    expand::expand(&list, parsed_item)
}

/// `#[otel::metric]` or `#[::otel::metric]`.
fn is_otel_metric(path: &syn::Path) -> bool {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segments == ["otel", "metric"]
}
