//! sqlx's `Executor` for the traced pool and connections: each query starts an operation,
//! runs through sqlx's own executor unchanged, and ends the operation when its stream or
//! future finishes.
//!
//! sqlx hands a query to an executor as an `Execute` value whose SQL can only be read by
//! consuming it. The query is therefore taken apart ([`OwnedQuery`]: statement, arguments,
//! persistence, SQL, read in the order sqlx's drivers read them) and handed on whole, so the
//! driver sees exactly what the application built.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use futures_core::Stream;
use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use opentelemetry::Context;
use sqlx_core::Either;
use sqlx_core::database::Database;
use sqlx_core::error::BoxDynError;
use sqlx_core::executor::{Execute, Executor};
use sqlx_core::ext::async_stream::TryAsyncStream;
use sqlx_core::sql_str::SqlStr;

use super::{Client, Connection, Pool};
use crate::db::{Operation, Outcome, in_operation};

/// A query taken apart to read its SQL, and put back together for the driver.
struct OwnedQuery<DB: Database> {
    sql: SqlStr,
    statement: Option<DB::Statement>,
    arguments: Option<Result<Option<DB::Arguments>, BoxDynError>>,
    persistent: bool,
}

impl<DB: Database> OwnedQuery<DB> {
    fn new<'q>(mut query: impl Execute<'q, DB>) -> Self {
        let statement = query.statement().cloned();
        let arguments = Some(query.take_arguments());
        let persistent = query.persistent();
        Self {
            sql: query.sql(),
            statement,
            arguments,
            persistent,
        }
    }
}

impl<DB: Database> Execute<'_, DB> for OwnedQuery<DB> {
    fn sql(self) -> SqlStr {
        self.sql
    }

    fn statement(&self) -> Option<&DB::Statement> {
        self.statement.as_ref()
    }

    fn take_arguments(&mut self) -> Result<Option<DB::Arguments>, BoxDynError> {
        self.arguments.take().unwrap_or(Ok(None))
    }

    fn persistent(&self) -> bool {
        self.persistent
    }
}

/// Takes `query` apart and starts its operation.
fn start<'q, DB: Database>(
    client: &Client,
    query: impl Execute<'q, DB>,
) -> (OwnedQuery<DB>, Option<Operation>) {
    let query = OwnedQuery::new(query);
    let operation = client.start(query.sql.as_str());
    (query, operation)
}

/// Ends `operation` with a call's result: `Ok(rows)` (`None` when unknown) or the error.
pub(super) fn end(operation: Option<Operation>, result: Result<Option<u64>, &sqlx_core::Error>) {
    if let Some(operation) = operation {
        operation.end(match result {
            Ok(rows) => Outcome::Succeeded { rows, extra: None },
            Err(error) => super::failure(error),
        });
    }
}

pin_project_lite::pin_project! {
    /// A query's stream of results, ending its operation when it ends: with the rows it
    /// returned, at the first error, or when dropped (early, after rows: a success with the
    /// rows read; before any: cancelled).
    struct TracedStream<S> {
        #[pin]
        inner: S,
        operation: Option<Operation>,
        cx: Option<Context>,
        rows: u64,
        yielded: bool,
    }

    impl<S> PinnedDrop for TracedStream<S> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if *this.yielded
                && let Some(operation) = this.operation.take()
            {
                operation.end(Outcome::Succeeded { rows: Some(*this.rows), extra: None });
            }
        }
    }
}

impl<S> TracedStream<S> {
    fn new(inner: S, operation: Option<Operation>) -> Self {
        let cx = operation.as_ref().and_then(Operation::context).cloned();
        Self {
            inner,
            operation,
            cx,
            rows: 0,
            yielded: false,
        }
    }
}

impl<S, Q, R> Stream for TracedStream<S>
where
    S: Stream<Item = Result<Either<Q, R>, sqlx_core::Error>>,
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let _attached = this.cx.as_ref().map(|cx| cx.clone().attach());
        let polled = this.inner.poll_next(task);
        match &polled {
            Poll::Ready(Some(Ok(item))) => {
                *this.yielded = true;
                if item.is_right() {
                    *this.rows += 1;
                }
            }
            Poll::Ready(Some(Err(error))) => {
                end(this.operation.take(), Err(error));
            }
            Poll::Ready(None) => {
                end(this.operation.take(), Ok(Some(*this.rows)));
            }
            Poll::Pending => {}
        }
        polled
    }
}

/// Wraps a single-row future: `Ok(Some(_))` is one row, `Ok(None)` none.
fn traced_optional<'e, R: Send + 'e>(
    operation: Option<Operation>,
    future: BoxFuture<'e, Result<Option<R>, sqlx_core::Error>>,
) -> BoxFuture<'e, Result<Option<R>, sqlx_core::Error>> {
    if operation.is_none() {
        return future;
    }
    Box::pin(async move {
        let result = in_operation(operation.as_ref(), future).await;
        end(
            operation,
            result.as_ref().map(|row| Some(u64::from(row.is_some()))),
        );
        result
    })
}

impl<'p, DB> Executor<'p> for &'_ Pool<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    type Database = DB;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<DB::QueryResult, DB::Row>, sqlx_core::Error>>
    where
        E: 'q + Execute<'q, DB>,
    {
        let (query, operation) = start(&self.shared.client, query);
        let pool = self.clone();
        // As sqlx's own pool executor: a connection for the length of the stream.
        let stream = TryAsyncStream::new(move |yielder| async move {
            let mut connection = pool.acquire_timed().await?;
            let mut results = (&mut *connection).fetch_many(query);
            while let Some(result) =
                std::future::poll_fn(|task| results.as_mut().poll_next(task)).await
            {
                yielder.r#yield(result?).await;
            }
            Ok(())
        });
        Box::pin(TracedStream::new(stream, operation))
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<DB::Row>, sqlx_core::Error>>
    where
        E: 'q + Execute<'q, DB>,
    {
        let (query, operation) = start(&self.shared.client, query);
        let pool = self.clone();
        traced_optional(
            operation,
            Box::pin(async move {
                let mut connection = pool.acquire_timed().await?;
                (&mut *connection).fetch_optional(query).await
            }),
        )
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement, sqlx_core::Error>>
    where
        'p: 'e,
    {
        let pool = self.clone();
        Box::pin(async move {
            let mut connection = pool.acquire_timed().await?;
            (&mut *connection).prepare_with(sql, parameters).await
        })
    }

    fn describe<'e>(
        self,
        sql: SqlStr,
    ) -> BoxFuture<'e, Result<sqlx_core::describe::Describe<DB>, sqlx_core::Error>>
    where
        'p: 'e,
    {
        let pool = self.clone();
        Box::pin(async move {
            let mut connection = pool.acquire_timed().await?;
            (&mut *connection).describe(sql).await
        })
    }
}

impl<'c, C, DB> Executor<'c> for &'c mut Connection<C, DB>
where
    C: std::ops::DerefMut<Target = DB::Connection> + Send,
    DB: Database,
    for<'a> &'a mut DB::Connection: Executor<'a, Database = DB>,
{
    type Database = DB;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<DB::QueryResult, DB::Row>, sqlx_core::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, DB>,
    {
        let (query, operation) = start(&self.shared.client, query);
        let stream = (&mut *self.inner).fetch_many(query);
        if operation.is_none() {
            return stream;
        }
        Box::pin(TracedStream::new(stream, operation))
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<DB::Row>, sqlx_core::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, DB>,
    {
        let (query, operation) = start(&self.shared.client, query);
        traced_optional(operation, (&mut *self.inner).fetch_optional(query))
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement, sqlx_core::Error>>
    where
        'c: 'e,
    {
        (&mut *self.inner).prepare_with(sql, parameters)
    }

    fn describe<'e>(
        self,
        sql: SqlStr,
    ) -> BoxFuture<'e, Result<sqlx_core::describe::Describe<DB>, sqlx_core::Error>>
    where
        'c: 'e,
    {
        (&mut *self.inner).describe(sql)
    }
}
