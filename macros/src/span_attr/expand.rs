//! The expansion: a per-call-site `static`, then the body run inside the span. Sync bodies run
//! in a closure so every `return` and `?` comes back through the recording; async bodies
//! become a future created at call time (so the caller's span is the parent) and instrumented
//! on every poll.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::visit_mut::VisitMut;
use syn::{FnArg, Pat, ReturnType, Type, TypeParamBound};

use crate::item::ItemFn;

use super::parse::{FieldValue, SpanArgs};

/// What the function returns, as far as the span is concerned.
enum Shape {
    /// `async fn`.
    Async,
    /// `fn -> impl Future<...>`.
    ImplFuture,
    /// `fn -> Pin<Box<dyn Future<...>>>` (what `#[async_trait]` produces) or `BoxFuture`.
    BoxedFuture,
    /// Everything else; `returns_value` is `false` for `()` and `!`.
    Sync { returns_value: bool },
}

pub(super) fn expand(args: &SpanArgs, mut item: ItemFn) -> TokenStream {
    let krate = crate::args::crate_path(args.krate.as_ref());
    let private = quote!(#krate::__private);
    let site = site(args, &item, &private);
    let attributes = attributes(args, &private);
    let shape = shape(&item);
    let output_type = output_type(&item.sig.output);
    let body = item.body.clone();

    let new_body = match shape {
        Shape::Async => {
            let rebind = move_arguments_into_future(&mut item);
            item.sig.asyncness = None;
            let output = match &item.sig.output {
                ReturnType::Default => quote!(()),
                ReturnType::Type(_, ty) => quote!(#ty),
            };
            item.sig.output = syn::parse_quote!(
                -> impl ::core::future::Future<Output = #output>
            );
            let record = record(args, &private);
            quote! {{
                #site
                let __otel_cx = #private::SpanGuard::open(&__OTEL_SITE, #attributes);
                #private::InstrumentedFuture::new(
                    async move {
                        // Fixes the block's output type before the body is checked, as an
                        // `async fn` would, so `?` knows which error to convert into.
                        if let ::core::option::Option::Some(__otel_ret) =
                            ::core::option::Option::None::<#output_type>
                        {
                            #[allow(unreachable_code)]
                            return __otel_ret;
                        }
                        #(#rebind)*
                        #body
                    },
                    __otel_cx,
                    |__otel_out, __otel_cx| { #record },
                )
            }}
        }
        Shape::ImplFuture | Shape::BoxedFuture => {
            let record = record(args, &private);
            let instrumented = quote! {
                #private::InstrumentedFuture::new(
                    __otel_future,
                    __otel_span.into_context(),
                    |__otel_out, __otel_cx| { #record },
                )
            };
            let instrumented = if matches!(shape, Shape::BoxedFuture) {
                quote!(::std::boxed::Box::pin(#instrumented))
            } else {
                instrumented
            };
            quote! {{
                #site
                let __otel_span = #private::SpanGuard::enter(&__OTEL_SITE, #attributes);
                let __otel_future = #private::call_once::<#output_type, _>(move || #body);
                #instrumented
            }}
        }
        Shape::Sync {
            returns_value: true,
        } => {
            let record = record(args, &private);
            quote! {{
                #site
                let __otel_span = #private::SpanGuard::enter(&__OTEL_SITE, #attributes);
                let __otel_out = #private::call_once::<#output_type, _>(move || #body);
                if let ::core::option::Option::Some(__otel_cx) = __otel_span.context() {
                    let __otel_out = &__otel_out;
                    #record
                }
                __otel_out
            }}
        }
        Shape::Sync {
            returns_value: false,
        } => quote! {{
            #site
            let __otel_span = #private::SpanGuard::enter(&__OTEL_SITE, #attributes);
            #body
        }},
    };

    let ItemFn {
        attrs, vis, sig, ..
    } = item;
    quote! {
        #(#attrs)*
        #vis #sig #new_body
    }
}

/// The marker fn whose `type_name` is the function's path, and the call site's `static`.
fn site(args: &SpanArgs, item: &ItemFn, private: &TokenStream) -> TokenStream {
    let name = match &args.name {
        Some(name) => quote!(::core::option::Option::Some(#name)),
        None => quote!(::core::option::Option::None),
    };
    let kind = match &args.kind {
        Some((variant, span)) => {
            let variant = format_ident!("{}", variant, span = *span);
            quote!(#private::SpanKind::#variant)
        }
        None => quote!(#private::SpanKind::Internal),
    };
    let line = quote_spanned!(item.sig.ident.span()=> ::core::line!());
    let root = args.root.is_some();
    let count = args.attributes.len();
    quote! {
        fn __otel_function() -> &'static str {
            ::core::any::type_name_of_val(&__otel_function)
        }
        static __OTEL_SITE: #private::SpanSite = #private::SpanSite::new(
            #name,
            #kind,
            __otel_function,
            ::core::file!(),
            #line,
            (::core::env!("CARGO_PKG_NAME"), ::core::env!("CARGO_PKG_VERSION")),
            #root,
            #count,
        );
    }
}

/// The closure filling the span's attribute list; it runs only for spans that record.
fn attributes(args: &SpanArgs, private: &TokenStream) -> TokenStream {
    if args.attributes.is_empty() {
        return quote!(|_| {});
    }
    let pushes = args.attributes.iter().map(|field| {
        let key = &field.key;
        match &field.value {
            FieldValue::Plain(expr) => {
                quote_spanned!(expr.span()=> #private::attribute(__otel_list, #key, &(#expr));)
            }
            FieldValue::Display(expr) => quote_spanned!(expr.span()=>
                #private::attribute_display(__otel_list, #key, &(#expr));
            ),
            FieldValue::Debug(expr) => quote_spanned!(expr.span()=>
                #private::attribute_debug(__otel_list, #key, &(#expr));
            ),
            FieldValue::Shorthand(ident) => {
                quote_spanned!(ident.span()=> #private::attribute(__otel_list, #key, &#ident);)
            }
        }
    });
    quote! {
        |__otel_list: &mut ::std::vec::Vec<#private::KeyValue>| { #(#pushes)* }
    }
}

/// What happens to the span with the call's output `__otel_out` (a reference) in context
/// `__otel_cx`: errors (filtered by `error_if`) and, with `ret`, the value.
fn record(args: &SpanArgs, private: &TokenStream) -> TokenStream {
    let outcome = quote!((&&&&&&&#private::Outcome(__otel_out)).__otel_record(__otel_cx););
    let errors = match &args.error_if {
        Some((_, counts)) => quote_spanned! {counts.span()=>
            if #private::error_counts(__otel_out, #counts) { #outcome }
        },
        None => outcome,
    };
    let ret = args.ret.as_ref().map(|ret| {
        quote_spanned!(ret.span()=> (&&#private::Returned(__otel_out)).__otel_record_return(__otel_cx);)
    });
    quote! {
        #[allow(unused_imports)]
        use #private::recorders::*;
        #errors
        #ret
    }
}

fn shape(item: &ItemFn) -> Shape {
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
fn output_type(output: &ReturnType) -> TokenStream {
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
fn move_arguments_into_future(item: &mut ItemFn) -> Vec<TokenStream> {
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
                    rebind.push(quote!(let #mutability #name = #name;));
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
