//! `peekr sql`: one read-only statement over the database file.

use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use super::schema::BUSY_TIMEOUT;

/// The result of [`run_readonly_sql`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SqlOutput {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Rows, each with one JSON value per column: integers and reals as numbers, text as
    /// strings, blobs as lower-case hex strings, NULL as null.
    pub rows: Vec<Vec<serde_json::Value>>,
    /// Whether rows were left out because of `max_rows`.
    pub truncated: bool,
}

/// An error from [`run_readonly_sql`].
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The database file does not exist or cannot be opened.
    #[error("cannot open database {} read-only: {error}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        error: rusqlite::Error,
    },
    /// The statement would write: `peekr sql` only reads.
    #[error("peekr sql is read-only: refusing {statement:?}")]
    ReadOnly {
        /// The start of the refused statement.
        statement: String,
    },
    /// More than one statement was given.
    #[error("peekr sql runs one statement; got more than one in {statement:?}")]
    MultipleStatements {
        /// The start of the input.
        statement: String,
    },
    /// The input holds no statement.
    #[error("no sql statement given")]
    Empty,
    /// SQLite rejected or failed the statement.
    #[error("sql error: {0}")]
    Sqlite(rusqlite::Error),
}

/// Runs one SQL statement read-only on the database file `db` and returns its columns and
/// rows (at most `max_rows` rows when given).
///
/// The file is opened with `SQLITE_OPEN_READ_ONLY` and `PRAGMA query_only`, and a statement
/// SQLite does not report as read-only (`sqlite3_stmt_readonly`) is refused before it runs,
/// with [`SqlError::ReadOnly`]. `ATTACH`, `DETACH` and `VACUUM` are refused as well.
///
/// This is an operator tool over the local file: it sees **every project's** data, unlike the
/// query API and the Costs page, which are scoped by API key.
pub fn run_readonly_sql(
    db: &Path,
    sql: &str,
    max_rows: Option<usize>,
) -> Result<SqlOutput, SqlError> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(|error| SqlError::Open {
        path: db.to_path_buf(),
        error,
    })?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(SqlError::Sqlite)?;
    conn.pragma_update(None, "query_only", true)
        .map_err(SqlError::Sqlite)?;

    let mut stmt = conn.prepare(sql).map_err(|error| match error {
        rusqlite::Error::MultipleStatement => SqlError::MultipleStatements {
            statement: excerpt(sql),
        },
        rusqlite::Error::Empty => SqlError::Empty,
        other => SqlError::Sqlite(other),
    })?;
    if !stmt.readonly() || writes_anyway(sql) {
        return Err(SqlError::ReadOnly {
            statement: excerpt(sql),
        });
    }

    let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let width = columns.len();
    let mut rows = Vec::new();
    let mut truncated = false;
    let mut cursor = stmt.query([]).map_err(SqlError::Sqlite)?;
    while let Some(row) = cursor.next().map_err(SqlError::Sqlite)? {
        if max_rows.is_some_and(|max| rows.len() >= max) {
            truncated = true;
            break;
        }
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(json_value(row.get_ref(i).map_err(SqlError::Sqlite)?));
        }
        rows.push(values);
    }
    Ok(SqlOutput {
        columns,
        rows,
        truncated,
    })
}

fn json_value(value: ValueRef<'_>) -> serde_json::Value {
    match value {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Integer(i) => i.into(),
        // NaN and infinities have no JSON form.
        ValueRef::Real(f) => {
            serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)
        }
        ValueRef::Text(bytes) => String::from_utf8_lossy(bytes).into_owned().into(),
        ValueRef::Blob(bytes) => {
            let mut hex = String::with_capacity(bytes.len() * 2);
            for byte in bytes {
                hex.push_str(&format!("{byte:02x}"));
            }
            hex.into()
        }
    }
}

/// Statements `sqlite3_stmt_readonly` calls read-only that `peekr sql` still refuses:
/// `ATTACH`/`DETACH` (they change the connection, not the file), `VACUUM` (`VACUUM INTO`
/// writes a new file even from a read-only connection), and `PRAGMA` with a value
/// (`PRAGMA query_only = 0`), except the schema-reading pragmas that take a table name.
fn writes_anyway(sql: &str) -> bool {
    const READ_PRAGMAS: &[&str] = &[
        "TABLE_INFO",
        "TABLE_XINFO",
        "INDEX_LIST",
        "INDEX_INFO",
        "INDEX_XINFO",
        "FOREIGN_KEY_LIST",
    ];
    let (keyword, rest) = first_keyword(sql);
    match keyword.as_str() {
        "ATTACH" | "DETACH" | "VACUUM" => true,
        "PRAGMA" => {
            let (name, _) = first_keyword(rest);
            rest.contains('=') || (rest.contains('(') && !READ_PRAGMAS.contains(&name.as_str()))
        }
        _ => false,
    }
}

/// The first keyword of `sql`, upper-cased, skipping whitespace and comments, and the text
/// after it.
fn first_keyword(sql: &str) -> (String, &str) {
    let mut rest = sql.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after
                .split_once('\n')
                .map_or("", |(_, tail)| tail)
                .trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after
                .split_once("*/")
                .map_or("", |(_, tail)| tail)
                .trim_start();
        } else {
            break;
        }
    }
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (rest[..end].to_ascii_uppercase(), &rest[end..])
}

/// The statement for an error message: one line, at most 80 characters.
fn excerpt(sql: &str) -> String {
    let line: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 80 {
        let mut short: String = line.chars().take(77).collect();
        short.push_str("...");
        short
    } else {
        line
    }
}
