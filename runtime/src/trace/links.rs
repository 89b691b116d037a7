//! Span links: what `#[otel::span(links = ..)]` and [`add_link`](crate::current_span::add_link)
//! accept as "the span to link to".

use opentelemetry::trace::{Link, SpanContext, TraceContextExt as _};
use opentelemetry::{Context, KeyValue};

/// Something naming a span to link to: a `SpanContext`, a `Context` (its span: what
/// [`propagation::extract`](crate::propagation::extract) returns for a message's headers), or
/// a `Link` with attributes of its own; references to them; `Option`s of them. A context
/// without a valid span (a message that carried none) links to nothing.
///
/// ```
/// use otel::opentelemetry::trace::{Link, SpanContext};
/// use otel::opentelemetry::{Context, KeyValue};
///
/// fn links(previous: &SpanContext, message: &Context) -> Vec<Link> {
///     use otel::IntoLink as _;
///     let mut links: Vec<Link> = [previous.into_link(), message.into_link()]
///         .into_iter()
///         .flatten()
///         .collect();
///     links.push(Link::new(previous.clone(), vec![KeyValue::new("retry.attempt", 2)], 0));
///     links
/// }
/// # let _ = links(&SpanContext::empty_context(), &Context::new());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a span to link to",
    label = "not a span context",
    note = "`links` takes span contexts, contexts or links (or references to them), such as \
            `links = [otel::propagation::extract(&message.headers)]` or \
            `links = batch.iter().map(|message| &message.context)`"
)]
pub trait IntoLink {
    /// The link, `None` when there is no valid span to link to.
    fn into_link(self) -> Option<Link>;
}

impl IntoLink for SpanContext {
    fn into_link(self) -> Option<Link> {
        self.is_valid().then(|| Link::with_context(self))
    }
}

impl IntoLink for &SpanContext {
    fn into_link(self) -> Option<Link> {
        self.clone().into_link()
    }
}

impl IntoLink for &Context {
    fn into_link(self) -> Option<Link> {
        self.span().span_context().into_link()
    }
}

impl IntoLink for Context {
    fn into_link(self) -> Option<Link> {
        (&self).into_link()
    }
}

impl IntoLink for Link {
    fn into_link(self) -> Option<Link> {
        self.span_context.is_valid().then_some(self)
    }
}

impl IntoLink for &Link {
    fn into_link(self) -> Option<Link> {
        self.clone().into_link()
    }
}

impl<T: IntoLink> IntoLink for Option<T> {
    fn into_link(self) -> Option<Link> {
        self.and_then(IntoLink::into_link)
    }
}

/// The links of `links = <expr>`: any iterable of [`IntoLink`]s. Not a public API.
pub fn collect<I>(links: I) -> Vec<Link>
where
    I: IntoIterator,
    I::Item: IntoLink,
{
    links.into_iter().filter_map(IntoLink::into_link).collect()
}

/// A link's span context and attributes, for `Span::add_link`.
pub(crate) fn parts(link: Link) -> (SpanContext, Vec<KeyValue>) {
    (link.span_context, link.attributes)
}
