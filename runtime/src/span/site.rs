//! One `static` per annotated function: its span name, kind and code location, and the tracer
//! of its crate, made on first use.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use opentelemetry::trace::{
    Link, SpanContext, SpanKind, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Context, InstrumentationScope, Key, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::{IdGenerator as _, RandomIdGenerator};

use super::backend::{self, Backend};
use super::clock;
use super::live::LiveSpan;
use super::record::{SpanRecord, span_links};
use super::recording::{RecordingSpan, SpanCell};

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
    scope: OnceLock<InstrumentationScope>,
    /// The backend of the first generation this site recorded in.
    backend: OnceLock<Arc<Backend>>,
}

#[derive(Debug)]
struct Names {
    span: &'static str,
    function: &'static str,
}

impl SpanSite {
    #[allow(clippy::too_many_arguments)]
    #[doc(hidden)]
    pub const fn new(
        name: Option<&'static str>,
        kind: SpanKind,
        marker: fn() -> &'static str,
        file: &'static str,
        line: u32,
        scope: (&'static str, &'static str),
        root: bool,
        attribute_count: usize,
    ) -> Self {
        Self {
            name,
            kind,
            marker,
            file,
            line,
            scope_name: scope.0,
            scope_version: scope.1,
            root,
            attribute_count,
            names: OnceLock::new(),
            scope: OnceLock::new(),
            backend: OnceLock::new(),
        }
    }

    /// The span as a context child of the current one (a new trace for `root`). `None` when
    /// the span is certainly not sampled and `unsampled_context` is `false`: nothing below it
    /// records either (the sampler follows the parent or drops everything), so a sync body
    /// can run in the caller's context unchanged. Futures ask for `unsampled_context`, a span
    /// context that carries "not sampled" into whatever task polls them.
    #[inline]
    pub(crate) fn start(
        &'static self,
        generation: u64,
        attributes: impl FnOnce(&mut Vec<KeyValue>),
        unsampled_context: bool,
    ) -> Option<LiveSpan> {
        Context::map_current(|parent| {
            if parent.is_telemetry_suppressed() {
                return None;
            }
            let parent_span = parent.span();
            let parent_span_context = parent_span.span_context();
            let sampling_parent = if self.root {
                &SpanContext::NONE
            } else {
                parent_span_context
            };
            let sampling = backend::sampling();
            if sampling.certainly_drops(sampling_parent) {
                return (unsampled_context || self.root).then(|| {
                    let trace_id = trace_id_under(sampling_parent);
                    LiveSpan::unsampled(
                        parent.with_remote_span_context(unsampled_child(sampling_parent, trace_id)),
                    )
                });
            }
            let backend = self.backend(generation)?;
            let trace_id = trace_id_under(sampling_parent);
            if !sampling.samples(sampling_parent, trace_id, backend.ratio) {
                // A ratio sampler dropped this root: its children must follow, so they get
                // the decision even in a sync body.
                return Some(LiveSpan::unsampled(parent.with_remote_span_context(
                    unsampled_child(sampling_parent, trace_id),
                )));
            }
            let span_context = SpanContext::new(
                trace_id,
                RandomIdGenerator::default().new_span_id(),
                sampling_parent.trace_flags().with_sampled(true),
                false,
                sampling_parent.trace_state().clone(),
            );
            let mut list = Vec::with_capacity(SpanRecord::attribute_capacity(self.attribute_count));
            attributes(&mut list);
            let start_time = clock::now();
            let mut record = SpanRecord {
                site: self,
                generation,
                span_context: span_context.clone(),
                parent_span_id: sampling_parent.span_id(),
                parent_span_is_remote: sampling_parent.is_valid() && sampling_parent.is_remote(),
                start_time,
                end_time: start_time,
                attributes: list,
                dropped_attributes_count: 0,
                details: None,
                error: None,
            };
            if self.root && parent_span_context.is_valid() {
                let links = vec![Link::with_context(parent_span_context.clone())];
                record.details().links = span_links(links, &backend.limits);
            }
            let cell = Arc::new(SpanCell::new(record, backend.limits));
            let span = RecordingSpan::new(span_context, cell.clone());
            Some(LiveSpan::recording(parent.with_span(span), cell))
        })
    }

    /// The backend of `generation`, cached on first use. After a different backend is
    /// installed (a second `init`), it is looked up per call: correct, slower, rare.
    #[inline]
    pub(crate) fn backend(&self, generation: u64) -> Option<Cow<'_, Arc<Backend>>> {
        match self.backend.get() {
            Some(backend) if backend.generation == generation => Some(Cow::Borrowed(backend)),
            _ => self.backend_uncached(generation),
        }
    }

    #[cold]
    fn backend_uncached(&self, generation: u64) -> Option<Cow<'_, Arc<Backend>>> {
        let backend = backend::current().filter(|backend| backend.generation == generation)?;
        let _ = self.backend.set(backend.clone());
        Some(Cow::Owned(backend))
    }

    /// Adds the static code location: built here, on the collector thread, not per call.
    pub(crate) fn push_code_location(&self, list: &mut Vec<KeyValue>) {
        list.push(KeyValue::new(
            Key::from_static_str("code.function.name"),
            Value::String(StringValue::from(self.names().function)),
        ));
        list.push(KeyValue::new(
            Key::from_static_str("code.file.path"),
            Value::String(StringValue::from(self.file)),
        ));
        list.push(KeyValue::new(
            Key::from_static_str("code.line.number"),
            Value::I64(i64::from(self.line)),
        ));
    }

    /// The span name: given, or the function's.
    pub(crate) fn span_name(&self) -> &'static str {
        self.names().span
    }

    pub(crate) fn kind(&self) -> &SpanKind {
        &self.kind
    }

    /// The instrumentation scope: the annotated function's crate and version.
    pub(crate) fn scope(&self) -> &InstrumentationScope {
        self.scope.get_or_init(|| {
            InstrumentationScope::builder(self.scope_name)
                .with_version(self.scope_version)
                .build()
        })
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

/// The trace a child of `parent` belongs to: the parent's, or a new one for a root.
fn trace_id_under(parent: &SpanContext) -> TraceId {
    if parent.is_valid() {
        parent.trace_id()
    } else {
        RandomIdGenerator::default().new_trace_id()
    }
}

/// A span context that carries "not sampled" to children and outgoing requests, with no
/// span recorded behind it.
fn unsampled_child(parent: &SpanContext, trace_id: TraceId) -> SpanContext {
    let trace_state = if parent.is_valid() {
        parent.trace_state().clone()
    } else {
        TraceState::default()
    };
    SpanContext::new(
        trace_id,
        RandomIdGenerator::default().new_span_id(),
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
