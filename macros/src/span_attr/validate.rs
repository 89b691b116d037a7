//! Rules across arguments and the function: the shape is one a span can wrap, attribute keys
//! are well-formed and distinct, shorthands name parameters, `ret`/`error_if` have a value.

use syn::{ReturnType, Type};

use crate::diag::Errors;
use crate::item::ItemFn;

use crate::attribute_list;

use super::parse::SpanArgs;

/// Set by the macro itself on every span.
const RESERVED_KEYS: &[&str] = &["code.function.name", "code.file.path", "code.line.number"];

pub(super) fn check(args: &SpanArgs, item: &ItemFn, errors: &mut Errors) {
    if let Some(constness) = &item.sig.constness {
        errors.error(
            constness,
            "#[otel::span] cannot go on a `const fn`: a span is a runtime event, and a const fn \
             may run at compile time",
        );
    }
    let returns_value = returns_value(&item.sig.output);
    if let Some(ret) = &args.ret
        && !returns_value
    {
        errors.error(
            ret,
            "`ret` records the returned value, but this fn returns nothing",
        );
    }
    if let Some((key, _)) = &args.error_if
        && !returns_value
    {
        errors.error(
            key,
            "`error_if` chooses which `Err` values count, but this fn returns nothing",
        );
    }
    if let (Some((parent, _)), Some(_)) = (&args.parent, &args.root) {
        errors.error(
            parent,
            "`parent` and `root` both choose where the span starts: `root` starts a new trace \
             linked to the current span, `parent` continues the given context; keep one",
        );
    }
    attribute_list::check(&args.attributes, item, RESERVED_KEYS, errors);
}

/// `false` for no return type, `()` and `!`.
pub(crate) fn returns_value(output: &ReturnType) -> bool {
    match output {
        ReturnType::Default => false,
        ReturnType::Type(_, ty) => {
            !matches!(
                &**ty,
                Type::Tuple(tuple) if tuple.elems.is_empty()
            ) && !matches!(&**ty, Type::Never(_))
        }
    }
}
