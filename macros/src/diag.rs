//! Error accumulation: collect every diagnostic, then emit them all next to the user's item so
//! one mistake does not cascade into unrelated errors.

use proc_macro2::TokenStream;
use quote::ToTokens;

use crate::item::ItemFn;

/// Errors collected across phases.
#[derive(Default)]
pub(crate) struct Errors {
    errors: Option<syn::Error>,
}

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.errors {
            Some(existing) => existing.combine(error),
            None => self.errors = Some(error),
        }
    }

    pub(crate) fn error(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.errors.is_none()
    }

    /// The `compile_error!`s followed by `item`, unchanged.
    pub(crate) fn with_item(self, item: TokenStream) -> TokenStream {
        let mut out = self
            .errors
            .map(|e| e.to_compile_error())
            .unwrap_or_default();
        out.extend(item);
        out
    }
}

/// The skeleton every attribute macro runs: the item parsed as a function (else
/// `not_a_function`'s message on it), `analyse` (parse the arguments, validate them against
/// the function, every error collected), then `expand`, or every error next to the unchanged
/// item.
pub(crate) fn attribute_entry<A>(
    item: TokenStream,
    not_a_function: impl FnOnce(&TokenStream) -> &'static str,
    analyse: impl FnOnce(&mut ItemFn, &mut Errors) -> A,
    expand: impl FnOnce(A, ItemFn) -> TokenStream,
) -> TokenStream {
    let mut errors = Errors::default();
    let mut function = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            errors.error(&item, not_a_function(&item));
            return errors.with_item(item);
        }
    };
    let analysed = analyse(&mut function, &mut errors);
    if !errors.is_empty() {
        return errors.with_item(item);
    }
    expand(analysed, function)
}
