//! `#[otel::main]`: install telemetry for the whole program, flushed on every exit path.

mod expand;
mod parse;
mod validate;

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
                "#[otel::main] goes on a function, such as `fn main()` or `async fn main()`",
            );
            return errors.with_item(item);
        }
    };
    let args = parse::MainArgs::parse(args, &mut errors);
    validate::check(&args, &parsed_item, &mut errors);
    if !errors.is_empty() {
        return errors.with_item(item);
    }
    expand::expand(&args, parsed_item)
}
