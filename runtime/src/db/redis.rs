//! redis-rs, traced (feature `redis`): wrap an async connection once, keep writing redis-rs.
//!
//! ```no_run
//! use redis::AsyncCommands as _;
//!
//! # async fn run() -> redis::RedisResult<()> {
//! let client = redis::Client::open("redis://127.0.0.1:6379/0")?;
//! let mut cache = otel::redis::Connection::new(
//!     client.get_multiplexed_async_connection().await?,
//!     client.get_connection_info(),
//! );
//! let _: () = cache.set("item:7", "lamp").await?;          // a `SET` span
//! let name: Option<String> = cache.get("item:7").await?;   // a `GET` span
//! let (a, b): (i64, i64) = redis::pipe()                   // one `BATCH INCR` span
//!     .incr("hits", 1)
//!     .incr("hits", 1)
//!     .query_async(&mut cache)
//!     .await?;
//! # let _ = (name, a, b);
//! # Ok(())
//! # }
//! ```
//!
//! Any `redis::aio::ConnectionLike` can be wrapped: a `MultiplexedConnection`, a
//! `ConnectionManager`, a connection of a pool. Each command is a client span named after it
//! (`GET`, `CONFIG GET`), with `db.system.name = redis`, `db.namespace` (the database index),
//! `server.address`, `server.port`, `db.operation.name` and `db.query.text` without values
//! (`SET ? ?`; [`Connection::record_keys`] shows the key); a pipeline is one span, `BATCH
//! {command}` when every command is the same, else `BATCH` (`MULTI` for an atomic one), with
//! `db.operation.batch.size`. An error reply fails the span with `db.response.status_code`
//! and `error.type` set to its prefix (`WRONGTYPE`). Every command and pipeline records
//! `db.client.operation.duration`. The password of the connection info is never read.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use opentelemetry::{KeyValue, StringValue};
use redis::aio::ConnectionLike;
use redis::{Cmd, ConnectionAddr, ConnectionInfo, Pipeline, RedisError, RedisFuture, Value};

use super::{Description, Instrumentation, Operation, Outcome, Target, in_operation};

static INSTRUMENTATION: Instrumentation = Instrumentation::new("otel.redis");

/// The longest key [`Connection::record_keys`] shows, in bytes.
const KEY_LIMIT: usize = 128;
/// The longest command name recorded; longer or stranger names are `_OTHER`.
const COMMAND_LIMIT: usize = 32;

/// Commands whose first argument is a subcommand, named together (`CONFIG GET`).
const CONTAINERS: &[&str] = &[
    "ACL", "CLIENT", "CLUSTER", "COMMAND", "CONFIG", "FUNCTION", "LATENCY", "MEMORY", "MODULE",
    "OBJECT", "PUBSUB", "SCRIPT", "SLOWLOG", "XGROUP", "XINFO",
];

/// Commands whose arguments are credentials: never shown, even with `record_keys`.
const SECRET_ARGUMENTS: &[&str] = &["AUTH", "HELLO", "MIGRATE", "ACL SETUSER", "CONFIG SET"];

/// Reads of one value, whose nil answer is a cache miss.
const CACHE_READS: &[&str] = &["GET", "GETEX", "GETDEL", "HGET", "JSON.GET"];

/// An async redis connection whose commands and pipelines are traced: it implements
/// `redis::aio::ConnectionLike`, so `cmd.query_async(&mut conn)`, `pipe.query_async(&mut
/// conn)` and every `redis::AsyncCommands` method work on it. Clone it when the connection
/// it wraps is `Clone` (multiplexed connections, `ConnectionManager`).
#[derive(Clone)]
pub struct Connection<C> {
    inner: C,
    client: Arc<Client>,
}

#[derive(Debug)]
struct Client {
    target: Target,
    record_keys: bool,
    cache_hits: bool,
}

impl<C> fmt::Debug for Connection<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("target", &self.client.target)
            .field("record_keys", &self.client.record_keys)
            .field("cache_hits", &self.client.cache_hits)
            .finish_non_exhaustive()
    }
}

impl<C> Connection<C> {
    /// Traces the commands of `connection`, which connects where `info` says
    /// (`client.get_connection_info()`): its address, port and database index are read.
    pub fn new(connection: C, info: &ConnectionInfo) -> Self {
        let (address, port) = match info.addr() {
            ConnectionAddr::Tcp(host, port) | ConnectionAddr::TcpTls { host, port, .. } => {
                (Some(host.clone()), Some(*port))
            }
            ConnectionAddr::Unix(path) => (Some(path.display().to_string()), None),
            _ => (None, None),
        };
        let namespace = info.redis_settings().db().to_string();
        Self {
            inner: connection,
            client: Arc::new(Client {
                target: Target::new("redis", Some(namespace), address, port),
                record_keys: false,
                cache_hits: false,
            }),
        }
    }

    /// Shows each command's first argument, its key for key commands, in `db.query.text`
    /// (`GET item:7`; the other arguments stay `?`), at most 128 bytes of it. Off by default:
    /// keys often carry user ids or emails. Credentials (`AUTH`, `HELLO`, ...) are never shown.
    #[must_use]
    pub fn record_keys(self, record: bool) -> Self {
        self.change(|client| client.record_keys = record)
    }

    /// Records `cache.result` = `hit` | `miss` on the span and on
    /// `db.client.operation.duration` for single-value reads (`GET`, `GETEX`, `GETDEL`,
    /// `HGET`, `JSON.GET`): a nil answer is a miss. Off by default. The hit ratio is then
    /// a query away:
    ///
    /// ```text
    /// sum(rate(db_client_operation_duration_seconds_count{cache_result="hit"}[5m]))
    ///   / sum(rate(db_client_operation_duration_seconds_count{cache_result=~"hit|miss"}[5m]))
    /// ```
    #[must_use]
    pub fn record_cache_hits(self, record: bool) -> Self {
        self.change(|client| client.cache_hits = record)
    }

    fn change(self, change: impl FnOnce(&mut Client)) -> Self {
        let mut client = Client {
            target: self.client.target.clone(),
            record_keys: self.client.record_keys,
            cache_hits: self.client.cache_hits,
        };
        change(&mut client);
        Self {
            inner: self.inner,
            client: Arc::new(client),
        }
    }

    /// The wrapped connection. Commands sent through it directly are not traced.
    pub fn inner_mut(&mut self) -> &mut C {
        &mut self.inner
    }

    /// The wrapped connection, no longer traced.
    pub fn into_inner(self) -> C {
        self.inner
    }
}

impl<C: ConnectionLike + Send> ConnectionLike for Connection<C> {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        let client = &self.client;
        let Some(operation) = INSTRUMENTATION.start(&client.target, || {
            let command = Command::read(cmd, client.record_keys);
            Description {
                operation: Some(command.name.clone()),
                text: Some(super::bounded(command.text).into()),
                ..Description::default()
            }
        }) else {
            return self.inner.req_packed_command(cmd);
        };
        let cache_read = client.cache_hits && is_cache_read(cmd);
        Box::pin(async move {
            let result = in_operation(Some(&operation), self.inner.req_packed_command(cmd)).await;
            let outcome = match &result {
                Ok(Value::ServerError(error)) => server_failure(error.code(), error.details()),
                Ok(value) => Outcome::Succeeded {
                    rows: None,
                    extra: cache_read.then(|| {
                        let result = if matches!(value, Value::Nil) {
                            "miss"
                        } else {
                            "hit"
                        };
                        KeyValue::new("cache.result", result)
                    }),
                },
                Err(error) => failure(error),
            };
            operation.end(outcome);
            result
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        let client = &self.client;
        let Some(operation) = start_pipeline(client, pipeline) else {
            return self.inner.req_packed_commands(pipeline, offset, count);
        };
        Box::pin(async move {
            let result = in_operation(
                Some(&operation),
                self.inner.req_packed_commands(pipeline, offset, count),
            )
            .await;
            let outcome = match &result {
                Ok(values) => first_server_error(values).unwrap_or(Outcome::Succeeded {
                    rows: None,
                    extra: None,
                }),
                Err(error) => failure(error),
            };
            operation.end(outcome);
            result
        })
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}

fn start_pipeline(client: &Client, pipeline: &Pipeline) -> Option<Operation> {
    INSTRUMENTATION.start(&client.target, || {
        let commands: Vec<Command> = pipeline
            .cmd_iter()
            .map(|cmd| Command::read(cmd, client.record_keys))
            .collect();
        let name = if pipeline.is_transaction() {
            StringValue::from("MULTI")
        } else {
            match commands.split_first() {
                Some((first, rest)) if rest.iter().all(|command| command.name == first.name) => {
                    format!("BATCH {}", first.name.as_str()).into()
                }
                _ => StringValue::from("BATCH"),
            }
        };
        let text = commands
            .iter()
            .map(|command| command.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        Description {
            operation: Some(name),
            text: Some(super::bounded(text).into()),
            batch_size: (commands.len() >= 2).then_some(commands.len()),
            ..Description::default()
        }
    })
}

/// One command as recorded: its name and its text without values.
struct Command {
    name: StringValue,
    text: String,
}

impl Command {
    fn read(cmd: &Cmd, record_keys: bool) -> Self {
        let mut arguments = cmd.args_iter().map(|argument| match argument {
            redis::Arg::Simple(bytes) => Some(bytes),
            _ => None,
        });
        let mut name = command_word(arguments.next().flatten());
        if CONTAINERS.contains(&name.as_ref())
            && let Some(Some(sub)) = arguments.clone().next()
        {
            let sub = command_word(Some(sub));
            if sub != "_OTHER" {
                name = Cow::Owned(format!("{name} {sub}"));
                arguments.next();
            }
        }
        let mut text = name.clone().into_owned();
        let mut first = true;
        for argument in arguments {
            text.push(' ');
            match argument {
                Some(key) if first && record_keys && !SECRET_ARGUMENTS.contains(&name.as_ref()) => {
                    text.push_str(&key_text(key));
                }
                _ => text.push('?'),
            }
            first = false;
        }
        Self {
            name: StringValue::from(name),
            text,
        }
    }
}

/// Commands named without allocating: the common ones, sorted for a binary search.
const COMMON: &[&str] = &[
    "AUTH",
    "DECR",
    "DECRBY",
    "DEL",
    "EVAL",
    "EVALSHA",
    "EXISTS",
    "EXPIRE",
    "GET",
    "GETDEL",
    "GETEX",
    "HDEL",
    "HELLO",
    "HGET",
    "HGETALL",
    "HINCRBY",
    "HMGET",
    "HSET",
    "INCR",
    "INCRBY",
    "LLEN",
    "LPOP",
    "LPUSH",
    "LRANGE",
    "MGET",
    "MSET",
    "PEXPIRE",
    "PING",
    "PUBLISH",
    "RPOP",
    "RPUSH",
    "SADD",
    "SCAN",
    "SELECT",
    "SET",
    "SETEX",
    "SETNX",
    "SISMEMBER",
    "SMEMBERS",
    "SREM",
    "TTL",
    "UNLINK",
    "XACK",
    "XADD",
    "XREAD",
    "ZADD",
    "ZINCRBY",
    "ZRANGE",
    "ZREM",
    "ZSCORE",
];

/// A command or subcommand name, upper case; `_OTHER` when it is not a plausible name.
fn command_word(bytes: Option<&[u8]>) -> Cow<'static, str> {
    let Some(bytes) = bytes.filter(|bytes| {
        !bytes.is_empty()
            && bytes.len() <= COMMAND_LIMIT
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'|'))
    }) else {
        return Cow::Borrowed("_OTHER");
    };
    let mut upper = [0u8; COMMAND_LIMIT];
    let upper = &mut upper[..bytes.len()];
    upper.copy_from_slice(bytes);
    upper.make_ascii_uppercase();
    // ASCII by the filter above.
    let upper = std::str::from_utf8(upper).unwrap_or("_OTHER");
    match COMMON.binary_search(&upper) {
        Ok(found) => Cow::Borrowed(COMMON[found]),
        Err(_) => Cow::Owned(upper.to_owned()),
    }
}

/// A key as text: printable ASCII kept, other bytes escaped, cut at [`KEY_LIMIT`].
fn key_text(key: &[u8]) -> String {
    let mut text = String::new();
    for &byte in key.iter().take(KEY_LIMIT) {
        if byte.is_ascii_graphic() {
            text.push(char::from(byte));
        } else {
            text.push_str(&format!("\\x{byte:02x}"));
        }
    }
    if key.len() > KEY_LIMIT {
        text.push('…');
    }
    text
}

fn is_cache_read(cmd: &Cmd) -> bool {
    match cmd.args_iter().next() {
        Some(redis::Arg::Simple(name)) => CACHE_READS
            .iter()
            .any(|read| read.as_bytes().eq_ignore_ascii_case(name)),
        _ => false,
    }
}

/// An error reply: its prefix is the status code and the error type.
fn server_failure(code: &str, details: Option<&str>) -> Outcome {
    let code = if code.is_empty() { "ERR" } else { code };
    Outcome::Failed {
        status_code: Some(code.to_owned()),
        error_type: Cow::Owned(code.to_owned()),
        message: match details {
            Some(details) => format!("{code} {details}"),
            None => code.to_owned(),
        },
    }
}

fn first_server_error(values: &[Value]) -> Option<Outcome> {
    values.iter().find_map(|value| match value {
        Value::ServerError(error) => Some(server_failure(error.code(), error.details())),
        Value::Array(items) => first_server_error(items),
        _ => None,
    })
}

fn failure(error: &RedisError) -> Outcome {
    if let Some(code) = error.code() {
        return server_failure(code, error.detail());
    }
    let error_type: Cow<'static, str> = if error.is_timeout() {
        "timeout".into()
    } else if error.is_connection_refusal() {
        "connection_refused".into()
    } else if error.is_connection_dropped() {
        "connection_dropped".into()
    } else if error.is_io_error() {
        "io".into()
    } else {
        format!("{:?}", error.kind()).into()
    };
    Outcome::Failed {
        status_code: None,
        error_type,
        message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_named_and_their_values_hidden() {
        let mut cmd = redis::cmd("set");
        cmd.arg("user:7").arg("secret value");
        let command = Command::read(&cmd, false);
        assert_eq!(command.name.as_str(), "SET");
        assert_eq!(command.text, "SET ? ?");
        assert_eq!(Command::read(&cmd, true).text, "SET user:7 ?");

        let mut cmd = redis::cmd("CONFIG");
        cmd.arg("get").arg("maxmemory");
        assert_eq!(Command::read(&cmd, true).name.as_str(), "CONFIG GET");
        assert_eq!(Command::read(&cmd, true).text, "CONFIG GET maxmemory");

        let mut cmd = redis::cmd("AUTH");
        cmd.arg("user").arg("hunter2");
        assert_eq!(Command::read(&cmd, true).text, "AUTH ? ?");

        let mut cmd = redis::cmd("GET");
        cmd.arg(&b"bin\x00\xff"[..]);
        assert_eq!(Command::read(&cmd, true).text, "GET bin\\x00\\xff");
        assert_eq!(
            Command::read(&redis::cmd("x y"), false).name.as_str(),
            "_OTHER"
        );
    }
}
