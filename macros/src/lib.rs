//! Procedural macros of the `otel` crate (package `otel-compile`). Depend on it and use them as
//! `#[otel::main]`, `#[otel::span]`, `#[otel::metric]` and `otel::counter!`; each is documented,
//! option by option, on its re-export there.
//!
//! Each macro runs three visible phases: `parse` (tokens into typed arguments, every error on
//! its token), `validate` (cross-argument rules), `expand` (thin code calling
//! `::otel::__private`). Errors are all reported at once, next to the unchanged item.

#![forbid(unsafe_code)]

mod args;
mod attribute_list;
mod body;
mod diag;
mod item;
mod main_attr;
mod metric_attr;
mod metric_macro;
mod span_attr;

use proc_macro::TokenStream;

/// Sets up OpenTelemetry for the whole program.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    main_attr::entry(args.into(), item.into()).into()
}

/// Records each call of a function as a span.
#[proc_macro_attribute]
pub fn span(args: TokenStream, item: TokenStream) -> TokenStream {
    span_attr::entry(args.into(), item.into()).into()
}

/// Measures each call of a function: an instrument, or the function RED metrics.
#[proc_macro_attribute]
pub fn metric(args: TokenStream, item: TokenStream) -> TokenStream {
    metric_attr::entry(args.into(), item.into()).into()
}

/// The body macros: one measurement each, through [`metric_macro`].
macro_rules! body_macros {
    ($($(#[$doc:meta])* $name:ident => $kind:ident;)*) => {
        $(
            $(#[$doc])*
            #[proc_macro]
            pub fn $name(input: TokenStream) -> TokenStream {
                metric_macro::entry(metric_attr::MetricKind::$kind, input.into()).into()
            }
        )*
    };
}

body_macros! {
    /// Adds to a counter from a function body.
    counter => Counter;
    /// Records into a histogram from a function body.
    histogram => Histogram;
    /// Moves an up-down counter from a function body.
    up_down_counter => UpDownCounter;
    /// Records a gauge's current value from a function body.
    gauge => Gauge;
}
