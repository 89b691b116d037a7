//! The pool metrics of the conventions: `db.client.connection.count` by state,
//! `db.client.connection.max`, `db.client.connection.idle.min`, observed from every live
//! [`Pool`](super::Pool) on each collection; `db.client.connection.wait_time` and
//! `db.client.connection.timeouts`, recorded at each checkout.
//!
//! The observed instruments are registered once per installed meter provider, their
//! callbacks reading a registry of the pools alive; a dropped pool leaves it by itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use opentelemetry::metrics::{Counter, Histogram};
use opentelemetry::{InstrumentationScope, KeyValue, StringValue, global};
use opentelemetry_semantic_conventions::{attribute, metric};
use sqlx_core::database::Database;

use super::{Client, Shared};
use crate::generation::PerGeneration;

/// What a collection reads of one pool.
trait PoolReading: Send + Sync {
    fn name(&self) -> StringValue;
    /// Connections in use and idle.
    fn connections(&self) -> (u64, u64);
    /// The pool's maximum and minimum sizes.
    fn bounds(&self) -> (u64, u64);
}

impl<DB: Database> PoolReading for Shared<DB> {
    fn name(&self) -> StringValue {
        self.client.pool_name.clone()
    }

    fn connections(&self) -> (u64, u64) {
        let size = u64::from(self.inner.size());
        let idle = u64::try_from(self.inner.num_idle()).unwrap_or(u64::MAX);
        (size.saturating_sub(idle), idle)
    }

    fn bounds(&self) -> (u64, u64) {
        let options = self.inner.options();
        (
            u64::from(options.get_max_connections()),
            u64::from(options.get_min_connections()),
        )
    }
}

static POOLS: Mutex<Vec<Weak<dyn PoolReading>>> = Mutex::new(Vec::new());

/// The meter generation the observed instruments were registered in, plus one (`0`: never).
static REGISTERED: AtomicU64 = AtomicU64::new(0);

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("otel.sqlx")
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_schema_url(opentelemetry_semantic_conventions::SCHEMA_URL)
        .build()
}

/// Adds a pool to those observed.
pub(super) fn register<DB: Database>(pool: &Arc<Shared<DB>>) {
    let reading: Arc<dyn PoolReading> = pool.clone();
    {
        let mut pools = crate::sync::lock(&POOLS);
        pools.retain(|pool| pool.strong_count() > 0);
        pools.push(Arc::downgrade(&reading));
    }
    observe_in_current_provider();
}

/// Registers the observed instruments with the meter provider installed now, once per
/// provider (with a provider installed by hand, once).
fn observe_in_current_provider() {
    let generation = crate::metrics::backend::generation() + 1;
    let registered = REGISTERED.load(Ordering::Relaxed);
    if registered == generation || (generation == 1 && registered != 0) {
        return;
    }
    if REGISTERED
        .compare_exchange(registered, generation, Ordering::AcqRel, Ordering::Relaxed)
        .is_err()
    {
        return;
    }
    let meter = global::meter_provider().meter_with_scope(scope());
    meter
        .i64_observable_up_down_counter(metric::DB_CLIENT_CONNECTION_COUNT)
        .with_unit("{connection}")
        .with_description("The number of connections that are currently in the state described by the state attribute.")
        .with_callback(|observer| {
            each_pool(|name, pool| {
                let (used, idle) = pool.connections();
                for (state, count) in [("used", used), ("idle", idle)] {
                    observer.observe(
                        i64::try_from(count).unwrap_or(i64::MAX),
                        &[
                            KeyValue::new(attribute::DB_CLIENT_CONNECTION_POOL_NAME, name.clone()),
                            KeyValue::new(attribute::DB_CLIENT_CONNECTION_STATE, state),
                        ],
                    );
                }
            });
        })
        .build();
    let bounds: [PoolBound; 2] = [
        (
            metric::DB_CLIENT_CONNECTION_MAX,
            "The maximum number of open connections allowed.",
            |pool| pool.max,
        ),
        (
            metric::DB_CLIENT_CONNECTION_IDLE_MIN,
            "The minimum number of idle open connections allowed.",
            |pool| pool.min,
        ),
    ];
    for (name, description, bound) in bounds {
        meter
            .i64_observable_up_down_counter(name)
            .with_unit("{connection}")
            .with_description(description)
            .with_callback(move |observer| {
                each_pool(|name, pool| {
                    observer.observe(
                        i64::try_from(bound(pool)).unwrap_or(i64::MAX),
                        &[KeyValue::new(
                            attribute::DB_CLIENT_CONNECTION_POOL_NAME,
                            name,
                        )],
                    );
                });
            })
            .build();
    }
}

/// An observed pool size: instrument name, description, and how to read it.
type PoolBound = (&'static str, &'static str, fn(&SummedPool) -> u64);

/// Calls `read` for each live pool; pools sharing a name are added up, as one pool.
fn each_pool(mut read: impl FnMut(StringValue, &SummedPool)) {
    let pools: Vec<Arc<dyn PoolReading>> = crate::sync::lock(&POOLS)
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
    let mut summed: Vec<(StringValue, SummedPool)> = Vec::new();
    for pool in pools {
        let name = pool.name();
        let (used, idle) = pool.connections();
        let (max, min) = pool.bounds();
        match summed.iter_mut().find(|(known, _)| *known == name) {
            Some((_, sum)) => {
                sum.used += used;
                sum.idle += idle;
                sum.max += max;
                sum.min += min;
            }
            None => summed.push((
                name,
                SummedPool {
                    used,
                    idle,
                    max,
                    min,
                },
            )),
        }
    }
    for (name, pool) in &summed {
        read(name.clone(), pool);
    }
}

/// The pools of one name, added up.
struct SummedPool {
    used: u64,
    idle: u64,
    max: u64,
    min: u64,
}

impl SummedPool {
    fn connections(&self) -> (u64, u64) {
        (self.used, self.idle)
    }
}

/// Records a checkout's wait, and a timeout when it gave up.
pub(super) fn waited(client: &Client, started: Instant, error: Option<&sqlx_core::Error>) {
    if crate::metrics::backend::generation() == 0 && crate::trace::installed::generation() == 0 {
        return;
    }
    observe_in_current_provider();
    let pool = [KeyValue::new(
        attribute::DB_CLIENT_CONNECTION_POOL_NAME,
        client.pool_name.clone(),
    )];
    instruments()
        .0
        .record(started.elapsed().as_secs_f64(), &pool);
    if matches!(error, Some(sqlx_core::Error::PoolTimedOut)) {
        instruments().1.add(1, &pool);
    }
}

/// `db.client.connection.wait_time` and `db.client.connection.timeouts`.
fn instruments() -> (Histogram<f64>, Counter<u64>) {
    static INSTRUMENTS: PerGeneration<(Histogram<f64>, Counter<u64>)> = PerGeneration::new();
    INSTRUMENTS.get(crate::metrics::backend::generation(), || {
        let meter = global::meter_provider().meter_with_scope(scope());
        (
            meter
                .f64_histogram(metric::DB_CLIENT_CONNECTION_WAIT_TIME)
                .with_unit("s")
                .with_description("The time it took to obtain an open connection from the pool.")
                .with_boundaries(super::super::DURATION_BUCKETS.to_vec())
                .build(),
            meter
                .u64_counter(metric::DB_CLIENT_CONNECTION_TIMEOUTS)
                .with_unit("{timeout}")
                .with_description("The number of connection timeouts that have occurred trying to obtain a connection from the pool.")
                .build(),
        )
    })
}
