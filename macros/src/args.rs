//! Shared attribute-argument parsing: `key = value`, `key(...)` and bare `key`, each key at
//! most once, unknown keys answered with the accepted list and the nearest match.

use proc_macro2::TokenStream;
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream, Parser as _};
use syn::punctuated::Punctuated;
use syn::{Ident, Lit, LitStr, Token};

use crate::diag::Errors;

/// An attribute's typed arguments, filled key by key from what the user wrote.
pub(crate) trait Arguments: Default {
    /// Every key the attribute accepts.
    const KEYS: &'static [&'static str];
    /// How errors name the attribute: `#[otel::span]`.
    const ATTRIBUTE: &'static str;

    /// A message for a key that deserves its own (a key of another crate, a later release),
    /// rather than "unknown key".
    fn special(_key: &str) -> Option<String> {
        None
    }

    /// Takes one admitted argument; its error is reported and the others still parsed.
    fn set(&mut self, key: &str, arg: ExprArg) -> syn::Result<()>;
}

/// Parses an attribute's arguments: each admitted one to [`Arguments::set`] by name; unknown
/// and repeated keys become errors. Every error is collected.
pub(crate) fn parse<A: Arguments>(tokens: TokenStream, errors: &mut Errors) -> A {
    let mut out = A::default();
    let list = match parse_expr_args(tokens) {
        Ok(list) => list,
        Err(error) => {
            errors.push(error);
            return out;
        }
    };
    let mut guard = KeyGuard::new(A::KEYS);
    for arg in list {
        let name = arg.key.unraw().to_string();
        if let Some(message) = A::special(&name) {
            errors.error(&arg.key, message);
            continue;
        }
        if !guard.admit(&arg.key, errors) {
            if !A::KEYS.contains(&name.as_str()) {
                errors.push(guard.unknown(&arg.key, A::ATTRIBUTE));
            }
            continue;
        }
        if let Err(error) = out.set(&name, arg) {
            errors.push(error);
        }
    }
    out
}

/// A string literal value, or an error on the value (or key) naming `example`.
/// A key in an attribute's accepted list that its parser does not handle: a bug here,
/// reported at the key rather than panicking.
pub(crate) fn unhandled_key(key: &Ident) -> syn::Error {
    syn::Error::new_spanned(
        key,
        "internal error in otel-macros: key accepted but not handled",
    )
}

pub(crate) fn string_arg(arg: &ExprArg, example: &str) -> syn::Result<LitStr> {
    match &arg.value {
        ExprArgValue::Expr(syn::Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        })) => Ok(lit.clone()),
        ExprArgValue::Expr(expr) => Err(syn::Error::new_spanned(
            expr,
            format!("`{}` takes a string literal, such as {example}", arg.key),
        )),
        _ => Err(syn::Error::new_spanned(
            &arg.key,
            format!("`{}` takes a string literal, such as {example}", arg.key),
        )),
    }
}

/// `crate = "::otel"` for the attributes whose values are expressions.
pub(crate) fn crate_path_arg(arg: &ExprArg) -> syn::Result<syn::Path> {
    let message = "`crate` expects the path the otel crate is reachable at, such as \"::otel\" \
                   or \"my_crate::otel\"";
    match &arg.value {
        ExprArgValue::Expr(syn::Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        })) => lit
            .parse::<syn::Path>()
            .map_err(|_| syn::Error::new(lit.span(), message)),
        ExprArgValue::Expr(expr) => Err(syn::Error::new_spanned(expr, message)),
        _ => Err(syn::Error::new_spanned(&arg.key, message)),
    }
}

/// The path expansions name the runtime by: `crate = "..."` if given, else `::otel`.
pub(crate) fn crate_path(krate: Option<&syn::Path>) -> TokenStream {
    krate
        .map(|path| quote::quote!(#path))
        .unwrap_or_else(|| quote::quote!(::otel))
}

/// One argument: `key = <expression>`, `key(...)` or `key` alone. `#[otel::main]` admits only
/// literal expressions; `#[otel::span]` and `#[otel::metric]` any.
pub(crate) struct ExprArg {
    pub(crate) key: Ident,
    pub(crate) value: ExprArgValue,
}

pub(crate) enum ExprArgValue {
    /// `key` alone.
    Flag,
    /// `key = <expression>`.
    Expr(syn::Expr),
    /// `key(...)`, the parenthesised tokens.
    List(TokenStream),
}

impl Parse for ExprArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        // `crate` is a keyword but a valid key.
        let key = input.call(Ident::parse_any)?;
        let value = if input.peek(Token![=]) {
            let eq = input.parse::<Token![=]>()?;
            if input.is_empty() || input.peek(Token![,]) {
                return Err(syn::Error::new_spanned(
                    eq,
                    format!("`{key} =` needs a value after `=`"),
                ));
            }
            ExprArgValue::Expr(input.parse()?)
        } else if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            ExprArgValue::List(content.parse()?)
        } else {
            ExprArgValue::Flag
        };
        Ok(Self { key, value })
    }
}

/// Parses comma-separated arguments whose values are expressions.
pub(crate) fn parse_expr_args(tokens: TokenStream) -> syn::Result<Vec<ExprArg>> {
    Punctuated::<ExprArg, Token![,]>::parse_terminated
        .parse2(tokens)
        .map(|args| args.into_iter().collect())
}

/// Rejects repeated keys (the error points at the second) and unknown keys.
pub(crate) struct KeyGuard<'a> {
    accepted: &'a [&'a str],
    seen: Vec<String>,
}

impl<'a> KeyGuard<'a> {
    pub(crate) fn new(accepted: &'a [&'a str]) -> Self {
        Self {
            accepted,
            seen: Vec::new(),
        }
    }

    /// `true` when `key` is accepted and new; otherwise records the error and returns `false`.
    pub(crate) fn admit(&mut self, key: &Ident, errors: &mut Errors) -> bool {
        let name = key.unraw().to_string();
        if !self.accepted.contains(&name.as_str()) {
            return false;
        }
        if self.seen.contains(&name) {
            errors.error(
                key,
                format!("duplicate key `{name}`: each key may be given once"),
            );
            return false;
        }
        self.seen.push(name);
        true
    }

    /// The error for a key that is not accepted.
    pub(crate) fn unknown(&self, key: &Ident, what: &str) -> syn::Error {
        let name = key.unraw().to_string();
        let list = self
            .accepted
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let hint = nearest(&name, self.accepted)
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        syn::Error::new_spanned(
            key,
            format!("unknown key `{name}` for {what}{hint}\nthe valid keys are: {list}"),
        )
    }
}

/// The accepted spelling closest to `given`, if it is close enough to be a typo.
pub(crate) fn nearest<'a>(given: &str, accepted: &[&'a str]) -> Option<&'a str> {
    accepted
        .iter()
        .map(|a| (strsim::jaro_winkler(given, a), *a))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, a)| a)
}

/// The error for a value outside a closed set, listing the set and the nearest match.
pub(crate) fn bad_choice(lit: &LitStr, given: &str, key: &str, accepted: &[&str]) -> syn::Error {
    let list = accepted
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let hint = nearest(given, accepted)
        .map(|n| format!("; did you mean \"{n}\"?"))
        .unwrap_or_default();
    syn::Error::new(
        lit.span(),
        format!("unknown {key} \"{given}\"{hint}\nthe valid values are: {list}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_finds_typos_only() {
        assert_eq!(nearest("servce", &["service", "version"]), Some("service"));
        assert_eq!(nearest("zzz", &["service", "version"]), None);
    }

    #[test]
    fn parses_the_three_argument_forms() {
        let args =
            parse_expr_args(quote::quote!(a = "x", b(c = "d"), e, crate = "y")).expect("parses");
        assert_eq!(args.len(), 4);
        assert!(matches!(args[0].value, ExprArgValue::Expr(_)));
        assert!(matches!(args[1].value, ExprArgValue::List(_)));
        assert!(matches!(args[2].value, ExprArgValue::Flag));
        assert_eq!(args[3].key.to_string(), "crate");
    }
}
