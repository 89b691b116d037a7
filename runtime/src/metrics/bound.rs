//! A histogram bound once per attribute set, for the few sets recorded again and again (an
//! HTTP route × method × status, a database statement on one server): a call then skips the
//! SDK's lookup of its attributes, which hashes and compares every key and value.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{BoundHistogram, Histogram};

/// At most this many bound sets per histogram; past it, values are recorded unbound (the
/// SDK's own cardinality limit still applies).
const MOST_BOUND: usize = 1024;

#[derive(Debug)]
pub(crate) struct BoundHistograms<K> {
    histogram: Histogram<f64>,
    bound: RwLock<HashMap<K, BoundHistogram<f64>>>,
}

impl<K: Hash + Eq> BoundHistograms<K> {
    pub(crate) fn new(histogram: Histogram<f64>) -> Self {
        Self {
            histogram,
            bound: RwLock::new(HashMap::new()),
        }
    }

    /// Records `value` for the attribute set `key` names; `attributes` makes the set the
    /// first time `key` is seen.
    pub(crate) fn record(&self, value: f64, key: K, attributes: impl FnOnce() -> Vec<KeyValue>) {
        {
            let bound = crate::sync::read(&self.bound);
            if let Some(histogram) = bound.get(&key) {
                histogram.record(value);
                return;
            }
            if bound.len() >= MOST_BOUND {
                drop(bound);
                self.histogram.record(value, &attributes());
                return;
            }
        }
        let mut bound = crate::sync::write(&self.bound);
        bound
            .entry(key)
            .or_insert_with(|| self.histogram.bind(&attributes()))
            .record(value);
    }
}
