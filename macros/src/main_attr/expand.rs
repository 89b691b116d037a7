//! The expansion: `let __otel_guard = init(<config>);` around the body, and a tokio runtime
//! for an `async fn main` that has no runtime attribute of its own.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};

use crate::item::ItemFn;

use super::parse::{self, MainArgs};

pub(super) fn expand(args: &MainArgs, mut item: ItemFn) -> TokenStream {
    let krate = crate::args::crate_path(args.krate.as_ref());
    let config = config(args, &krate);
    let body = &item.body;
    let init = quote! {
        let __otel_guard = #krate::__private::init(#config);
    };
    let has_runtime_attribute = item.attrs.iter().any(|attr| {
        attr.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "main" || s.ident == "test")
    });
    let new_body = if item.sig.asyncness.is_some() && !has_runtime_attribute {
        item.sig.asyncness = None;
        quote! {{
            #init
            #krate::__private::block_on(async move #body)
        }}
    } else {
        quote! {{
            #init
            #body
        }}
    };
    item.with_body(new_body)
}

/// The `Config` builder chain the arguments describe.
fn config(args: &MainArgs, krate: &TokenStream) -> TokenStream {
    let private = quote!(#krate::__private);
    let mut calls = vec![quote!(.default_service(::core::env!("CARGO_PKG_NAME")))];
    match &args.version {
        Some(version) => calls.push(quote!(.version(#version))),
        None => calls.push(quote!(.version(::core::env!("CARGO_PKG_VERSION")))),
    }
    let strings = [
        ("service", &args.service),
        ("namespace", &args.namespace),
        ("environment", &args.environment),
        ("endpoint", &args.endpoint),
        ("log_filter", &args.log_filter),
    ];
    for (method, value) in strings {
        if let Some(value) = value {
            let method = Ident::new(method, value.span());
            calls.push(quote!(.#method(#value)));
        }
    }
    for (key, value) in &args.resource {
        calls.push(quote!(.resource_attribute(#key, #value)));
    }
    let lists = [
        ("traces", &args.traces, "Exporter", parse::EXPORTERS),
        ("metrics", &args.metrics, "Exporter", parse::EXPORTERS),
        ("logs", &args.logs, "Exporter", parse::EXPORTERS),
        (
            "propagators",
            &args.propagators,
            "Propagator",
            parse::PROPAGATORS,
        ),
    ];
    for (method, value, ty, table) in lists {
        if let Some(value) = value {
            let method = Ident::new(method, value.span);
            let ty = Ident::new(ty, value.span);
            let variants = value.value.iter().map(|s| variant(s, table, value.span));
            calls.push(quote_spanned!(value.span=> .#method([#(#private::#ty::#variants),*])));
        }
    }
    let choices = [
        ("protocol", &args.protocol, "Protocol", parse::PROTOCOLS),
        (
            "compression",
            &args.compression,
            "Compression",
            parse::COMPRESSIONS,
        ),
        ("sampler", &args.sampler, "SamplerKind", parse::SAMPLERS),
    ];
    for (method, value, ty, table) in choices {
        if let Some(value) = value {
            let method = Ident::new(method, value.span);
            let ty = Ident::new(ty, value.span);
            let v = variant(value.value, table, value.span);
            calls.push(quote_spanned!(value.span=> .#method(#private::#ty::#v)));
        }
    }
    if let Some(ratio) = &args.sample_ratio {
        if args.sampler.is_none() {
            // A ratio alone means "keep this fraction of new traces, follow the parent".
            calls.push(quote!(.sampler(#private::SamplerKind::ParentBasedTraceIdRatio)));
        }
        let value = ratio.value;
        calls.push(quote!(.sample_ratio(#value)));
    }
    let durations = [
        ("timeout", &args.timeout),
        ("export_interval", &args.export_interval),
        ("shutdown_timeout", &args.shutdown_timeout),
    ];
    for (method, value) in durations {
        if let Some(value) = value {
            let method = Ident::new(method, value.span);
            let secs = value.value.as_secs();
            let nanos = value.value.subsec_nanos();
            calls.push(quote!(.#method(::core::time::Duration::new(#secs, #nanos))));
        }
    }
    if let Some(flag) = args.flush_on_signal {
        calls.push(quote!(.flush_on_signal(#flag)));
    }
    quote!(#private::Config::new() #(#calls)*)
}

fn variant(spelling: &str, table: &[(&str, &str)], span: Span) -> Ident {
    let name = table
        .iter()
        .find(|(s, _)| *s == spelling)
        .map(|(_, v)| *v)
        .unwrap_or("None");
    Ident::new(name, span)
}
