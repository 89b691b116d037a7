//! `#[otel::main]`: install telemetry for the whole program, flushed on every exit path.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

use crate::diag;

/// parse → validate → expand; on any error, every error next to the unchanged item.
pub(crate) fn entry(args: TokenStream, item: TokenStream) -> TokenStream {
    diag::attribute_entry(
        item,
        |_| "#[otel::main] goes on a function, such as `fn main()` or `async fn main()`",
        |function, errors| {
            let args = crate::args::parse::<parse::MainArgs>(args, errors);
            validate::check(&args, function, errors);
            args
        },
        |args, function| expand::expand(&args, function),
    )
}
