//! The expansion of every `#[otel::metric]` on one function at once: a per-call-site `static`
//! instrument each, the measurements taken at entry (counters, measured histograms; identical
//! attribute lists evaluated once for all of them), and for what needs the end of the call
//! (durations, in-flight counts, the RED metrics with the result) guards that close on every
//! exit, carried into the future for functions that return one.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;

use crate::attribute_list::{self, Field, FieldValue};
use crate::body::{self, Shape};
use crate::item::ItemFn;

use super::parse::{MetricArgs, MetricKind};

pub(super) fn expand(list: &[MetricArgs], item: ItemFn) -> TokenStream {
    let krate = list.iter().find_map(|args| args.krate.as_ref());
    let private = crate::args::crate_path(krate);
    let private = quote!(#private::__private);

    let mut statics = Vec::new();
    // Entry-time measurements; identical attribute lists are evaluated once and shared.
    let mut shared: Vec<(String, Ident, TokenStream)> = Vec::new();
    let mut entry = Vec::new();
    // Guards closed when the call ends.
    let mut guards: Vec<(Ident, TokenStream)> = Vec::new();
    let mut needs_result = false;
    for (index, args) in list.iter().enumerate() {
        let site_name = format_ident!("__OTEL_METRIC_{}", index);
        statics.push(site(args, &item, &private, &site_name));
        let fields = args
            .attributes
            .as_ref()
            .map(|(_, list)| list.as_slice())
            .unwrap_or(&[]);
        let attributes = metric_attributes(fields, &private);
        let mut shared_attributes = || {
            let key = attributes.to_string();
            if let Some((_, name, _)) = shared.iter().find(|(k, _, _)| *k == key) {
                return name.clone();
            }
            let name = format_ident!("__otel_attributes_{}", shared.len());
            shared.push((key, name.clone(), attributes.clone()));
            name
        };
        let guard = format_ident!("__otel_metric_{}", index);
        match (&args.instrument, &args.value) {
            (None, _) => {
                needs_result = true;
                guards.push((guard, quote!(#private::MetricGuard::red(&#site_name))));
            }
            (Some((MetricKind::Counter, _)), _) => {
                let by = args
                    .by
                    .as_ref()
                    .map(|(_, by)| quote_spanned!(by.span()=> #by))
                    .unwrap_or_else(|| quote!(1u64));
                let shared = shared_attributes();
                entry.push(quote!(#site_name.add_shared(#by, #shared.as_ref());));
            }
            (Some((MetricKind::Histogram, _)), Some((_, value))) => {
                let shared = shared_attributes();
                entry.push(quote!(#site_name.record_shared(#value, #shared.as_ref());));
            }
            (Some((MetricKind::Histogram, _)), None) => guards.push((
                guard,
                quote!(#private::MetricGuard::duration(&#site_name, #attributes)),
            )),
            (Some((MetricKind::UpDownCounter | MetricKind::Gauge, _)), _) => guards.push((
                guard,
                quote!(#private::MetricGuard::in_flight(&#site_name, #attributes)),
            )),
        }
    }
    let shared_lets = shared.iter().map(
        |(_, name, attributes)| quote!(let #name = #private::attributes_if_enabled(#attributes);),
    );
    let guard_lets = guards.iter().map(|(name, init)| quote!(let #name = #init;));
    let prologue = quote! {
        #(#statics)*
        { #(#shared_lets)* #(#entry)* }
        #(#guard_lets)*
    };
    let finish = guards
        .iter()
        .map(|(name, _)| quote!(#name.finish(__otel_error_type);));
    let finish = quote!(#(#finish)*);
    // The guards as one value for a future to carry: `(g0, (g1, ()))`.
    let carried = guards
        .iter()
        .rev()
        .fold(quote!(()), |rest, (name, _)| quote!((#name, #rest)));

    // Inline where `__otel_out`'s type is known; the closure form gets its parameter type
    // from `MetricFuture::new`'s bound.
    let error_type_of_out = quote! {{
        #[allow(unused_imports)]
        use #private::ErrorTypeOf as _;
        (&&#private::Measured(&__otel_out)).__otel_error_type()
    }};
    let error_type = quote! {
        |__otel_out| {
            #[allow(unused_imports)]
            use #private::ErrorTypeOf as _;
            (&&#private::Measured(__otel_out)).__otel_error_type()
        }
    };
    let body = &item.body;
    let output_type = body::output_type(&item.sig.output);
    let never = matches!(&item.sig.output, syn::ReturnType::Type(_, ty) if matches!(**ty, syn::Type::Never(_)));

    let new_body = match body::shape(&item) {
        // The body stays an `async fn` body: the guards live in its future, from the first
        // poll to completion or drop, and `#[otel::span]` or `#[async_trait]` can still see
        // an `async fn` when they expand after this attribute.
        Shape::Async if needs_result => quote! {{
            #prologue
            let __otel_out = async move {
                if let ::core::option::Option::Some(__otel_ret) =
                    ::core::option::Option::None::<#output_type>
                {
                    #[allow(unreachable_code)]
                    return __otel_ret;
                }
                #body
            }
            .await;
            let __otel_error_type = #error_type_of_out;
            #finish
            __otel_out
        }},
        Shape::ImplFuture | Shape::BoxedFuture if !guards.is_empty() => {
            let future = quote! {
                #private::MetricFuture::new(
                    #private::body::<#output_type, _>(move || #body)(),
                    #carried,
                    #error_type,
                )
            };
            let future = if matches!(body::shape(&item), Shape::BoxedFuture) {
                quote!(::std::boxed::Box::pin(#future))
            } else {
                future
            };
            quote! {{
                #prologue
                #future
            }}
        }
        Shape::Sync {
            returns_value: false,
        } if needs_result && !never => quote! {{
            #prologue
            #private::body::<(), _>(move || #body)();
            let __otel_error_type = ::core::option::Option::None;
            #finish
        }},
        Shape::Sync {
            returns_value: true,
        } if needs_result => quote! {{
            #prologue
            let __otel_out = #private::body::<#output_type, _>(move || #body)();
            let __otel_error_type = #error_type_of_out;
            #finish
            __otel_out
        }},
        // Entry-time measurements, or guards whose drop closes the call.
        _ => quote! {{
            #prologue
            #body
        }},
    };

    item.with_body(new_body)
}

fn site(args: &MetricArgs, item: &ItemFn, private: &TokenStream, site_name: &Ident) -> TokenStream {
    let scope = quote!((
        ::core::env!("CARGO_PKG_NAME"),
        ::core::env!("CARGO_PKG_VERSION")
    ));
    let Some((instrument, name)) = &args.instrument else {
        let function = item.sig.ident.to_string();
        return quote! {
            static #site_name: #private::RedSite =
                #private::RedSite::new(#function, ::core::module_path!(), #scope);
        };
    };
    let kind = format_ident!("{}", instrument.variant());
    let optional = |lit: &Option<syn::LitStr>| match lit {
        Some(lit) => quote!(::core::option::Option::Some(#lit)),
        None => quote!(::core::option::Option::None),
    };
    let unit = match (&args.unit, instrument, &args.value) {
        (Some(_), _, _) => optional(&args.unit),
        // A duration histogram measures seconds.
        (None, MetricKind::Histogram, None) => quote!(::core::option::Option::Some("s")),
        (None, _, _) => quote!(::core::option::Option::None),
    };
    let description = optional(&args.description);
    let buckets = match &args.buckets {
        Some((_, buckets)) => {
            let values = buckets.iter().map(|(value, _)| value);
            quote!(::core::option::Option::Some(&[#(#values),*]))
        }
        None => quote!(::core::option::Option::None),
    };
    quote! {
        static #site_name: #private::MetricSite = #private::MetricSite::new(
            #name,
            #private::MetricKind::#kind,
            #unit,
            #description,
            #buckets,
            #scope,
        );
    }
}

/// `|| [KeyValue; N]`: the attribute array, built only when metrics are recorded.
pub(crate) fn metric_attributes(list: &[Field], private: &TokenStream) -> TokenStream {
    let values = list.iter().map(|field| {
        let key = &field.key;
        match &field.value {
            FieldValue::Plain(expr) => {
                let value = attribute_list::plain_value(expr, private);
                quote_spanned!(expr.span()=> #private::metric_attribute(#key, &#value))
            }
            FieldValue::Display(expr) => {
                quote_spanned!(expr.span()=> #private::metric_attribute_display(#key, &(#expr)))
            }
            FieldValue::Debug(expr) => {
                quote_spanned!(expr.span()=> #private::metric_attribute_debug(#key, &(#expr)))
            }
            FieldValue::Shorthand(ident) => {
                quote_spanned!(ident.span()=> #private::metric_attribute(#key, &#ident))
            }
        }
    });
    quote!(|| [#(#values),*])
}
