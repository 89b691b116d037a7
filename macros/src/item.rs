//! A function item parsed only as far as the macros need: attributes, visibility and
//! signature typed, the body kept as tokens (parsing bodies is most of a macro's compile time).

use proc_macro2::{Group, TokenStream};
use quote::{ToTokens, TokenStreamExt};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Signature, Visibility};

pub(crate) struct ItemFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    /// The brace-delimited body, as written.
    pub(crate) body: Group,
}

impl Parse for ItemFn {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let sig: Signature = input.parse()?;
        let body: Group = input.parse()?;
        if body.delimiter() != proc_macro2::Delimiter::Brace {
            return Err(syn::Error::new(body.span(), "expected a function body"));
        }
        Ok(Self {
            attrs,
            vis,
            sig,
            body,
        })
    }
}

impl ItemFn {
    /// The function again, its attributes, visibility and signature as they are now, with
    /// `body` in place of the original one.
    pub(crate) fn with_body(self, body: TokenStream) -> TokenStream {
        let Self {
            attrs, vis, sig, ..
        } = self;
        quote::quote! {
            #(#attrs)*
            #vis #sig #body
        }
    }
}

impl ToTokens for ItemFn {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.append_all(&self.attrs);
        self.vis.to_tokens(tokens);
        self.sig.to_tokens(tokens);
        self.body.to_tokens(tokens);
    }
}
