//! Opening the database and migrating its schema.
//!
//! The schema version lives in `PRAGMA user_version`. Each entry of [`MIGRATIONS`] moves the
//! database from version `i` to `i + 1` inside one transaction, so a crash mid-migration leaves
//! the previous version intact. Migrations only ever go forward.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::{Durability, StoreError};

/// How long a connection waits for a lock held by another connection (another process such as
/// `peekr keys create`, or the retention pass) before giving up with `SQLITE_BUSY`.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Forward migrations; entry `i` upgrades schema version `i` to `i + 1`.
///
/// Money columns: `cost_nanos` (exact integer nano-USD) is what every sum uses; `cost_usd` is the
/// same value as a REAL for people writing ad-hoc SQL. Rollup tables hold only integers.
/// Absent model/operation/tenant are stored as `''` in the rollup keys (a primary key column
/// holding NULL would not deduplicate), and as NULL in `spans`.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1: spans, per-trace totals, daily rollups, API keys.
    "
    CREATE TABLE spans (
        project            TEXT    NOT NULL,
        trace_id           TEXT    NOT NULL,
        span_id            TEXT    NOT NULL,
        parent_span_id     TEXT,
        name               TEXT    NOT NULL,
        service            TEXT    NOT NULL,
        start_time         INTEGER NOT NULL,
        end_time           INTEGER NOT NULL,
        status_code        INTEGER NOT NULL,
        operation          TEXT,
        provider           TEXT,
        model              TEXT,
        tokens_input       INTEGER NOT NULL,
        tokens_output      INTEGER NOT NULL,
        tokens_total       INTEGER NOT NULL,
        cache_read_tokens  INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        reasoning_tokens   INTEGER NOT NULL,
        cost_usd           REAL,
        cost_nanos         INTEGER,
        cost_status        TEXT,
        session_id         TEXT,
        tenant_id          TEXT,
        attributes         TEXT    NOT NULL
    );
    CREATE UNIQUE INDEX spans_key ON spans (project, trace_id, span_id);
    CREATE INDEX spans_end_time ON spans (end_time);

    CREATE TABLE traces (
        project       TEXT    NOT NULL,
        trace_id      TEXT    NOT NULL,
        day           TEXT,
        has_root      INTEGER NOT NULL DEFAULT 0,
        root_name     TEXT,
        service       TEXT,
        start_time    INTEGER NOT NULL,
        end_time      INTEGER NOT NULL,
        cost_nanos    INTEGER NOT NULL DEFAULT 0,
        llm_calls     INTEGER NOT NULL DEFAULT 0,
        tokens_input  INTEGER NOT NULL DEFAULT 0,
        tokens_output INTEGER NOT NULL DEFAULT 0,
        spans         INTEGER NOT NULL DEFAULT 0,
        errors        INTEGER NOT NULL DEFAULT 0,
        tenant_id     TEXT,
        session_id    TEXT,
        PRIMARY KEY (project, trace_id)
    ) WITHOUT ROWID;
    CREATE INDEX traces_cost ON traces (project, cost_nanos);
    CREATE INDEX traces_end_time ON traces (end_time);

    CREATE TABLE daily_queries (
        project       TEXT    NOT NULL,
        day           TEXT    NOT NULL,
        queries       INTEGER NOT NULL DEFAULT 0,
        cost_nanos    INTEGER NOT NULL DEFAULT 0,
        llm_calls     INTEGER NOT NULL DEFAULT 0,
        tokens_input  INTEGER NOT NULL DEFAULT 0,
        tokens_output INTEGER NOT NULL DEFAULT 0,
        spans         INTEGER NOT NULL DEFAULT 0,
        errors        INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (project, day)
    ) WITHOUT ROWID;

    CREATE TABLE daily_rollups (
        project          TEXT    NOT NULL,
        day              TEXT    NOT NULL,
        model            TEXT    NOT NULL,
        operation        TEXT    NOT NULL,
        tenant           TEXT    NOT NULL,
        spans            INTEGER NOT NULL DEFAULT 0,
        llm_calls        INTEGER NOT NULL DEFAULT 0,
        cost_nanos       INTEGER NOT NULL DEFAULT 0,
        tokens_input     INTEGER NOT NULL DEFAULT 0,
        tokens_output    INTEGER NOT NULL DEFAULT 0,
        errors           INTEGER NOT NULL DEFAULT 0,
        error_cost_nanos INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (project, day, model, operation, tenant)
    ) WITHOUT ROWID;

    CREATE TABLE api_keys (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        project    TEXT    NOT NULL,
        scope      TEXT    NOT NULL,
        hash       BLOB    NOT NULL UNIQUE,
        prefix     TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
    );
    ",
];

/// The schema version this build writes and understands.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Opens (creating if needed) a read-write connection, sets the pragmas, and migrates.
pub(crate) fn open_read_write(
    path: &Path,
    durability: Durability,
) -> Result<Connection, StoreError> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|error| StoreError::CreateDir {
            path: dir.to_path_buf(),
            error,
        })?;
    }
    let mut conn = Connection::open(path).map_err(|error| StoreError::Open {
        path: path.to_path_buf(),
        error,
    })?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // `journal_mode` answers with a row, so it is read rather than set with `pragma_update`.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NoWal {
            path: path.to_path_buf(),
            mode,
        });
    }
    conn.pragma_update(None, "synchronous", durability.pragma_value())?;
    // 64 MiB of page cache (negative = KiB): span ids are random, so index inserts touch
    // pages all over the b-trees and the 2 MiB default thrashes at millions of spans.
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.pragma_update(None, "foreign_keys", false)?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Opens a connection that reads only: used by the query side and the key lookups.
///
/// It is opened read-write at the SQLite level (a WAL reader may need to create the `-shm`
/// file) but with `PRAGMA query_only`, so a bug cannot turn it into a second writer.
pub(crate) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(|error| StoreError::Open {
        path: path.to_path_buf(),
        error,
    })?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}

/// Applies every migration past the database's `user_version`, each in its own transaction.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read inside the write transaction so two processes opening a fresh file at once
        // cannot both apply the same migration.
        let version: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        let Some(sql) = usize::try_from(version)
            .ok()
            .and_then(|v| MIGRATIONS.get(v))
        else {
            return Ok(());
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
}

/// Nanoseconds in one day.
pub(crate) const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

/// The UTC civil date of day number `days` since 1970-01-01.
pub(crate) fn date_from_days(days: i64) -> jiff::civil::Date {
    // Howard Hinnant's `civil_from_days`; exact for every i64 nanosecond timestamp, no errors.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // i64 nanoseconds span years 1677..=2262, well inside jiff's range.
    jiff::civil::Date::new(year as i16, month as i8, day as i8).unwrap_or(jiff::civil::Date::MIN)
}

/// Day number since 1970-01-01 of a civil date.
pub(crate) fn days_from_date(date: jiff::civil::Date) -> i64 {
    let (y, m, d) = (
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_arithmetic_agrees_with_jiff() {
        for days in [
            -800_000_i64,
            -1,
            0,
            1,
            59,
            60,
            365,
            10_957,
            20_000,
            20_089,
            100_000,
        ] {
            let ours = date_from_days(days);
            let theirs = jiff::civil::date(1970, 1, 1)
                .checked_add(jiff::Span::new().days(days))
                .unwrap();
            assert_eq!(ours, theirs, "day {days}");
            assert_eq!(days_from_date(ours), days);
        }
        assert_eq!(date_from_days(0).to_string(), "1970-01-01");
        assert_eq!(
            date_from_days((-1_i64).div_euclid(NANOS_PER_DAY)).to_string(),
            "1969-12-31"
        );
    }
}
