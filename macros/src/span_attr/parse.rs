//! Tokens into typed `#[otel::span]` arguments; each bad value is an error on its token.

use proc_macro2::Span;
use syn::{Expr, Ident, Lit, LitStr};

use crate::args::{self, ExprArg, ExprArgValue};
use crate::attribute_list::{self, Field};

/// Every key `#[otel::span]` accepts.
const KEYS: &[&str] = &[
    "name",
    "kind",
    "attributes",
    "root",
    "parent",
    "links",
    "error_if",
    "ret",
    "crate",
];

/// `(spelling, variant of opentelemetry::trace::SpanKind)`.
const KINDS: &[(&str, &str)] = &[
    ("internal", "Internal"),
    ("server", "Server"),
    ("client", "Client"),
    ("producer", "Producer"),
    ("consumer", "Consumer"),
];

/// `tracing::instrument` keys, answered with what to write here instead.
const FROM_TRACING: &[(&str, &str)] = &[
    (
        "fields",
        "`fields(...)` is spelled `attributes(...)` here: `attributes(user.id = id)`",
    ),
    (
        "skip",
        "arguments are never recorded unless named, so there is nothing to skip: name the \
         ones to record in `attributes(...)`",
    ),
    (
        "skip_all",
        "arguments are never recorded unless named, so there is nothing to skip: name the \
         ones to record in `attributes(...)`",
    ),
    (
        "err",
        "a returned `Err` is always recorded (status, `error.type`, `exception` event); use \
         `error_if = <fn(&E) -> bool>` to choose which errors count",
    ),
    (
        "level",
        "OpenTelemetry spans have no level; filter with a sampler instead",
    ),
    (
        "target",
        "the span's scope is the crate name; there is no target",
    ),
];

/// The typed arguments. Only well-formed values get here; bad ones became errors.
#[derive(Default)]
pub(super) struct SpanArgs {
    pub(super) name: Option<LitStr>,
    /// The `SpanKind` variant, with the span of the word written.
    pub(super) kind: Option<(&'static str, Span)>,
    pub(super) attributes: Vec<Field>,
    pub(super) root: Option<Ident>,
    /// `parent = <expr>`: a `Context` (or `&Context`) to start the span under.
    pub(super) parent: Option<(Ident, Expr)>,
    /// `links = <expr>`: an iterable of span contexts (anything `otel::IntoLink`).
    pub(super) links: Option<(Ident, Expr)>,
    pub(super) error_if: Option<(Ident, Expr)>,
    pub(super) ret: Option<Ident>,
    pub(super) krate: Option<syn::Path>,
}

fn name_value(arg: &ExprArg) -> syn::Result<LitStr> {
    let lit = args::string_arg(arg, "`name = \"checkout\"`")?;
    if lit.value().trim().is_empty() {
        return Err(syn::Error::new(lit.span(), "the span name cannot be empty"));
    }
    Ok(lit)
}

fn kind(arg: &ExprArg) -> syn::Result<(&'static str, Span)> {
    let choices = || {
        KINDS
            .iter()
            .map(|(k, _)| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ExprArgValue::Expr(expr) = &arg.value else {
        return Err(syn::Error::new_spanned(
            &arg.key,
            format!("`kind` takes one of {}, such as `kind = server`", choices()),
        ));
    };
    let word = match expr {
        Expr::Path(path) if path.qself.is_none() => path.path.get_ident().cloned(),
        _ => None,
    };
    let Some(word) = word else {
        let hint = match expr {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(lit), ..
            }) => format!("; write it without quotes: `kind = {}`", lit.value()),
            _ => String::new(),
        };
        return Err(syn::Error::new_spanned(
            expr,
            format!("`kind` takes one of {}{hint}", choices()),
        ));
    };
    let given = word.to_string();
    match KINDS.iter().find(|(spelling, _)| *spelling == given) {
        Some((_, variant)) => Ok((variant, word.span())),
        None => {
            let spellings: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
            let hint = args::nearest(&given, &spellings)
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            Err(syn::Error::new_spanned(
                word,
                format!(
                    "unknown span kind `{given}`{hint}\nthe span kinds are: {}",
                    choices()
                ),
            ))
        }
    }
}

fn flag(arg: ExprArg) -> syn::Result<Ident> {
    match arg.value {
        ExprArgValue::Flag => Ok(arg.key),
        _ => Err(syn::Error::new_spanned(
            &arg.key,
            format!("`{}` takes no value: write `{}` alone", arg.key, arg.key),
        )),
    }
}

impl args::Arguments for SpanArgs {
    const KEYS: &'static [&'static str] = KEYS;
    const ATTRIBUTE: &'static str = "#[otel::span]";

    fn special(key: &str) -> Option<String> {
        FROM_TRACING
            .iter()
            .find(|(from, _)| *from == key)
            .map(|(_, hint)| format!("unknown key `{key}`: {hint}"))
    }

    fn set(&mut self, name: &str, arg: ExprArg) -> syn::Result<()> {
        match name {
            "name" => self.name = Some(name_value(&arg)?),
            "kind" => self.kind = Some(kind(&arg)?),
            "attributes" => self.attributes = attribute_list::list(&arg)?,
            "root" => self.root = Some(flag(arg)?),
            "ret" => self.ret = Some(flag(arg)?),
            "parent" => match arg.value {
                ExprArgValue::Expr(expr) => self.parent = Some((arg.key, expr)),
                _ => {
                    return Err(syn::Error::new_spanned(
                        &arg.key,
                        "`parent` expects the context to start the span under, such as \
                         `parent = otel::propagation::extract(&message.headers)`",
                    ));
                }
            },
            "links" => match arg.value {
                ExprArgValue::Expr(expr) => self.links = Some((arg.key, expr)),
                _ => {
                    return Err(syn::Error::new_spanned(
                        &arg.key,
                        "`links` expects the spans to link to, as an array, a `Vec` or any \
                         iterator of span contexts or contexts, such as \
                         `links = [otel::propagation::extract(&message.headers)]`",
                    ));
                }
            },
            "error_if" => match arg.value {
                ExprArgValue::Expr(expr) => self.error_if = Some((arg.key, expr)),
                _ => {
                    return Err(syn::Error::new_spanned(
                        &arg.key,
                        "`error_if` expects a function of the error, such as \
                         `error_if = |e: &MyError| !e.is_not_found()`",
                    ));
                }
            },
            "crate" => self.krate = Some(args::crate_path_arg(&arg)?),
            _ => return Err(args::unhandled_key(&arg.key)),
        }
        Ok(())
    }
}
