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
    let features = required_features(args, &krate);
    let init = quote! {
        #features
        let __otel_guard = #krate::__private::init(#config);
    };
    let has_runtime_attribute = item.attrs.iter().any(|attr| {
        attr.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "main" || s.ident == "test")
    });
    // Runtime metrics are for the runtime the async body runs on: observed from inside it.
    let observe_runtime = args
        .runtime_metrics
        .as_ref()
        .filter(|flag| flag.value)
        .map(|_| quote!(#krate::__private::observe_runtime();));
    let new_body = if item.sig.asyncness.is_some() && !has_runtime_attribute {
        item.sig.asyncness = None;
        quote! {{
            #init
            #krate::__private::block_on(async move {
                #observe_runtime
                #body
            })
        }}
    } else {
        quote! {{
            #init
            #observe_runtime
            #body
        }}
    };
    // Without the runtime's `sdk` feature (a library's facade build) there is nothing to set
    // up: the runtime's macro then replaces the whole body with one error saying so.
    item.with_body(quote! {{ #krate::__require_feature_sdk!(#new_body) }})
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
        ("profiler", &args.profiler, "ProfilerKind", parse::PROFILERS),
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
    if let Some(flag) = &args.system_metrics {
        let value = flag.value;
        calls.push(quote_spanned!(flag.span=> .system_metrics(#value)));
    }
    if let Some(flag) = &args.runtime_metrics {
        let value = flag.value;
        calls.push(quote_spanned!(flag.span=> .runtime_metrics(#value)));
    }
    if let Some(address) = &args.prometheus {
        let (host, port) = &address.value;
        calls.push(quote_spanned!(address.span=> .prometheus(#host, #port)));
    }
    // The commit and branch, from the variables build systems and CI set at compile time.
    calls.push(quote!(.build_env(
        [
            ::core::option_env!("OTEL_BUILD_COMMIT"),
            ::core::option_env!("VERGEN_GIT_SHA"),
            ::core::option_env!("GIT_COMMIT"),
            ::core::option_env!("GITHUB_SHA"),
        ],
        [
            ::core::option_env!("OTEL_BUILD_BRANCH"),
            ::core::option_env!("VERGEN_GIT_BRANCH"),
            ::core::option_env!("GIT_BRANCH"),
            ::core::option_env!("GITHUB_REF_NAME"),
        ],
    )));
    if let Some(flag) = args.flush_on_signal {
        calls.push(quote!(.flush_on_signal(#flag)));
    }
    if let Some(flag) = args.subscriber {
        calls.push(quote!(.subscriber(#flag)));
    }
    quote!(#private::Config::new() #(#calls)*)
}

/// For each key that needs a cargo feature of the runtime, a macro of the runtime that is
/// empty when the feature is on and a compile error naming the feature when it is off,
/// spanned on the key's value.
fn required_features(args: &MainArgs, krate: &TokenStream) -> TokenStream {
    let mut checks = Vec::new();
    let prometheus_span = args
        .metrics
        .as_ref()
        .filter(|list| list.value.contains(&"prometheus"))
        .map(|list| list.span)
        .or(args.prometheus.as_ref().map(|address| address.span));
    if let Some(span) = prometheus_span {
        let krate = respan(krate.clone(), span);
        checks.push(quote_spanned!(span=> #krate::__require_feature_prometheus!();));
    }
    if let Some(kind) = args.profiler.as_ref().filter(|kind| kind.value != "none") {
        let krate = respan(krate.clone(), kind.span);
        checks.push(quote_spanned!(kind.span=> #krate::__require_feature_profiler!();));
    }
    if let Some(flag) = args.system_metrics.as_ref().filter(|flag| flag.value) {
        let krate = respan(krate.clone(), flag.span);
        checks.push(quote_spanned!(flag.span=> #krate::__require_feature_system_metrics!();));
    }
    if let Some(flag) = args.runtime_metrics.as_ref().filter(|flag| flag.value) {
        let krate = respan(krate.clone(), flag.span);
        checks.push(quote_spanned!(flag.span=> #krate::__require_feature_runtime_metrics!();));
    }
    if let Some(protocol) = &args.protocol {
        let gate = match protocol.value {
            "grpc" => quote!(__require_feature_grpc),
            "http/json" => quote!(__require_feature_http_json),
            _ => quote!(__require_feature_http_proto),
        };
        let krate = respan(krate.clone(), protocol.span);
        let gate = respan(gate, protocol.span);
        checks.push(quote_spanned!(protocol.span=> #krate::#gate!();));
    }
    // The first list naming each exporter carries its check: one error per missing feature.
    let lists = [&args.traces, &args.metrics, &args.logs];
    for (exporter, gate) in [
        ("otlp", quote!(__require_feature_otlp)),
        ("console", quote!(__require_feature_console)),
    ] {
        let naming = lists
            .iter()
            .filter_map(|list| list.as_ref())
            .find(|list| list.value.contains(&exporter));
        if let Some(list) = naming {
            let krate = respan(krate.clone(), list.span);
            let gate = respan(gate, list.span);
            checks.push(quote_spanned!(list.span=> #krate::#gate!();));
        }
    }
    if let Some(endpoint) = args
        .endpoint
        .as_ref()
        .filter(|endpoint| endpoint.value().starts_with("https://"))
    {
        let krate = respan(krate.clone(), endpoint.span());
        checks.push(quote_spanned!(endpoint.span()=> #krate::__require_feature_tls!();));
    }
    quote!(#(#checks)*)
}

/// `tokens` with every span set to `span`, so an error they cause points there.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}

fn variant(spelling: &str, table: &[(&str, &str)], span: Span) -> Ident {
    let name = table
        .iter()
        .find(|(s, _)| *s == spelling)
        .map(|(_, v)| *v)
        .unwrap_or("None");
    Ident::new(name, span)
}
