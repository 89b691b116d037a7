//! Error accumulation: collect every diagnostic, then emit them all next to the user's item so
//! one mistake does not cascade into unrelated errors.

use proc_macro2::TokenStream;
use quote::ToTokens;

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
