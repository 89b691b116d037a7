//! Tokens into typed `#[otel::metric]` arguments; each bad value is an error on its token.

use proc_macro2::Span;
use syn::spanned::Spanned as _;
use syn::{Expr, Ident, Lit, LitStr};

use crate::args::{self, ExprArg, ExprArgValue};
use crate::attribute_list::{self, Field};

/// Every key `#[otel::metric]` accepts.
const KEYS: &[&str] = &[
    "counter",
    "histogram",
    "up_down_counter",
    "by",
    "value",
    "unit",
    "description",
    "buckets",
    "attributes",
    "crate",
];

/// The instrument an attribute records.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetricKind {
    Counter,
    Histogram,
    UpDownCounter,
    Gauge,
}

impl MetricKind {
    /// The variant of the runtime's `MetricKind`.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Self::Counter => "Counter",
            Self::Histogram => "Histogram",
            Self::UpDownCounter => "UpDownCounter",
            Self::Gauge => "Gauge",
        }
    }

    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Histogram => "histogram",
            Self::UpDownCounter => "up_down_counter",
            Self::Gauge => "gauge",
        }
    }
}

/// The typed arguments; no instrument means the function RED metrics.
#[derive(Default)]
pub(super) struct MetricArgs {
    pub(super) instrument: Option<(MetricKind, LitStr)>,
    pub(super) by: Option<(Ident, Expr)>,
    pub(super) value: Option<(Ident, Expr)>,
    pub(super) unit: Option<LitStr>,
    pub(super) description: Option<LitStr>,
    pub(super) buckets: Option<(Ident, Vec<(f64, Span)>)>,
    pub(super) attributes: Option<(Ident, Vec<Field>)>,
    pub(super) krate: Option<syn::Path>,
}

/// `buckets = [1, 2.5, 10]`: number literals, as `f64`.
fn buckets(arg: &ExprArg) -> syn::Result<Vec<(f64, Span)>> {
    let example = "`buckets` takes a list of numbers, such as `buckets = [0.1, 1, 10]`";
    let ExprArgValue::Expr(Expr::Array(array)) = &arg.value else {
        return Err(syn::Error::new_spanned(&arg.key, example));
    };
    array
        .elems
        .iter()
        .map(|element| {
            let (negative, literal) = match element {
                Expr::Unary(syn::ExprUnary {
                    op: syn::UnOp::Neg(_),
                    expr,
                    ..
                }) => (true, &**expr),
                other => (false, other),
            };
            let value = match literal {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Int(int), ..
                }) => int.base10_parse::<f64>().ok(),
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Float(float),
                    ..
                }) => float.base10_parse::<f64>().ok(),
                _ => None,
            };
            match value {
                Some(value) => Ok((if negative { -value } else { value }, element.span())),
                None => Err(syn::Error::new_spanned(element, example)),
            }
        })
        .collect()
}

impl args::Arguments for MetricArgs {
    const KEYS: &'static [&'static str] = KEYS;
    const ATTRIBUTE: &'static str = "#[otel::metric]";

    fn special(key: &str) -> Option<String> {
        (key == "gauge").then(|| {
            "a gauge records a value, not a call: use `otel::gauge!(\"name\", value)` in the \
             body"
                .to_owned()
        })
    }

    fn set(&mut self, name: &str, arg: ExprArg) -> syn::Result<()> {
        match name {
            "counter" | "histogram" | "up_down_counter" => {
                let instrument = match name {
                    "counter" => MetricKind::Counter,
                    "histogram" => MetricKind::Histogram,
                    _ => MetricKind::UpDownCounter,
                };
                let lit = args::string_arg(&arg, "`counter = \"orders.placed\"`")?;
                if let Some((other, _)) = &self.instrument {
                    return Err(syn::Error::new_spanned(
                        &arg.key,
                        format!(
                            "one instrument per #[otel::metric]: this one already records `{}`; \
                             stack another #[otel::metric] for `{name}`",
                            other.key()
                        ),
                    ));
                }
                self.instrument = Some((instrument, lit));
            }
            "by" | "value" => {
                let ExprArgValue::Expr(expr) = arg.value else {
                    return Err(syn::Error::new_spanned(
                        &arg.key,
                        format!(
                            "`{}` expects an expression, such as `{} = req.amount`",
                            arg.key, arg.key
                        ),
                    ));
                };
                if name == "by" {
                    self.by = Some((arg.key, expr));
                } else {
                    self.value = Some((arg.key, expr));
                }
            }
            "unit" => self.unit = Some(args::string_arg(&arg, "`unit = \"ms\"`")?),
            "description" => {
                self.description =
                    Some(args::string_arg(&arg, "`description = \"Orders placed\"`")?);
            }
            "buckets" => self.buckets = Some((arg.key.clone(), buckets(&arg)?)),
            "attributes" => self.attributes = Some((arg.key.clone(), attribute_list::list(&arg)?)),
            "crate" => self.krate = Some(args::crate_path_arg(&arg)?),
            _ => return Err(args::unhandled_key(&arg.key)),
        }
        Ok(())
    }
}
