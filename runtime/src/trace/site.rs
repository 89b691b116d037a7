//! One `static` per annotated function: its span name, kind and code location, and the tracer
//! of its crate for the installed provider, made on first use and remade when the provider
//! changes.

use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwapOption;
use opentelemetry::baggage::{Baggage, BaggageExt as _};
use opentelemetry::trace::{
    Link, SpanBuilder, SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId,
    TraceState, Tracer as _,
};
use opentelemetry::{Context, InstrumentationScope, Key, KeyValue, StringValue, Value};
use opentelemetry_semantic_conventions::attribute;

use super::installed::{self, SiteTracer};
use super::live::LiveSpan;
use super::sampling::Sampling;
use crate::conventions;

/// Suffix the expansion's marker fn adds to the path `type_name` reports.
const MARKER: &str = "::__otel_function";

/// A call site of `#[otel::span]`. Built in a `static` by the expansion; not a public API.
#[derive(Debug)]
pub struct SpanSite {
    name: Option<&'static str>,
    kind: SpanKind,
    /// `type_name` of a fn item declared inside the annotated fn: its full path, `Self`
    /// type included, which no macro can see.
    marker: fn() -> &'static str,
    file: &'static str,
    line: u32,
    scope_name: &'static str,
    scope_version: &'static str,
    root: bool,
    attribute_count: usize,
    names: OnceLock<Names>,
    /// The tracer of the generation this site last recorded in.
    tracer: ArcSwapOption<CachedTracer>,
}

#[derive(Debug)]
struct Names {
    span: &'static str,
    function: &'static str,
}

#[derive(Debug)]
struct CachedTracer {
    generation: u64,
    tracer: SiteTracer,
    /// The sampler's decisions known before a span is built (`otel`'s own providers).
    sampling: Option<Sampling>,
}

/// Room for the code location, `error.type` on failure, and `pyroscope.profile.id` while the
/// profiler runs, after the listed attributes.
const EXTRA_ATTRIBUTES: usize = 5;

/// What an expansion knows about its call site, by name. Not a public API.
#[doc(hidden)]
#[derive(Debug)]
pub struct SpanSiteInfo {
    /// `name = "..."`; `None` for the function's own name.
    pub name: Option<&'static str>,
    pub kind: SpanKind,
    /// A fn item declared inside the annotated fn, whose `type_name` is the fn's full path.
    pub marker: fn() -> &'static str,
    pub file: &'static str,
    pub line: u32,
    /// The annotated crate's name and version: the instrumentation scope.
    pub scope: (&'static str, &'static str),
    /// `root`: a new trace, linked to the current span.
    pub root: bool,
    /// How many attributes `attributes(...)` lists.
    pub attribute_count: usize,
}

impl SpanSite {
    #[doc(hidden)]
    pub const fn new(info: SpanSiteInfo) -> Self {
        Self {
            name: info.name,
            kind: info.kind,
            marker: info.marker,
            file: info.file,
            line: info.line,
            scope_name: info.scope.0,
            scope_version: info.scope.1,
            root: info.root,
            attribute_count: info.attribute_count,
            names: OnceLock::new(),
            tracer: ArcSwapOption::const_empty(),
        }
    }

    /// Starts the span as a child of `explicit_parent` (`parent = ...`), else of the current
    /// context (a new trace, linked to the current span, for `root`). `generation` is the installed one, `0` when this call is a thread's
    /// periodic look at the global provider.
    ///
    /// `None` when nothing records: a no-op provider, suppressed telemetry, or a span the
    /// known sampler certainly drops while `unsampled_context` is `false` (nothing below it
    /// records either, so a sync body runs in the caller's context unchanged). Futures ask
    /// for `unsampled_context`, a span context that carries "not sampled" into whatever task
    /// polls them.
    #[inline]
    pub(crate) fn start(
        &'static self,
        mut generation: u64,
        explicit_parent: impl FnOnce() -> Option<Context>,
        attributes: impl FnOnce(&mut Vec<KeyValue>),
        links: impl FnOnce() -> Vec<Link>,
        unsampled_context: bool,
    ) -> Option<LiveSpan> {
        if generation == 0 || installed::check_due() {
            generation = installed::check_global();
            if generation == 0 {
                return None;
            }
        }
        let start_under = |parent: &Context| {
            if parent.is_telemetry_suppressed() {
                return None;
            }
            let guard = self.tracer(generation)?;
            let cached = guard.as_deref()?;
            let parent_span = parent.span();
            let parent_span_context = parent_span.span_context();
            if let Some(sampling) = cached.sampling {
                let sampling_parent = if self.root {
                    &SpanContext::NONE
                } else {
                    parent_span_context
                };
                if sampling.certainly_drops(sampling_parent) {
                    return (unsampled_context || self.root).then(|| {
                        LiveSpan::new(
                            parent.with_remote_span_context(unsampled_child(sampling_parent)),
                        )
                    });
                }
            }
            let mut list = Vec::with_capacity(self.attribute_count + EXTRA_ATTRIBUTES);
            // The attributes' expressions are the program's code, run for telemetry: a panic
            // in one is caught, and the span records what was made before it.
            if crate::panic_hook::caught(|| attributes(&mut list)).is_none() {
                super::attributes::warned_expression_panic();
                list.push(KeyValue::new(
                    conventions::OTEL_ATTRIBUTE_PANICKED,
                    super::attributes::PANICKED,
                ));
            }
            // Caught as the attributes are; a panic in the expression leaves the span unlinked.
            let mut links = crate::panic_hook::caught(links).unwrap_or_default();
            self.push_code_location(&mut list);
            let mut builder = SpanBuilder::from_name(self.span_name())
                .with_kind(self.kind.clone())
                .with_attributes(list);
            let root_parent;
            let build_parent = if self.root {
                if parent_span_context.is_valid() {
                    links.insert(0, Link::with_context(parent_span_context.clone()));
                }
                // No parent span, so the sampler decides as for any root, with the caller's
                // baggage. The span's own context is still the caller's plus the new span.
                root_parent = root_context(parent);
                &root_parent
            } else {
                parent
            };
            if !links.is_empty() {
                builder = builder.with_links(links);
            }
            let cx = match &cached.tracer {
                #[cfg(feature = "sdk")]
                SiteTracer::Sdk(tracer) => {
                    parent.with_span(tracer.build_with_context(builder, build_parent))
                }
                SiteTracer::Global(tracer) => {
                    parent.with_span(tracer.build_with_context(builder, build_parent))
                }
            };
            let started = cx.span().span_context().clone();
            if !started.is_valid() || started.span_id() == parent_span_context.span_id() {
                // A no-op tracer: it hands back the parent's span context, or none.
                installed::records_nothing(generation);
                return None;
            }
            if crate::profiler::labels::active() {
                let local_root =
                    self.root || !parent_span_context.is_valid() || parent_span_context.is_remote();
                return Some(LiveSpan::profiled(cx, local_root, &self.names().span));
            }
            Some(LiveSpan::new(cx))
        };
        match explicit_parent() {
            Some(parent) => start_under(&parent),
            None => Context::map_current(start_under),
        }
    }

    /// The tracer of `generation`, made on this site's first call in it.
    #[inline]
    fn tracer(&self, generation: u64) -> Option<arc_swap::Guard<Option<Arc<CachedTracer>>>> {
        let cached = self.tracer.load();
        match &*cached {
            Some(tracer) if tracer.generation == generation => Some(cached),
            _ => self.tracer_uncached(generation),
        }
    }

    /// A newer generation may have been installed since the call read `generation` (another
    /// thread's look at the global provider): the span then goes to the newer one.
    #[cold]
    fn tracer_uncached(
        &self,
        generation: u64,
    ) -> Option<arc_swap::Guard<Option<Arc<CachedTracer>>>> {
        let installed =
            installed::current().filter(|installed| installed.generation >= generation)?;
        let (tracer, sampling) = installed.tracer(self.scope());
        self.tracer.store(Some(Arc::new(CachedTracer {
            generation: installed.generation,
            tracer,
            sampling,
        })));
        Some(self.tracer.load())
    }

    /// Adds the static code location.
    fn push_code_location(&self, list: &mut Vec<KeyValue>) {
        list.push(KeyValue::new(
            Key::from_static_str(attribute::CODE_FUNCTION_NAME),
            Value::String(StringValue::from(self.names().function)),
        ));
        list.push(KeyValue::new(
            Key::from_static_str(attribute::CODE_FILE_PATH),
            Value::String(StringValue::from(self.file)),
        ));
        list.push(KeyValue::new(
            Key::from_static_str(attribute::CODE_LINE_NUMBER),
            Value::I64(i64::from(self.line)),
        ));
    }

    /// The span name: given, or the function's.
    fn span_name(&self) -> &'static str {
        self.names().span
    }

    /// The instrumentation scope: the annotated function's crate and version.
    fn scope(&self) -> InstrumentationScope {
        InstrumentationScope::builder(self.scope_name)
            .with_version(self.scope_version)
            .build()
    }

    fn names(&self) -> &Names {
        self.names.get_or_init(|| {
            let path = (self.marker)();
            // Another attribute's expansion may have put this one's marker inside a closure.
            let path = path
                .strip_suffix(MARKER)
                .unwrap_or(path)
                .replace("::{{closure}}", "");
            let function = strip_generics(&path);
            let span = match self.name {
                Some(name) => name,
                None => leak(short_name(&function)),
            };
            Names {
                span,
                function: leak(function),
            }
        })
    }
}

/// The context a root span is built in: no parent span, the caller's baggage.
fn root_context(parent: &Context) -> Context {
    let baggage = parent.baggage();
    if baggage.is_empty() {
        return Context::new();
    }
    let entries: Baggage = baggage
        .iter()
        .map(|(key, (value, metadata))| (key.clone(), (value.clone(), metadata.clone())))
        .collect();
    Context::new().with_baggage(entries)
}

/// A span context that carries "not sampled" to children and outgoing requests, with no
/// span recorded behind it: the trace of `parent`, or a new one for a root.
/// Ids are drawn as the SDK's `RandomIdGenerator` draws them (uniform, never zero), from a
/// small non-cryptographic generator so that the library facade needs no SDK.
fn unsampled_child(parent: &SpanContext) -> SpanContext {
    let (trace_id, trace_state) = if parent.is_valid() {
        (parent.trace_id(), parent.trace_state().clone())
    } else {
        (TraceId::from(fastrand::u128(1..)), TraceState::default())
    };
    SpanContext::new(
        trace_id,
        SpanId::from(fastrand::u64(1..)),
        TraceFlags::default(),
        false,
        trace_state,
    )
}

/// Names are computed once per call site and live as long as the program: leaking them keeps
/// the per-call path free of reference counting.
fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

/// `a::Foo<T>::get` → `a::Foo::get`.
fn strip_generics(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut depth = 0usize;
    for (i, c) in path.char_indices() {
        match c {
            // `<` opens generics after a name; at the start or after `::` it opens a
            // qualified path (`<a::Foo as a::Tr>::f`), which is kept.
            '<' if i > 0 && !path[..i].ends_with("::") => depth += 1,
            '>' if depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    out
}

/// The default span name: `Type::method` for methods, `fn_name` for free fns (nested ones
/// included). Types are told from modules and fns by their UpperCamelCase name, which Rust's
/// naming lints enforce.
fn short_name(function: &str) -> String {
    // `<krate::a::Foo as krate::a::Tr>::method`
    if let Some(rest) = function.strip_prefix('<')
        && let Some((qualified, method)) = rest.split_once(">::")
    {
        let ty = qualified.split(" as ").next().unwrap_or(qualified);
        let ty = ty.rsplit("::").next().unwrap_or(ty);
        return format!("{ty}::{method}");
    }
    let mut segments = function.rsplit("::");
    match (segments.next(), segments.next()) {
        (Some(method), Some(ty)) if ty.starts_with(|c: char| c.is_ascii_uppercase()) => {
            format!("{ty}::{method}")
        }
        (Some(name), _) => name.to_owned(),
        _ => function.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_free_fns_methods_and_trait_impls() {
        let name = |path: &str| short_name(&strip_generics(path));
        assert_eq!(name("shop::orders::checkout"), "checkout");
        assert_eq!(name("shop::main::place"), "place");
        assert_eq!(name("shop::orders::Cart<_>::total"), "Cart::total");
        assert_eq!(
            name("<shop::orders::Cart<_> as shop::orders::Priced>::price"),
            "Cart::price"
        );
        assert_eq!(name("shop::other::Cart::total"), "Cart::total");
        assert_eq!(
            strip_generics("<a::Foo<Vec<u8>> as a::Tr<i32>>::f"),
            "<a::Foo as a::Tr>::f"
        );
    }
}
