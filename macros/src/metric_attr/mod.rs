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
    let args = parse::MetricArgs::parse(args, &mut errors);
    validate::check(&args, &parsed_item, &mut errors);
    if !errors.is_empty() {
        return errors.with_item(item);
    }
    expand::expand(&args, parsed_item)
}
