//! What a SQL statement says about itself, read by a small tokenizer rather than a parser:
//! the query text with its literal values replaced by `?` (`db.query.text`), the operation
//! (`db.operation.name`), the tables it names (`db.collection.name`, `db.query.summary`).
//!
//! A tokenizer is enough for all three and cannot fail: SQL it does not understand still
//! comes out with every string and number literal replaced, because literals are recognised
//! by their lexical form (quotes, dollar quotes, digits), not by their place in a grammar.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

/// The longest `db.query.summary` recorded, in bytes; a longer one ends at a token boundary.
const SUMMARY_LIMIT: usize = 255;
/// How many distinct statements keep their analysis; past that each is analysed per call.
const CACHE_LIMIT: usize = 1024;

/// One statement, analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Analysis {
    /// The fields below as attribute values, made once per cached statement.
    pub(crate) values: Values,
    /// The text with every literal replaced by `?`, comments removed, white space folded and
    /// `IN (?, ?, ...)` lists folded to `IN (?)`.
    pub(crate) sanitized: String,
    /// The first top-level operation (`SELECT`, `INSERT`, ...), upper case, when the text is
    /// one statement.
    pub(crate) operation: Option<String>,
    /// The one table the statement works on, when it names exactly one.
    pub(crate) collection: Option<String>,
    /// Operations and the tables they work on, in order: `SELECT orders customers`.
    pub(crate) summary: Option<String>,
}

/// [`Analysis`]'s strings as shared attribute values (cloned per call without copying).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Values {
    pub(crate) sanitized: Option<opentelemetry::StringValue>,
    pub(crate) operation: Option<opentelemetry::StringValue>,
    pub(crate) collection: Option<opentelemetry::StringValue>,
    pub(crate) summary: Option<opentelemetry::StringValue>,
}

/// How a database writes its literals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// `"name"` is an identifier (PostgreSQL, SQLite, the standard).
    Standard,
    /// `"text"` is a string, `` `name` `` an identifier (MySQL, MariaDB).
    MySql,
}

/// The analysis of `sql`, from a bounded cache: an application runs the same few statements
/// again and again.
pub(crate) fn analyze_cached(sql: &str, dialect: Dialect) -> Arc<Analysis> {
    static CACHES: [OnceLock<Cache>; 2] = [OnceLock::new(), OnceLock::new()];
    let cache = CACHES[usize::from(dialect == Dialect::MySql)].get_or_init(Default::default);
    if let Some(found) = crate::sync::read(cache).get(sql) {
        return found.clone();
    }
    let analysis = Arc::new(analyze(sql, dialect));
    let mut cache = crate::sync::write(cache);
    if cache.len() < CACHE_LIMIT {
        cache.insert(sql.into(), analysis.clone());
    }
    analysis
}

/// Analyses by statement text, for one dialect.
type Cache = RwLock<HashMap<Box<str>, Arc<Analysis>>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// A keyword or an unquoted identifier.
    Word(&'a str),
    /// A quoted identifier, without its quotes.
    Quoted(&'a str),
    /// A string or number literal.
    Literal,
    /// `$1`, `?`, `:name`, `@name`: a value bound separately, kept as written.
    Placeholder(&'a str),
    Punct(char),
    Space,
}

/// Splits `sql` into tokens; comments become white space.
fn tokens(sql: &str, dialect: Dialect) -> Vec<Token<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                out.push(Token::Space);
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                out.push(Token::Space);
            }
            b'#' if dialect == Dialect::MySql => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                out.push(Token::Space);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = find(bytes, i + 2, b"*/").map_or(bytes.len(), |end| end + 2);
                out.push(Token::Space);
            }
            b'\'' => {
                i = quoted_end(bytes, i, b'\'', false);
                out.push(Token::Literal);
            }
            b'"' if dialect == Dialect::MySql => {
                i = quoted_end(bytes, i, b'"', true);
                out.push(Token::Literal);
            }
            b'"' | b'`' => {
                i = quoted_end(bytes, i, c, false);
                let inner_end = if i > start + 1 && bytes[i - 1] == c {
                    i - 1
                } else {
                    i
                };
                out.push(Token::Quoted(&sql[start + 1..inner_end]));
            }
            b'$' => {
                if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                    out.push(Token::Placeholder(&sql[start..i]));
                } else if let Some(end) = dollar_quoted_end(bytes, i) {
                    i = end;
                    out.push(Token::Literal);
                } else {
                    i += 1;
                    out.push(Token::Punct('$'));
                }
            }
            b'?' => {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                out.push(Token::Placeholder(&sql[start..i]));
            }
            b':' | b'@' if bytes.get(i + 1).is_some_and(|&b| is_word_start(b)) => {
                // `::type` casts are two `:` punctuation tokens; `:name` is a placeholder.
                if c == b':' && i > 0 && bytes[i - 1] == b':' {
                    i += 1;
                    out.push(Token::Punct(':'));
                } else {
                    i += 1;
                    while i < bytes.len() && is_word_byte(bytes[i]) {
                        i += 1;
                    }
                    out.push(Token::Placeholder(&sql[start..i]));
                }
            }
            b'0'..=b'9' => {
                i = number_end(bytes, i);
                out.push(Token::Literal);
            }
            b'.' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
                && !matches!(out.last(), Some(Token::Word(_) | Token::Quoted(_))) =>
            {
                i = number_end(bytes, i);
                out.push(Token::Literal);
            }
            _ if is_word_start(c) => {
                while i < bytes.len() && is_word_byte(bytes[i]) {
                    i += 1;
                }
                let word = &sql[start..i];
                // E'...', B'...', X'...', N'...': prefixed string literals.
                if bytes.get(i) == Some(&b'\'')
                    && matches!(
                        word.to_ascii_uppercase().as_str(),
                        "E" | "B" | "X" | "N" | "U&"
                    )
                {
                    i = quoted_end(bytes, i, b'\'', word.eq_ignore_ascii_case("e"));
                    out.push(Token::Literal);
                } else {
                    out.push(Token::Word(word));
                }
            }
            _ => {
                let ch = sql[i..].chars().next().unwrap_or('\u{fffd}');
                i += ch.len_utf8().max(1);
                out.push(Token::Punct(ch));
            }
        }
    }
    out
}

fn is_word_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| from + at)
}

/// The end of a quoted run starting at `start` (its quote doubled to escape it, or after a
/// backslash when `backslash`); the end of the text when unterminated.
fn quoted_end(bytes: &[u8], start: usize, quote: u8, backslash: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if backslash && bytes[i] == b'\\' {
            i += 2;
        } else if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// `$tag$ ... $tag$` (PostgreSQL): the end, when `start` opens one.
fn dollar_quoted_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
        i += 1;
    }
    if bytes.get(i) != Some(&b'$') {
        return None;
    }
    let tag = &bytes[start..=i];
    Some(find(bytes, i + 1, tag).map_or(bytes.len(), |end| end + tag.len()))
}

fn number_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    if bytes[i] == b'0' && matches!(bytes.get(i + 1), Some(b'x' | b'X')) {
        i += 2;
        while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
            i += 1;
        }
        return i;
    }
    while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.' || bytes[i] == b'_') {
        i += 1;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if bytes.get(j).is_some_and(u8::is_ascii_digit) {
            i = j;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    i
}

/// Statements that start an operation worth naming.
const OPERATIONS: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "MERGE",
    "UPSERT",
    "REPLACE",
    "CREATE",
    "ALTER",
    "DROP",
    "TRUNCATE",
    "CALL",
    "EXECUTE",
    "COPY",
    "BEGIN",
    "START",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE",
    "SET",
    "SHOW",
    "EXPLAIN",
    "VACUUM",
    "ANALYZE",
    "GRANT",
    "REVOKE",
    "LOCK",
    "LISTEN",
    "NOTIFY",
    "PREPARE",
    "DEALLOCATE",
    "PRAGMA",
    "REFRESH",
];

/// Operations that also start inside a statement.
const DATA_OPERATIONS: &[&str] = &["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE"];

/// Words after which the next name is a table.
const TARGET_BEFORE: &[&str] = &["FROM", "JOIN", "INTO", "TABLE"];

/// Operations directly followed by their table.
const TARGET_OPERATIONS: &[&str] = &["UPDATE", "TRUNCATE", "COPY"];

/// Words skipped between a [`TARGET_BEFORE`] word and the table.
const TARGET_SKIP: &[&str] = &["IF", "NOT", "EXISTS", "ONLY", "TABLE", "LATERAL"];

/// Words that end a `FROM a x, b y` list or cannot be an alias.
const RESERVED: &[&str] = &[
    "WHERE",
    "JOIN",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "CROSS",
    "NATURAL",
    "OUTER",
    "ON",
    "USING",
    "GROUP",
    "ORDER",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "RETURNING",
    "SET",
    "VALUES",
    "SELECT",
    "FOR",
    "WINDOW",
    "FETCH",
    "AS",
    "DEFAULT",
    "WITH",
    "OVERRIDING",
    "ON",
    "DO",
    "LATERAL",
];

fn is(word: &str, list: &[&str]) -> bool {
    list.iter().any(|known| word.eq_ignore_ascii_case(known))
}

/// Analyses one SQL text (see [`Analysis`]).
pub(crate) fn analyze(sql: &str, dialect: Dialect) -> Analysis {
    let tokens = tokens(sql, dialect);
    let mut analysis = Analysis {
        sanitized: sanitize(&tokens),
        ..describe(&tokens)
    };
    let value = |text: &Option<String>| text.clone().map(super::shared);
    analysis.values = Values {
        sanitized: Some(super::shared(super::bounded(analysis.sanitized.clone()))),
        operation: value(&analysis.operation),
        collection: value(&analysis.collection),
        summary: value(&analysis.summary),
    };
    analysis
}

fn sanitize(tokens: &[Token<'_>]) -> String {
    let mut out = String::new();
    // Where the `(` of an `IN (` list was written, while only literals follow it.
    let mut in_list: Option<(usize, usize)> = None;
    let mut after_in = false;
    for token in tokens {
        match *token {
            Token::Space => {
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
                continue;
            }
            Token::Punct('(') if after_in => {
                in_list = Some((out.len(), 0));
                out.push('(');
            }
            Token::Punct(')') => {
                if let Some((at, literals)) = in_list.take()
                    && literals > 0
                {
                    out.truncate(at);
                    out.push_str("(?)");
                } else {
                    out.push(')');
                }
            }
            Token::Punct(',') => out.push(','),
            Token::Literal => {
                if let Some((_, literals)) = &mut in_list {
                    *literals += 1;
                }
                out.push('?');
            }
            Token::Word(word) => {
                in_list = None;
                out.push_str(word);
            }
            Token::Quoted(name) => {
                in_list = None;
                out.push('"');
                out.push_str(name);
                out.push('"');
            }
            Token::Placeholder(text) => {
                in_list = None;
                out.push_str(text);
            }
            Token::Punct(c) => {
                in_list = None;
                out.push(c);
            }
        }
        after_in = matches!(token, Token::Word(word) if word.eq_ignore_ascii_case("IN"));
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out
}

/// Operation, tables and summary.
fn describe(tokens: &[Token<'_>]) -> Analysis {
    let words: Vec<Token<'_>> = tokens
        .iter()
        .copied()
        .filter(|token| *token != Token::Space)
        .collect();
    let mut summary: Vec<String> = Vec::new();
    let mut tables: Vec<String> = Vec::new();
    let mut operations = 0usize;
    let mut first_operation: Option<String> = None;
    let mut statements = 0usize;
    let mut statement_open = false;
    let mut depth = 0usize;
    let mut i = 0;
    while i < words.len() {
        match words[i] {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => depth = depth.saturating_sub(1),
            Token::Punct(';') if depth == 0 => statement_open = false,
            Token::Word(word) => {
                let statement_start = !statement_open;
                if !statement_open {
                    statement_open = true;
                    statements += 1;
                }
                // The first word of a statement may be any operation; later ones only the
                // data operations (`INSERT ... SELECT`, subqueries), and not as a function
                // (`REPLACE(...)`) or a clause (`FOR UPDATE`, `DO UPDATE`).
                let previous = i.checked_sub(1).map(|at| words[at]);
                let operation_position = if statement_start {
                    is(word, OPERATIONS)
                } else {
                    is(word, DATA_OPERATIONS)
                        && !matches!(words.get(i + 1), Some(Token::Punct('(')))
                        && !matches!(previous, Some(Token::Word(before)) if is(before, &["FOR", "DO"]))
                };
                if operation_position {
                    let upper = word.to_ascii_uppercase();
                    if first_operation.is_none() && depth == 0 {
                        first_operation = Some(upper.clone());
                    }
                    operations += 1;
                    summary.push(upper);
                }
                let takes_target =
                    is(word, TARGET_BEFORE) || (operation_position && is(word, TARGET_OPERATIONS));
                if takes_target {
                    let (found, next) = target(&words, i + 1);
                    if let Some(name) = found {
                        tables.push(name.clone());
                        summary.push(name);
                        // `FROM a x, b y`: more tables after commas.
                        let mut j = next;
                        if word.eq_ignore_ascii_case("FROM") {
                            loop {
                                j = skip_alias(&words, j);
                                if words.get(j) != Some(&Token::Punct(',')) {
                                    break;
                                }
                                match target(&words, j + 1) {
                                    (Some(name), after) => {
                                        tables.push(name.clone());
                                        summary.push(name);
                                        j = after;
                                    }
                                    (None, _) => break,
                                }
                            }
                        }
                        i = j;
                        continue;
                    }
                }
            }
            _ => {
                if !statement_open && !matches!(words[i], Token::Punct(';')) {
                    statement_open = true;
                    statements += 1;
                }
            }
        }
        i += 1;
    }
    let single = statements <= 1;
    let mut text = String::new();
    for part in &summary {
        if text.len() + part.len() + usize::from(!text.is_empty()) > SUMMARY_LIMIT {
            break;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(part);
    }
    tables.dedup();
    Analysis {
        values: Values::default(),
        sanitized: String::new(),
        operation: first_operation.filter(|_| single),
        collection: (single && tables.len() == 1 && operations <= 1)
            .then(|| tables.pop())
            .flatten(),
        summary: (!text.is_empty()).then_some(text),
    }
}

/// The table name starting at `at` (skipping `IF NOT EXISTS`, `ONLY`, ...): `schema.table`,
/// without quotes. `None` before a subquery or anything else.
fn target(words: &[Token<'_>], mut at: usize) -> (Option<String>, usize) {
    while let Some(Token::Word(word)) = words.get(at) {
        if is(word, TARGET_SKIP) {
            at += 1;
        } else {
            break;
        }
    }
    let mut name = String::new();
    loop {
        match words.get(at) {
            Some(Token::Word(word)) if name.is_empty() && is(word, RESERVED) => break,
            Some(Token::Word(part) | Token::Quoted(part)) => {
                name.push_str(part);
                at += 1;
            }
            _ => break,
        }
        if words.get(at) == Some(&Token::Punct('.')) {
            name.push('.');
            at += 1;
        } else {
            break;
        }
    }
    (
        (!name.is_empty() && !name.ends_with('.')).then_some(name),
        at,
    )
}

/// Past `AS alias` or `alias` after a table.
fn skip_alias(words: &[Token<'_>], mut at: usize) -> usize {
    if let Some(Token::Word(word)) = words.get(at)
        && word.eq_ignore_ascii_case("AS")
    {
        at += 1;
    }
    match words.get(at) {
        Some(Token::Word(word)) if !is(word, RESERVED) => at + 1,
        Some(Token::Quoted(_)) => at + 1,
        _ => at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(sql: &str) -> Analysis {
        analyze(sql, Dialect::Standard)
    }

    #[test]
    fn literals_become_placeholders() {
        let analysis = pg(
            "SELECT * FROM users WHERE name = 'O''Brien' AND age > 42 AND score < -1.5e3 -- secret\n AND note = E'a\\'b' AND body = $tag$x$tag$ AND id = $1",
        );
        assert_eq!(
            analysis.sanitized,
            "SELECT * FROM users WHERE name = ? AND age > ? AND score < -? AND note = ? AND body = ? AND id = $1"
        );
        assert_eq!(analysis.operation.as_deref(), Some("SELECT"));
        assert_eq!(analysis.collection.as_deref(), Some("users"));
        assert_eq!(analysis.summary.as_deref(), Some("SELECT users"));
    }

    #[test]
    fn in_lists_fold_to_one_placeholder() {
        assert_eq!(
            pg(
                "select id from items where id in (1, 2, 3) and kind IN ('a','b') and x in ($1, $2)"
            )
            .sanitized,
            "select id from items where id in (?) and kind IN (?) and x in ($1, $2)"
        );
    }

    #[test]
    fn comments_and_identifiers() {
        let analysis = pg("/* app=shop */ UPDATE \"Order\" SET total = 10 WHERE id = 7");
        assert_eq!(
            analysis.sanitized,
            "UPDATE \"Order\" SET total = ? WHERE id = ?"
        );
        assert_eq!(analysis.operation.as_deref(), Some("UPDATE"));
        assert_eq!(analysis.collection.as_deref(), Some("Order"));
        assert_eq!(analysis.summary.as_deref(), Some("UPDATE Order"));
        assert_eq!(
            pg("SELECT 1::int, x::text FROM t").sanitized,
            "SELECT ?::int, x::text FROM t"
        );
        assert_eq!(
            pg("SELECT a.b, t1.c2 FROM s.t").sanitized,
            "SELECT a.b, t1.c2 FROM s.t"
        );
    }

    #[test]
    fn joins_and_subqueries_name_every_table() {
        let analysis = pg(
            "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer WHERE o.id IN (SELECT order_id FROM lines)",
        );
        assert_eq!(
            analysis.summary.as_deref(),
            Some("SELECT orders customers SELECT lines")
        );
        assert_eq!(analysis.collection, None);
        assert_eq!(analysis.operation.as_deref(), Some("SELECT"));
        assert_eq!(
            pg("SELECT * FROM a x, b AS y, public.c WHERE true")
                .summary
                .as_deref(),
            Some("SELECT a b public.c")
        );
        assert_eq!(
            pg("INSERT INTO archive SELECT * FROM orders")
                .summary
                .as_deref(),
            Some("INSERT archive SELECT orders")
        );
    }

    #[test]
    fn statements_without_tables() {
        let analysis = pg("BEGIN");
        assert_eq!(analysis.operation.as_deref(), Some("BEGIN"));
        assert_eq!(analysis.summary.as_deref(), Some("BEGIN"));
        assert_eq!(pg("SELECT 1").summary.as_deref(), Some("SELECT"));
        assert_eq!(
            pg("CREATE TABLE IF NOT EXISTS items (id int primary key, name text)")
                .summary
                .as_deref(),
            Some("CREATE items")
        );
        assert_eq!(
            pg("DELETE FROM items WHERE id = 3").collection.as_deref(),
            Some("items")
        );
        assert_eq!(
            pg("TRUNCATE TABLE items").collection.as_deref(),
            Some("items")
        );
        assert_eq!(pg("").summary, None);
    }

    #[test]
    fn several_statements_have_no_single_operation() {
        let analysis = pg("INSERT INTO a VALUES (1); DELETE FROM b;");
        assert_eq!(analysis.operation, None);
        assert_eq!(analysis.collection, None);
        assert_eq!(analysis.summary.as_deref(), Some("INSERT a DELETE b"));
        assert_eq!(
            analysis.sanitized,
            "INSERT INTO a VALUES (?); DELETE FROM b;"
        );
    }

    #[test]
    fn mysql_double_quotes_are_strings() {
        let analysis = analyze("SELECT * FROM `t` WHERE a = \"x\" # note", Dialect::MySql);
        assert_eq!(analysis.sanitized, "SELECT * FROM \"t\" WHERE a = ?");
    }

    #[test]
    fn unterminated_and_odd_text_never_leaks_a_literal() {
        assert_eq!(pg("SELECT 'unterminated").sanitized, "SELECT ?");
        assert_eq!(pg("SELECT $$never closed").sanitized, "SELECT ?");
        assert_eq!(pg("SELECT x'1F', b'01', 0xFF").sanitized, "SELECT ?, ?, ?");
        assert_eq!(pg("SELECT 'é', 'ü' FROM ñ").sanitized, "SELECT ?, ? FROM ñ");
    }

    #[test]
    fn long_summaries_end_at_a_token() {
        let sql = (0..100)
            .map(|n| format!("SELECT * FROM table_number_{n}"))
            .collect::<Vec<_>>()
            .join(" UNION ");
        let summary = pg(&sql).summary.expect("a summary");
        assert!(summary.len() <= SUMMARY_LIMIT);
        assert!(summary.split(' ').all(|part| {
            part == "SELECT"
                || part
                    .strip_prefix("table_number_")
                    .is_some_and(|n| n.parse::<u32>().is_ok())
        }));
    }
}
