//! `peekr sql`: read-only, one statement, JSON-able values.

use jiff::civil::date;
use peekr::server::store::{SqlError, run_readonly_sql};

use crate::{S, store, write};

#[tokio::test]
async fn readonly_sql_refuses_every_kind_of_write_with_a_clear_message() {
    let (dir, store) = store();
    write(&store, "acme", vec![S::root("a", "1", date(2025, 3, 1))]).await;
    let db = store.path().to_path_buf();
    let outside = dir.path().join("copy.db");
    let writes = [
        "INSERT INTO spans (project) VALUES ('x')",
        "DELETE FROM spans",
        "UPDATE spans SET cost_nanos = 0",
        "DROP TABLE spans",
        "CREATE TABLE t (x)",
        "PRAGMA user_version = 7",
        "PRAGMA query_only = 0",
        "PRAGMA journal_mode = DELETE",
        "  -- sneaky\n  VACUUM",
        &format!("VACUUM INTO '{}'", outside.display()),
        &format!("ATTACH '{}' AS other", outside.display()),
        "REPLACE INTO api_keys (id) VALUES (1)",
        "WITH x AS (SELECT 1) DELETE FROM spans",
    ];
    for sql in writes {
        match run_readonly_sql(&db, sql, None) {
            Err(error @ SqlError::ReadOnly { .. }) => {
                assert!(
                    error
                        .to_string()
                        .starts_with("peekr sql is read-only: refusing"),
                    "{error}"
                );
            }
            // Statements SQLite cannot even prepare on a read-only connection are refused too.
            Err(SqlError::Sqlite(error)) => {
                assert!(error.to_string().contains("read"), "{sql}: {error}")
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
    assert!(!outside.exists(), "VACUUM INTO or ATTACH created a file");
    let out = run_readonly_sql(&db, "PRAGMA table_info(spans)", None).unwrap();
    assert_eq!(out.rows.len(), 24, "spans has 24 columns");
    let out = run_readonly_sql(&db, "SELECT COUNT(*) AS n FROM spans", None).unwrap();
    assert_eq!(out.rows, [[serde_json::json!(1)]]);
    assert_eq!(crate::scalar(&store, "PRAGMA user_version"), 1);

    let error =
        run_readonly_sql(&db, "DELETE FROM spans WHERE project = 'acme'", None).unwrap_err();
    insta::assert_snapshot!(error, @r#"peekr sql is read-only: refusing "DELETE FROM spans WHERE project = 'acme'""#);
}

#[tokio::test]
async fn readonly_sql_runs_one_statement_and_returns_json_values() {
    let (_dir, store) = store();
    let db = store.path().to_path_buf();
    let out = run_readonly_sql(
        &db,
        "SELECT 1 AS i, 2.5 AS r, 'x' AS t, NULL AS n, x'0aff' AS b",
        None,
    )
    .unwrap();
    assert_eq!(out.columns, ["i", "r", "t", "n", "b"]);
    assert_eq!(
        out.rows,
        [[
            serde_json::json!(1),
            2.5.into(),
            "x".into(),
            serde_json::Value::Null,
            "0aff".into()
        ]]
    );
    assert!(!out.truncated);

    let out = run_readonly_sql(
        &db,
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 10) SELECT x FROM c",
        Some(3),
    )
    .unwrap();
    assert_eq!(out.rows.len(), 3);
    assert!(out.truncated);

    let error = run_readonly_sql(&db, "SELECT 1; DELETE FROM spans", None).unwrap_err();
    insta::assert_snapshot!(error, @r#"peekr sql runs one statement; got more than one in "SELECT 1; DELETE FROM spans""#);
    let error = run_readonly_sql(&db, "  -- nothing\n", None).unwrap_err();
    insta::assert_snapshot!(error, @"no sql statement given");
}

#[test]
fn readonly_sql_on_a_missing_file_names_the_file_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("missing.db");
    let error = run_readonly_sql(&db, "SELECT 1", None).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot open database {} read-only", db.display())),
        "{error}"
    );
    assert!(!db.exists());
}

#[test]
fn readonly_sql_reads_a_wal_database_that_was_closed_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let store = peekr::server::store::SqliteStore::open_path(dir.path().join("peekr.db")).unwrap();
    let db = store.path().to_path_buf();
    drop(store);
    let out = run_readonly_sql(&db, "SELECT COUNT(*) FROM spans", None).unwrap();
    assert_eq!(out.rows, [[serde_json::json!(0)]]);
}
