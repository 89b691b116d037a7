//! sqlx, traced (feature `sqlx`): wrap the pool once, keep writing sqlx.
//!
//! ```no_run
//! # async fn run() -> Result<(), sqlx::Error> {
//! let pool = otel::sqlx::Pool::new(sqlx::PgPool::connect("postgres://app@localhost/shop").await?);
//!
//! // Every query through `&pool` is a client span under the current span.
//! let names: Vec<(String,)> = sqlx::query_as("SELECT name FROM items WHERE price < $1")
//!     .bind(100)
//!     .fetch_all(&pool)
//!     .await?;
//!
//! // Transactions and checked-out connections, as in sqlx: `&mut *tx`, `&mut *conn`.
//! let mut tx = pool.begin().await?;
//! sqlx::query("UPDATE items SET price = price * 2").execute(&mut *tx).await?;
//! tx.commit().await?;
//! # let _ = names;
//! # Ok(())
//! # }
//! ```
//!
//! Each query's span is named by its `db.query.summary` (`SELECT items`) and carries
//! `db.system.name`, `db.namespace`, `server.address`, `server.port`, `db.operation.name`,
//! `db.collection.name` (when the statement names one table), `db.query.text` with every
//! literal replaced by `?` ([`QueryText`] changes that), `db.response.returned_rows`, and on
//! failure `db.response.status_code` (the SQLSTATE) and `error.type`. Each query also records
//! `db.client.operation.duration`, and each pool the `db.client.connection.*` metrics.
//!
//! Any sqlx driver works (PostgreSQL, MySQL, SQLite, `Any`): the application enables it in
//! its own sqlx dependency. Nothing here reads or records the password of the connection
//! options.

mod executor;
mod pool_metrics;

use std::borrow::Cow;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Instant;

use opentelemetry::StringValue;
use opentelemetry_semantic_conventions::attribute;
use sqlx_core::connection::ConnectOptions as _;
use sqlx_core::database::Database;

use super::sql::Dialect;
use super::{Description, Instrumentation, Outcome, Target};

static INSTRUMENTATION: Instrumentation = Instrumentation::new("otel.sqlx");

/// What `db.query.text` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum QueryText {
    /// The statement with every string and number literal replaced by `?`, comments
    /// removed and `IN (...)` lists of literals folded to `IN (?)`. Bound parameters (`$1`)
    /// are never values of the text, so parameterized queries lose nothing.
    #[default]
    Sanitized,
    /// The statement as the application wrote it, literals included: only for statements
    /// known to hold no personal or secret data.
    Raw,
    /// No `db.query.text`; the span keeps its summary, operation and table.
    Off,
}

/// What every operation of one pool shares.
#[derive(Debug)]
struct Client {
    target: Target,
    dialect: Dialect,
    query_text: QueryText,
    pool_name: StringValue,
}

impl Client {
    fn for_pool<DB: Database>(pool: &sqlx_core::pool::Pool<DB>) -> Self {
        let (target, dialect) = target_of::<DB>(&pool.connect_options());
        let pool_name = default_pool_name(&target);
        Self {
            target,
            dialect,
            query_text: QueryText::default(),
            pool_name,
        }
    }

    /// Starts the operation that runs `sql`.
    fn start(&self, sql: &str) -> Option<super::Operation> {
        INSTRUMENTATION.start(&self.target, || {
            let analysis = super::sql::analyze_cached(sql, self.dialect);
            let values = &analysis.values;
            Description {
                operation: values.operation.clone(),
                collection: values.collection.clone(),
                summary: values.summary.clone(),
                text: match self.query_text {
                    QueryText::Sanitized => values.sanitized.clone(),
                    QueryText::Raw => Some(super::bounded(sql.to_owned()).into()),
                    QueryText::Off => None,
                },
                batch_size: None,
            }
        })
    }

    /// Starts a transaction-control operation (`BEGIN`, `COMMIT`, `ROLLBACK`), which sqlx
    /// sends without a statement the application wrote.
    fn start_control(&self, operation: &'static str) -> Option<super::Operation> {
        INSTRUMENTATION.start(&self.target, || Description {
            operation: Some(operation.into()),
            summary: Some(operation.into()),
            text: (self.query_text != QueryText::Off).then(|| operation.into()),
            ..Description::default()
        })
    }
}

/// `db.system.name`, `db.namespace`, `server.address` and `server.port` from the connect
/// options, read through the options' URL form (host, port and path only).
fn target_of<DB: Database>(
    options: &<DB::Connection as sqlx_core::connection::Connection>::Options,
) -> (Target, Dialect) {
    // `to_url_lossy` panics in drivers that do not implement it, and SQLite's panics on an
    // in-memory database: only the server databases are asked (SQLite has no server to
    // name), and a panic is caught and taken as no URL.
    let url = matches!(DB::NAME, "PostgreSQL" | "MySQL" | "Any")
        .then(|| crate::panic_hook::caught(|| options.to_url_lossy()))
        .flatten();
    let scheme = url.as_ref().map_or("", |url| url.scheme());
    let system: &'static str = match (DB::NAME, scheme) {
        (_, "postgres" | "postgresql") | ("PostgreSQL", _) => "postgresql",
        (_, "mariadb") => "mariadb",
        (_, "mysql") | ("MySQL", _) => "mysql",
        (_, "sqlite") | ("SQLite", _) => "sqlite",
        _ => "other_sql",
    };
    let dialect = if matches!(system, "mysql" | "mariadb") {
        Dialect::MySql
    } else {
        Dialect::Standard
    };
    let Some(url) = url.filter(|_| system != "sqlite") else {
        return (Target::new(system, None, None, None), dialect);
    };
    let namespace = url
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .filter(|name| !name.is_empty())
        .map(|name| {
            percent_encoding::percent_decode_str(name)
                .decode_utf8_lossy()
                .into_owned()
        });
    let address = url.host_str().map(|host| {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned()
    });
    let port = url.port().or(match system {
        "postgresql" => Some(5432),
        "mysql" | "mariadb" => Some(3306),
        _ => None,
    });
    (Target::new(system, namespace, address, port), dialect)
}

/// The conventions' default pool name: `server.address:server.port/db.namespace`.
fn default_pool_name(target: &Target) -> StringValue {
    let part = |key: &str| {
        target
            .attribute(key)
            .map(|value| value.as_str().into_owned())
            .unwrap_or_default()
    };
    let mut name = part(attribute::SERVER_ADDRESS);
    let port = part(attribute::SERVER_PORT);
    if !port.is_empty() {
        name.push(':');
        name.push_str(&port);
    }
    let namespace = part(attribute::DB_NAMESPACE);
    if !namespace.is_empty() {
        name.push('/');
        name.push_str(&namespace);
    }
    if name.is_empty() {
        name = part(attribute::DB_SYSTEM_NAME);
    }
    name.into()
}

/// A sqlx [`Pool`](sqlx_core::pool::Pool) whose queries are traced: `&pool` is an
/// `Executor`, as `&sqlx::Pool` is. Cheap to clone, like the pool it wraps.
///
/// The pool's connections are reported as `db.client.connection.count` (by
/// `db.client.connection.state` = `idle` | `used`), `db.client.connection.max` and
/// `db.client.connection.idle.min`, and each wait for a connection as
/// `db.client.connection.wait_time` (and `db.client.connection.timeouts` when it gives up),
/// all by `db.client.connection.pool.name`.
pub struct Pool<DB: Database> {
    shared: Arc<Shared<DB>>,
}

struct Shared<DB: Database> {
    inner: sqlx_core::pool::Pool<DB>,
    client: Client,
}

impl<DB: Database> Clone for Pool<DB> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<DB: Database> fmt::Debug for Pool<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("pool_name", &self.shared.client.pool_name.as_str())
            .field("target", &self.shared.client.target)
            .finish_non_exhaustive()
    }
}

impl<DB: Database> Pool<DB> {
    /// Traces the queries of `pool`. Where it connects (host, port, database) is read from
    /// its connect options once.
    pub fn new(pool: sqlx_core::pool::Pool<DB>) -> Self {
        let client = Client::for_pool(&pool);
        Self::from_parts(pool, client)
    }

    fn from_parts(inner: sqlx_core::pool::Pool<DB>, client: Client) -> Self {
        let shared = Arc::new(Shared { inner, client });
        pool_metrics::register(&shared);
        Self { shared }
    }

    fn rebuild(self, change: impl FnOnce(&mut Client)) -> Self {
        let inner = self.shared.inner.clone();
        let mut client = Client {
            target: self.shared.client.target.clone(),
            dialect: self.shared.client.dialect,
            query_text: self.shared.client.query_text,
            pool_name: self.shared.client.pool_name.clone(),
        };
        change(&mut client);
        Self::from_parts(inner, client)
    }

    /// What `db.query.text` records (default: [`QueryText::Sanitized`]).
    ///
    /// ```no_run
    /// # async fn run(pool: sqlx::PgPool) {
    /// let pool = otel::sqlx::Pool::new(pool).query_text(otel::sqlx::QueryText::Off);
    /// # let _ = pool;
    /// # }
    /// ```
    #[must_use]
    pub fn query_text(self, query_text: QueryText) -> Self {
        self.rebuild(|client| client.query_text = query_text)
    }

    /// The `db.client.connection.pool.name` of the pool metrics (default:
    /// `server.address:server.port/db.namespace`, as the conventions suggest).
    #[must_use]
    pub fn pool_name(self, name: impl Into<Cow<'static, str>>) -> Self {
        let name = StringValue::from(name.into());
        self.rebuild(|client| client.pool_name = name)
    }

    /// The sqlx pool, for what this wrapper does not offer. Queries sent through it directly
    /// are not traced.
    pub fn inner(&self) -> &sqlx_core::pool::Pool<DB> {
        &self.shared.inner
    }

    /// Checks out a connection, as `sqlx::Pool::acquire`; queries through `&mut *conn` are
    /// traced. The wait is recorded as `db.client.connection.wait_time`.
    pub async fn acquire(&self) -> Result<PoolConnection<DB>, sqlx_core::Error> {
        let inner = self.acquire_timed().await?;
        Ok(PoolConnection {
            connection: Connection {
                inner,
                shared: self.shared.clone(),
            },
        })
    }

    /// Starts a transaction on a connection of the pool, as `sqlx::Pool::begin`: the `BEGIN`
    /// is a span; queries through `&mut *tx` are traced, and so are `commit` and `rollback`.
    pub async fn begin(&self) -> Result<Transaction<'static, DB>, sqlx_core::Error> {
        // The span covers the wait for a connection too, as a query's does.
        let operation = self.shared.client.start_control("BEGIN");
        let begun = super::in_operation(operation.as_ref(), async {
            let connection = self.acquire_timed().await?;
            sqlx_core::transaction::Transaction::begin(connection, None).await
        })
        .await;
        executor::end(operation, begun.as_ref().map(|_| None));
        Ok(Transaction {
            connection: Connection {
                inner: begun?,
                shared: self.shared.clone(),
            },
        })
    }

    /// Closes the pool, as `sqlx::Pool::close`.
    pub async fn close(&self) {
        self.shared.inner.close().await;
    }

    /// Checks out a connection of the sqlx pool, timing the wait.
    async fn acquire_timed(&self) -> Result<sqlx_core::pool::PoolConnection<DB>, sqlx_core::Error> {
        let started = Instant::now();
        let acquired = self.shared.inner.acquire().await;
        pool_metrics::waited(&self.shared.client, started, acquired.as_ref().err());
        acquired
    }
}

/// A connection whose queries are traced: `&mut connection` is an `Executor`. It wraps
/// whatever dereferences to a sqlx connection: a pool's connection, a transaction, or a
/// connection of your own in a `Box` ([`Pool::connection`] makes one).
///
/// [`Transaction`] and [`PoolConnection`] dereference to it, so sqlx's `&mut *tx` and
/// `&mut *conn` are traced as they are written.
pub struct Connection<C, DB: Database> {
    inner: C,
    shared: Arc<Shared<DB>>,
}

impl<C, DB: Database> fmt::Debug for Connection<C, DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("pool_name", &self.shared.client.pool_name.as_str())
            .finish_non_exhaustive()
    }
}

impl<C, DB: Database> Connection<C, DB> {
    /// The wrapped connection. Queries sent through it directly are not traced.
    pub fn inner_mut(&mut self) -> &mut C {
        &mut self.inner
    }

    /// The wrapped connection, no longer traced.
    pub fn into_inner(self) -> C {
        self.inner
    }
}

impl<DB: Database> Pool<DB> {
    /// Traces the queries of a connection made outside the pool (`PgConnection::connect`),
    /// with this pool's target and options: `&mut conn` is then an `Executor`.
    pub fn connection<C>(&self, connection: C) -> Connection<Box<C>, DB> {
        Connection {
            inner: Box::new(connection),
            shared: self.shared.clone(),
        }
    }
}

/// A connection checked out of a [`Pool`]; `&mut *conn` is a traced `Executor`. Returned to
/// the pool when dropped.
#[derive(Debug)]
pub struct PoolConnection<DB: Database> {
    connection: Connection<sqlx_core::pool::PoolConnection<DB>, DB>,
}

impl<DB: Database> Deref for PoolConnection<DB> {
    type Target = Connection<sqlx_core::pool::PoolConnection<DB>, DB>;

    fn deref(&self) -> &Self::Target {
        &self.connection
    }
}

impl<DB: Database> DerefMut for PoolConnection<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.connection
    }
}

impl<DB: Database> PoolConnection<DB> {
    /// Starts a transaction on this connection; its queries are traced.
    pub async fn begin(&mut self) -> Result<Transaction<'_, DB>, sqlx_core::Error> {
        let shared = self.connection.shared.clone();
        let operation = shared.client.start_control("BEGIN");
        let begun = super::in_operation(
            operation.as_ref(),
            sqlx_core::transaction::Transaction::begin(&mut *self.connection.inner, None),
        )
        .await;
        executor::end(operation, begun.as_ref().map(|_| None));
        Ok(Transaction {
            connection: Connection {
                inner: begun?,
                shared,
            },
        })
    }
}

/// A transaction of a [`Pool`]; `&mut *tx` is a traced `Executor`. Rolled back when dropped
/// without [`commit`](Self::commit), as in sqlx.
#[derive(Debug)]
pub struct Transaction<'c, DB: Database> {
    connection: Connection<sqlx_core::transaction::Transaction<'c, DB>, DB>,
}

impl<'c, DB: Database> Deref for Transaction<'c, DB> {
    type Target = Connection<sqlx_core::transaction::Transaction<'c, DB>, DB>;

    fn deref(&self) -> &Self::Target {
        &self.connection
    }
}

impl<DB: Database> DerefMut for Transaction<'_, DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.connection
    }
}

impl<'c, DB: Database> Transaction<'c, DB> {
    /// Commits, as a `COMMIT` span.
    pub async fn commit(self) -> Result<(), sqlx_core::Error> {
        self.end("COMMIT", sqlx_core::transaction::Transaction::commit)
            .await
    }

    /// Rolls back, as a `ROLLBACK` span.
    pub async fn rollback(self) -> Result<(), sqlx_core::Error> {
        self.end("ROLLBACK", sqlx_core::transaction::Transaction::rollback)
            .await
    }

    /// Ends the transaction with `end` (sqlx's commit or rollback) as an `operation` span.
    async fn end<F>(
        self,
        operation: &'static str,
        end: impl FnOnce(sqlx_core::transaction::Transaction<'c, DB>) -> F,
    ) -> Result<(), sqlx_core::Error>
    where
        F: std::future::Future<Output = Result<(), sqlx_core::Error>>,
    {
        let Connection { inner, shared } = self.connection;
        let operation = shared.client.start_control(operation);
        let done = super::in_operation(operation.as_ref(), end(inner)).await;
        executor::end(operation, done.as_ref().map(|()| None));
        done
    }
}

/// The outcome of a failed sqlx call, in the conventions' terms.
fn failure(error: &sqlx_core::Error) -> Outcome {
    use sqlx_core::Error;
    let (status_code, error_type): (Option<String>, Cow<'static, str>) = match error {
        Error::Database(database) => {
            let code = database.code().map(Cow::into_owned);
            let error_type = code.clone().map_or(Cow::Borrowed("database"), Cow::Owned);
            (code, error_type)
        }
        Error::Io(io) => (None, Cow::Owned(format!("{:?}", io.kind()))),
        Error::PoolTimedOut => (None, Cow::Borrowed("pool_timed_out")),
        Error::PoolClosed => (None, Cow::Borrowed("pool_closed")),
        Error::Tls(_) => (None, Cow::Borrowed("tls")),
        Error::Protocol(_) => (None, Cow::Borrowed("protocol")),
        Error::Configuration(_) => (None, Cow::Borrowed("configuration")),
        Error::RowNotFound => (None, Cow::Borrowed("row_not_found")),
        Error::TypeNotFound { .. } => (None, Cow::Borrowed("type_not_found")),
        Error::ColumnNotFound(_) | Error::ColumnIndexOutOfBounds { .. } => {
            (None, Cow::Borrowed("column_not_found"))
        }
        Error::ColumnDecode { .. } | Error::Decode(_) => (None, Cow::Borrowed("decode")),
        Error::Encode(_) => (None, Cow::Borrowed("encode")),
        Error::WorkerCrashed => (None, Cow::Borrowed("worker_crashed")),
        _ => (None, Cow::Borrowed("sqlx::Error")),
    };
    let message = match error {
        Error::Database(database) => database.message().to_owned(),
        other => other.to_string(),
    };
    Outcome::Failed {
        status_code,
        error_type,
        message,
    }
}
