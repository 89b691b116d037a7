//! The error an annotated fn recorded while serving a request, kept for the server span: when
//! the handler turns it into a 5xx, the server span gets the exception too (opt-in:
//! `ServerLayer::record_handler_errors`), as the reference stacks record the exception that
//! escaped the handler.

use std::sync::{Arc, Mutex};

use opentelemetry::{Context, KeyValue};

use super::outcome::ErrorReport;

/// A request's slot, carried in its context (and so in the context of every span under it).
#[derive(Debug, Clone, Default)]
pub(crate) struct HandlerErrors(Arc<Mutex<Option<Recorded>>>);

/// The last error recorded: errors travel outwards, so the last is the one nearest the handler.
#[derive(Debug)]
pub(crate) struct Recorded {
    pub(crate) message: String,
    pub(crate) attributes: Vec<KeyValue>,
}

impl HandlerErrors {
    /// The context of a request that keeps its handler's errors.
    pub(crate) fn attach_to(cx: Context) -> Context {
        cx.with_value(Self::default())
    }

    /// The error recorded under `cx`, if any.
    pub(crate) fn take(cx: &Context) -> Option<Recorded> {
        cx.get::<Self>()
            .and_then(|slot| crate::sync::lock(&slot.0).take())
    }
}

/// Keeps `report` for the request `cx` belongs to, if it keeps errors. On the error path only.
pub(crate) fn keep(cx: &Context, report: &ErrorReport) {
    if let Some(slot) = cx.get::<HandlerErrors>() {
        *crate::sync::lock(&slot.0) = Some(Recorded {
            message: report.message.clone(),
            attributes: report.exception_attributes().collect(),
        });
    }
}
