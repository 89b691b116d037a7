//! How an instrumented body runs: the shapes a function can have (sync, `async fn`,
//! returning a future), its return type as the body sees it, and the argument moves an
//! `async fn` rewritten into `fn -> impl Future` needs. Shared by `#[otel::span]` and
//! `#[otel::metric]`, which each wrap the body the same way.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::visit_mut::VisitMut;
use syn::{FnArg, Pat, ReturnType, Type, TypeParamBound};

use crate::item::ItemFn;

/// What the function returns, as far as instrumentation is concerned.
pub(crate) enum Shape {
    /// `async fn`.
    Async,
    /// `fn -> impl Future<...>`.
    ImplFuture,
    /// `fn -> Pin<Box<dyn Future<...>>>` (what `#[async_trait]` produces) or `BoxFuture`.
    BoxedFuture,
    /// Everything else; `returns_value` is `false` for `()` and `!`.
    Sync { returns_value: bool },
}

pub(crate) fn shape(item: &ItemFn) -> Shape {
    if item.sig.asyncness.is_some() {
        return Shape::Async;
    }
    let ReturnType::Type(_, ty) = &item.sig.output else {
        return Shape::Sync {
            returns_value: false,
        };
    };
    match &**ty {
        Type::ImplTrait(bounds) if bounds.bounds.iter().any(is_future_bound) => Shape::ImplFuture,
        Type::Path(path) if is_boxed_future(&path.path) => Shape::BoxedFuture,
        Type::Tuple(tuple) if tuple.elems.is_empty() => Shape::Sync {
            returns_value: false,
        },
        Type::Never(_) => Shape::Sync {
            returns_value: false,
        },
        _ => Shape::Sync {
            returns_value: true,
        },
    }
}

fn is_future_bound(bound: &TypeParamBound) -> bool {
    matches!(bound, TypeParamBound::Trait(t)
        if t.path.segments.last().is_some_and(|s| s.ident == "Future"))
}

/// `Pin<Box<dyn Future<..> + ..>>`, `BoxFuture<..>` or `LocalBoxFuture<..>`.
fn is_boxed_future(path: &syn::Path) -> bool {
    let Some(last) = path.segments.last() else {
        return false;
    };
    if last.ident == "BoxFuture" || last.ident == "LocalBoxFuture" {
        return true;
    }
    if last.ident != "Pin" {
        return false;
    }
    let syn::PathArguments::AngleBracketed(pin_args) = &last.arguments else {
        return false;
    };
    let Some(syn::GenericArgument::Type(Type::Path(boxed))) = pin_args.args.first() else {
        return false;
    };
    let Some(boxed) = boxed.path.segments.last() else {
        return false;
    };
    let syn::PathArguments::AngleBracketed(box_args) = &boxed.arguments else {
        return false;
    };
    boxed.ident == "Box"
        && matches!(box_args.args.first(),
            Some(syn::GenericArgument::Type(Type::TraitObject(object)))
                if object.bounds.iter().any(is_future_bound))
}

/// The return type with every `impl Trait` replaced by `_`, usable inside the body.
pub(crate) fn output_type(output: &ReturnType) -> TokenStream {
    struct InferImplTrait;
    impl VisitMut for InferImplTrait {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::ImplTrait(_) = ty {
                *ty = Type::Infer(syn::TypeInfer {
                    underscore_token: syn::Token![_](Span::call_site()),
                });
            } else {
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    match output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => {
            let mut ty = (**ty).clone();
            InferImplTrait.visit_type_mut(&mut ty);
            quote!(#ty)
        }
    }
}

/// An `async fn` moves every argument into its future, where they are dropped when it
/// completes. The rewritten future does the same: each argument is rebound inside it, so an
/// unused guard argument still lives until the end. Patterns other than plain names are
/// renamed in the signature and destructured inside.
pub(crate) fn move_arguments_into_future(item: &mut ItemFn) -> Vec<TokenStream> {
    let mut rebind = Vec::new();
    for (index, input) in item.sig.inputs.iter_mut().enumerate() {
        match input {
            FnArg::Receiver(receiver) => {
                if receiver.reference.is_none() {
                    rebind.push(quote!(let _ = &self;));
                }
            }
            FnArg::Typed(typed) => match &mut *typed.pat {
                Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {
                    let mutability = ident.mutability.take();
                    let name = &ident.ident;
                    // Used by `attributes(...)` or `parent = ...` alone, an argument is
                    // read before the future and never inside it.
                    rebind.push(quote!(#[allow(unused_variables)] let #mutability #name = #name;));
                }
                pattern => {
                    let name = format_ident!("__otel_arg{}", index);
                    let original = std::mem::replace(
                        pattern,
                        Pat::Ident(syn::PatIdent {
                            attrs: Vec::new(),
                            by_ref: None,
                            mutability: None,
                            ident: name.clone(),
                            subpat: None,
                        }),
                    );
                    if let Pat::Wild(_) = original {
                        rebind.push(quote!(let #name = #name;));
                    } else {
                        rebind.push(quote!(let #original = #name;));
                    }
                }
            },
        }
    }
    rebind
}
