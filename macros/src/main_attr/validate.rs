//! Rules across arguments and about the annotated function.

use crate::diag::Errors;
use crate::item::ItemFn;

use super::parse::MainArgs;

pub(super) fn check(args: &MainArgs, item: &ItemFn, errors: &mut Errors) {
    if let (Some(sampler), Some(ratio)) = (&args.sampler, &args.sample_ratio)
        && !matches!(sampler.value, "traceidratio" | "parentbased_traceidratio")
    {
        errors.push(syn::Error::new(
            ratio.span,
            format!(
                "`sample_ratio` has no effect with sampler \"{}\"; use sampler = \
                     \"parentbased_traceidratio\" or \"traceidratio\", or leave `sampler` out",
                sampler.value
            ),
        ));
    }
    for list in [&args.traces, &args.logs].into_iter().flatten() {
        if list.value.contains(&"prometheus") {
            errors.push(syn::Error::new(
                list.span,
                "\"prometheus\" exports metrics only: list it in `metrics`, such as \
                 `metrics = \"prometheus\"`",
            ));
        }
    }
    if let Some(flag) = &args.runtime_metrics
        && flag.value
        && item.sig.asyncness.is_none()
    {
        errors.push(syn::Error::new(
            flag.span,
            "`runtime_metrics` records the tokio runtime `main` runs on, which this `main` \
             does not start: put #[otel::main] above #[tokio::main], or make `main` async \
             (otel then runs it on a tokio runtime)",
        ));
    }
    let sig = &item.sig;
    if !sig.inputs.is_empty() {
        errors.error(
            &sig.inputs,
            "#[otel::main] goes on a function without parameters",
        );
    }
    if let Some(constness) = &sig.constness {
        errors.error(constness, "#[otel::main] cannot go on a `const fn`");
    }
    if !sig.generics.params.is_empty() {
        errors.error(
            &sig.generics,
            "#[otel::main] cannot go on a generic function",
        );
    }
}
