//! The expansion: a per-call-site `static` instrument, a measurement at entry (counters,
//! measured histograms, the +1 of an in-flight counter), and for what needs the end of the
//! call (durations, the -1, the RED metrics with the result) a guard that closes it on every
//! exit, carried into the future for functions that return one.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;

use crate::body::{self, Shape};
use crate::fields::{Field, FieldValue};
use crate::item::ItemFn;

use super::parse::{Instrument, MetricArgs};

pub(super) fn expand(args: &MetricArgs, item: ItemFn) -> TokenStream {
    let private = crate::args::crate_path(args.krate.as_ref());
    let private = quote!(#private::__private);
    let site = site(args, &item, &private);
    let attributes = metric_attributes(
        args.attributes
            .as_ref()
            .map(|(_, list)| list.as_slice())
            .unwrap_or(&[]),
        &private,
    );

    // What happens at entry, and the guard that lives until the end.
    let (entry, needs_result) = match &args.instrument {
        None => (quote!(#private::MetricGuard::red(&__OTEL_METRIC)), true),
        Some((Instrument::Counter, _)) => {
            let by = args
                .by
                .as_ref()
                .map(|(_, by)| quote_spanned!(by.span()=> #by))
                .unwrap_or_else(|| quote!(1u64));
            (
                quote! {{
                    __OTEL_METRIC.add(#by, #attributes);
                    #private::MetricGuard::<0>::none()
                }},
                false,
            )
        }
        Some((Instrument::Histogram, _)) => match &args.value {
            Some((_, value)) => (
                quote! {{
                    __OTEL_METRIC.record(#value, #attributes);
                    #private::MetricGuard::<0>::none()
                }},
                false,
            ),
            None => (
                quote!(#private::MetricGuard::duration(&__OTEL_METRIC, #attributes)),
                false,
            ),
        },
        Some((Instrument::UpDownCounter | Instrument::Gauge, _)) => (
            quote!(#private::MetricGuard::in_flight(&__OTEL_METRIC, #attributes)),
            false,
        ),
    };
    let error_type = quote! {
        |__otel_out| {
            #[allow(unused_imports)]
            use #private::ErrorTypeOf as _;
            (&&#private::Measured(__otel_out)).__otel_error_type()
        }
    };
    // Inline where `__otel_out`'s type is known; the closure form gets its parameter type
    // from `MetricFuture::new`'s bound.
    let error_type_of_out = quote! {{
        #[allow(unused_imports)]
        use #private::ErrorTypeOf as _;
        (&&#private::Measured(&__otel_out)).__otel_error_type()
    }};
    let body = &item.body;
    let output_type = body::output_type(&item.sig.output);

    let new_body = match body::shape(&item) {
        // The body stays an `async fn` body: the guard lives in its future, from the first
        // poll to completion or drop, and `#[otel::span]` or `#[async_trait]` can still see an
        // `async fn` when they expand after this attribute.
        Shape::Async if needs_result => quote! {{
            #site
            let __otel_metric = #entry;
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
            __otel_metric.finish(#error_type_of_out);
            __otel_out
        }},
        Shape::ImplFuture | Shape::BoxedFuture => {
            let future = quote! {
                #private::MetricFuture::new(
                    #private::call_once::<#output_type, _>(move || #body),
                    __otel_metric,
                    #error_type,
                )
            };
            let future = if matches!(body::shape(&item), Shape::BoxedFuture) {
                quote!(::std::boxed::Box::pin(#future))
            } else {
                future
            };
            quote! {{
                #site
                let __otel_metric = #entry;
                #future
            }}
        }
        Shape::Sync {
            returns_value: false,
        } if needs_result
            && !matches!(item.sig.output, syn::ReturnType::Type(_, ref ty) if matches!(**ty, syn::Type::Never(_))) =>
        {
            quote! {{
                #site
                let __otel_metric = #entry;
                #private::call_once::<(), _>(move || #body);
                __otel_metric.finish(::core::option::Option::None);
            }}
        }
        Shape::Sync {
            returns_value: true,
        } if needs_result => quote! {{
            #site
            let __otel_metric = #entry;
            let __otel_out = #private::call_once::<#output_type, _>(move || #body);
            __otel_metric.finish(#error_type_of_out);
            __otel_out
        }},
        // Entry-time measurements, or a guard whose drop closes the call.
        _ => quote! {{
            #site
            let __otel_metric = #entry;
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

fn site(args: &MetricArgs, item: &ItemFn, private: &TokenStream) -> TokenStream {
    let scope = quote!((
        ::core::env!("CARGO_PKG_NAME"),
        ::core::env!("CARGO_PKG_VERSION")
    ));
    let Some((instrument, name)) = &args.instrument else {
        let function = item.sig.ident.to_string();
        return quote! {
            static __OTEL_METRIC: #private::RedSite =
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
        (None, Instrument::Histogram, None) => quote!(::core::option::Option::Some("s")),
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
        static __OTEL_METRIC: #private::MetricSite = #private::MetricSite::new(
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
                quote_spanned!(expr.span()=> #private::metric_attribute(#key, &(#expr)))
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
