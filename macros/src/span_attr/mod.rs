//! `#[otel::span]`: a span around a function, with its errors, panics and async lifetime.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

use crate::diag;

/// parse → validate → expand; on any error, every error next to the unchanged item.
pub(crate) fn entry(args: TokenStream, item: TokenStream) -> TokenStream {
    diag::attribute_entry(
        item,
        not_a_function,
        |function, errors| {
            let args = crate::args::parse::<parse::SpanArgs>(args, errors);
            validate::check(&args, function, errors);
            args
        },
        |args, function| expand::expand(&args, function),
    )
}

fn not_a_function(item: &TokenStream) -> &'static str {
    if syn::parse2::<syn::TraitItemFn>(item.clone()).is_ok_and(|f| f.default.is_none()) {
        "#[otel::span] needs a function body: put it on the fn in each `impl`, or on a \
         default body in the trait"
    } else {
        "#[otel::span] goes on a function: a free fn, a method, or a trait fn with a body"
    }
}
