//! The expansion: a per-call-site `static`, then the body run inside the span. Sync bodies run
//! in a closure so every `return` and `?` comes back through the recording; async bodies
//! become a future created at call time (so the caller's span is the parent) and instrumented
//! on every poll.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ReturnType;
use syn::spanned::Spanned as _;

use crate::body::{self, Shape};
use crate::item::ItemFn;

use crate::attribute_list::{self, FieldValue};

use super::parse::SpanArgs;

pub(super) fn expand(args: &SpanArgs, mut item: ItemFn) -> TokenStream {
    let krate = crate::args::crate_path(args.krate.as_ref());
    let private = quote!(#krate::__private);
    let site = site(args, &item, &private);
    let attributes = attributes(args, &private);
    let parent = parent(args, &private);
    let links = links(args, &private);
    let shape = body::shape(&item);
    let output_type = body::output_type(&item.sig.output);
    let never =
        matches!(&item.sig.output, ReturnType::Type(_, ty) if matches!(**ty, syn::Type::Never(_)));
    let body = item.body.clone();

    let new_body = match shape {
        Shape::Async => {
            let rebind = body::move_arguments_into_future(&mut item);
            item.sig.asyncness = None;
            let output = match &item.sig.output {
                ReturnType::Default => quote!(()),
                ReturnType::Type(_, ty) => quote!(#ty),
            };
            item.sig.output = syn::parse_quote!(
                -> impl ::core::future::Future<Output = #output>
            );
            let record = record(args, &krate);
            quote! {{
                #site
                let __otel_cx = #private::SpanGuard::open(&__OTEL_SITE, #parent, #attributes, #links);
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
            let record = record(args, &krate);
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
                let __otel_span = #private::SpanGuard::enter(&__OTEL_SITE, #parent, #attributes, #links);
                let __otel_future = #private::body::<#output_type, _>(move || #body)();
                #instrumented
            }}
        }
        Shape::Sync {
            returns_value: true,
        } => {
            let record = record(args, &krate);
            quote! {{
                #site
                // The body, once, as a closure: its `return`s and `?`s come back here.
                let __otel_body = #private::body::<#output_type, _>(move || #body);
                // Disabled: one relaxed load and a branch, then the body.
                if !#private::spans_enabled() {
                    return __otel_body();
                }
                let __otel_span = #private::SpanGuard::enter_enabled(&__OTEL_SITE, #parent, #attributes, #links);
                let __otel_out = __otel_body();
                if let ::core::option::Option::Some(__otel_cx) = __otel_span.live_span() {
                    let __otel_out = &__otel_out;
                    #record
                }
                __otel_out
            }}
        }
        Shape::Sync {
            returns_value: false,
        } if !never => quote! {{
            #site
            let __otel_body = #private::body::<(), _>(move || #body);
            if !#private::spans_enabled() {
                return __otel_body();
            }
            let __otel_span = #private::SpanGuard::enter_enabled(&__OTEL_SITE, #parent, #attributes, #links);
            __otel_body()
        }},
        // `-> !`: no value ever comes back, so nothing needs one.
        Shape::Sync {
            returns_value: false,
        } => quote! {{
            #site
            let __otel_span = #private::SpanGuard::enter(&__OTEL_SITE, #parent, #attributes, #links);
            #body
        }},
    };

    item.with_body(new_body)
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
        static __OTEL_SITE: #private::SpanSite = #private::SpanSite::new(#private::SpanSiteInfo {
            name: #name,
            kind: #kind,
            marker: __otel_function,
            file: ::core::file!(),
            line: #line,
            scope: (::core::env!("CARGO_PKG_NAME"), ::core::env!("CARGO_PKG_VERSION")),
            root: #root,
            attribute_count: #count,
        });
    }
}

/// The closure giving the context of `parent = <expr>` (a `Context` or a reference to one),
/// `None` for the current context; it runs only when spans may be recorded.
fn parent(args: &SpanArgs, private: &TokenStream) -> TokenStream {
    match &args.parent {
        Some((_, expr)) => quote_spanned! {expr.span()=>
            || ::core::option::Option::Some(#private::parent_context(&(#expr)))
        },
        None => quote!(|| ::core::option::Option::None),
    }
}

/// The closure giving the links of `links = <expr>` (an iterable of `otel::IntoLink`s), none
/// without it; like `parent`, it runs only when spans may be recorded.
fn links(args: &SpanArgs, private: &TokenStream) -> TokenStream {
    match &args.links {
        Some((_, expr)) => quote_spanned! {expr.span()=>
            || #private::links(#expr)
        },
        None => quote!(|| ::std::vec::Vec::new()),
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
                let value = attribute_list::plain_value(expr, private);
                quote_spanned!(expr.span()=> #private::attribute(__otel_list, #key, &#value);)
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
fn record(args: &SpanArgs, krate: &TokenStream) -> TokenStream {
    let private = quote!(#krate::__private);
    let outcome = quote!(#krate::__record_outcome!(__otel_out, __otel_cx););
    let errors = match &args.error_if {
        Some((_, counts)) => quote_spanned! {counts.span()=>
            if #private::error_counts(__otel_out, #counts) { #outcome }
        },
        None => outcome,
    };
    // Written out rather than through a runtime macro, so that a return type without `Debug`
    // is an error on `ret` itself; the depth matches `RecordReturnedOk` on `&Returned` in the
    // runtime's `trace/outcome.rs`.
    let ret = args.ret.as_ref().map(|ret| {
        quote_spanned!(ret.span()=> (&&#private::Returned(__otel_out)).__otel_record_return(__otel_cx);)
    });
    quote! {
        #errors
        #[allow(unused_imports)]
        use #private::recorders::*;
        #ret
    }
}
