//! `otel::counter!`, `otel::histogram!`, `otel::up_down_counter!` and `otel::gauge!`: one
//! measurement from a function body, with the instrument validated at compile time and made
//! once per call site.
//!
//! `counter!("orders.placed", 1, order.kind = %kind)`: the instrument name, the value, then
//! attributes as in `attributes(...)`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, LitStr, Token};

use crate::attribute_list::{self, Field};
use crate::diag::Errors;
use crate::metric_attr::{MetricKind, metric_attributes, validate};

struct Measurement {
    name: LitStr,
    value: Expr,
    attributes: Vec<Field>,
}

impl Parse for Measurement {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name: LitStr = input.parse().map_err(|error| {
            syn::Error::new(
                error.span(),
                "expected the instrument name as a string literal, then the value: \
                 `counter!(\"orders.placed\", 1)`",
            )
        })?;
        input.parse::<Token![,]>().map_err(|error| {
            syn::Error::new(
                error.span(),
                "expected `,` and the value after the instrument name",
            )
        })?;
        let value: Expr = input.parse()?;
        let mut attributes = Vec::new();
        if input.parse::<Option<Token![,]>>()?.is_some() {
            attributes = Punctuated::<Field, Token![,]>::parse_terminated(input)?
                .into_iter()
                .collect();
        }
        Ok(Self {
            name,
            value,
            attributes,
        })
    }
}

pub(crate) fn entry(instrument: MetricKind, input: TokenStream) -> TokenStream {
    let measurement = match syn::parse2::<Measurement>(input) {
        Ok(measurement) => measurement,
        Err(error) => return error.to_compile_error(),
    };
    let mut errors = Errors::default();
    if let Some(problem) = validate::name_problem(&measurement.name.value()) {
        errors.push(syn::Error::new(measurement.name.span(), problem));
    }
    attribute_list::check_keys(&measurement.attributes, &[], &mut errors);
    if !errors.is_empty() {
        return errors.with_item(quote!(()));
    }

    let private = quote!(::otel::__private);
    let Measurement {
        name,
        value,
        attributes,
    } = measurement;
    let kind = format_ident!("{}", instrument.variant());
    let attributes = metric_attributes(&attributes, &private);
    let record = match instrument {
        MetricKind::Counter => quote!(add),
        MetricKind::UpDownCounter => quote!(add_delta),
        MetricKind::Histogram | MetricKind::Gauge => quote!(record),
    };
    quote! {{
        static __OTEL_METRIC: #private::MetricSite = #private::MetricSite::new(
            #name,
            #private::MetricKind::#kind,
            ::core::option::Option::None,
            ::core::option::Option::None,
            ::core::option::Option::None,
            (::core::env!("CARGO_PKG_NAME"), ::core::env!("CARGO_PKG_VERSION")),
        );
        __OTEL_METRIC.#record(#value, #attributes);
    }}
}
