//! Which `tracing` events and spans the bridge takes: those the resolved `log_filter` (an
//! `EnvFilter`) enables, never the export path's own (exporting them would export again).
//!
//! Records of the `log` crate arrive through one `tracing` callsite per level whose target is
//! `log`; their real target (`reqwest::connect`, say) is a field. Filtering them on the
//! callsite would apply `log_filter`'s directives to `log` and let the exporters' own HTTP
//! client records through, so they are decided per event on the target tracing-log restores.

use tracing::subscriber::Interest;
use tracing::{Metadata, span};
use tracing_log::NormalizeEvent as _;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Filter};

use super::is_export_path;

/// The bridge's filter: `log_filter`, minus the export path, on real targets.
pub(super) struct BridgeFilter {
    log_filter: EnvFilter,
}

impl BridgeFilter {
    pub(super) fn new(log_filter: &str) -> BridgeFilter {
        BridgeFilter {
            log_filter: EnvFilter::builder().parse_lossy(log_filter),
        }
    }

    fn takes<S>(&self, metadata: &Metadata<'_>, cx: &Context<'_, S>) -> bool
    where
        S: tracing::Subscriber,
    {
        !is_export_path(metadata) && Filter::<S>::enabled(&self.log_filter, metadata, cx)
    }
}

/// Whether a callsite is tracing-log's, standing for every `log` record of its level.
fn is_log_callsite(metadata: &Metadata<'_>) -> bool {
    metadata.fields().field("log.target").is_some()
}

impl<S: tracing::Subscriber> Filter<S> for BridgeFilter {
    fn enabled(&self, metadata: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        is_log_callsite(metadata) || self.takes(metadata, cx)
    }

    fn event_enabled(&self, event: &tracing::Event<'_>, cx: &Context<'_, S>) -> bool {
        match event.normalized_metadata() {
            Some(metadata) => self.takes(&metadata, cx),
            None => true,
        }
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        if is_log_callsite(metadata) {
            Interest::sometimes()
        } else if is_export_path(metadata) {
            Interest::never()
        } else {
            Filter::<S>::callsite_enabled(&self.log_filter, metadata)
        }
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Filter::<S>::max_level_hint(&self.log_filter)
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, cx: Context<'_, S>) {
        Filter::on_new_span(&self.log_filter, attrs, id, cx);
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, cx: Context<'_, S>) {
        Filter::on_record(&self.log_filter, id, values, cx);
    }

    fn on_enter(&self, id: &span::Id, cx: Context<'_, S>) {
        Filter::on_enter(&self.log_filter, id, cx);
    }

    fn on_exit(&self, id: &span::Id, cx: Context<'_, S>) {
        Filter::on_exit(&self.log_filter, id, cx);
    }

    fn on_close(&self, id: span::Id, cx: Context<'_, S>) {
        Filter::on_close(&self.log_filter, id, cx);
    }
}
