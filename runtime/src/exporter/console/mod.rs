//! Human-first console output: finished traces as indented trees, metrics as a compact
//! summary, log records as one line each, on stdout.

mod logs;
mod metrics;
mod style;
mod traces;

pub(crate) use logs::ConsoleLogExporter;
pub(crate) use metrics::ConsoleMetricExporter;
pub(crate) use traces::ConsoleSpanExporter;
