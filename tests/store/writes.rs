//! Writing: round trip, idempotency, trace totals across batches, the queue, shutdown.

use std::time::Duration;

use jiff::civil::date;
use peekr::server::store::{SqliteStore, SqliteStoreConfig, Store, StoreError, Window};

use crate::{S, scalar, store, write};

#[tokio::test]
async fn written_spans_read_back_unchanged() {
    let (_dir, store) = store();
    let day = date(2025, 3, 1);
    let mut child = S::child("a", "2", "1", day)
        .llm("gpt-4o", 12_345_678, 1000, 200)
        .tenant("t1")
        .session("s1")
        .error()
        .build();
    child.cache_read_tokens = 300;
    child.cache_write_tokens = 20;
    child.reasoning_tokens = 50;
    child.attributes = r#"{"gen_ai.usage.cost":0.012345678}"#.into();
    let root = S::root("a", "1", day).build();

    let ack = store
        .submit("acme", vec![child.clone(), root.clone()])
        .unwrap()
        .await
        .unwrap();
    assert_eq!((ack.spans, ack.inserted, ack.duplicates), (2, 2, 0));

    let spans = store.trace_spans("acme", &root.trace_id).unwrap();
    assert_eq!(spans, vec![root, child]);
    assert_eq!(
        scalar(&store, "SELECT cost_usd FROM spans WHERE span_id LIKE '%2'"),
        0.012345678
    );
    assert_eq!(
        scalar(
            &store,
            "SELECT tokens_total FROM spans WHERE span_id LIKE '%2'"
        ),
        1200
    );
}

#[tokio::test]
async fn resent_spans_are_stored_once_and_never_double_counted() {
    let (_dir, store) = store();
    let day = date(2025, 3, 1);
    let batch = || {
        vec![
            S::root("a", "1", day),
            S::child("a", "2", "1", day).llm("gpt-4o", 1_000, 10, 5),
        ]
    };
    write(&store, "acme", batch()).await;
    let again = write(&store, "acme", batch()).await;
    assert_eq!((again.inserted, again.duplicates), (0, 2));
    // A retry that mixes old and new spans stores only the new one.
    let mut mixed = batch();
    mixed.push(S::child("a", "3", "1", day).llm("gpt-4o", 500, 1, 1));
    let mixed = write(&store, "acme", mixed).await;
    assert_eq!((mixed.inserted, mixed.duplicates), (1, 2));

    assert_eq!(scalar(&store, "SELECT COUNT(*) FROM spans"), 3);
    let days = store
        .cost_per_query("acme", Window::ending(day, 1))
        .unwrap();
    assert_eq!(
        (days[0].queries, days[0].cost_nanos, days[0].llm_calls),
        (1, 1_500, 2)
    );
    let by_model = store
        .breakdown("acme", Window::ending(day, 1), Default::default())
        .unwrap();
    assert_eq!((by_model[0].cost_nanos, by_model[0].llm_calls), (1_500, 2));
}

#[tokio::test]
async fn a_trace_costs_all_its_spans_across_batches_and_services_with_the_root_last() {
    let (_dir, store) = store();
    let day = date(2025, 3, 2);
    // Two services report their LLM calls first, in separate batches; the root comes last.
    write(
        &store,
        "acme",
        vec![S::child("t", "2", "1", day).service("retriever").llm(
            "text-embedding-3-small",
            2_000,
            300,
            0,
        )],
    )
    .await;
    write(
        &store,
        "acme",
        vec![
            S::child("t", "3", "1", day)
                .service("planner")
                .llm("gpt-4o", 30_000, 1000, 100),
        ],
    )
    .await;
    let window = Window::ending(day, 1);
    assert_eq!(
        store.cost_per_query("acme", window).unwrap()[0].queries,
        0,
        "no root yet, no query"
    );

    write(
        &store,
        "acme",
        vec![S::root("t", "1", day).service("api").tenant("t1")],
    )
    .await;
    let d = &store.cost_per_query("acme", window).unwrap()[0];
    assert_eq!(
        (
            d.queries,
            d.cost_nanos,
            d.llm_calls,
            d.tokens_input,
            d.tokens_output
        ),
        (1, 32_000, 2, 1300, 100)
    );
    assert_eq!(d.cost_per_query_nanos, Some(32_000));

    // A late span after the root still lands on the root's day.
    write(
        &store,
        "acme",
        vec![S::child("t", "4", "1", date(2025, 3, 3)).llm("gpt-4o", 8_000, 1, 1)],
    )
    .await;
    let days = store
        .cost_per_query("acme", Window::ending(date(2025, 3, 3), 2))
        .unwrap();
    assert_eq!((days[0].queries, days[0].cost_nanos), (1, 40_000));
    assert_eq!((days[1].queries, days[1].cost_nanos), (0, 0));

    let top = store.top_traces("acme", window, 10).unwrap();
    assert_eq!(top.len(), 1);
    let t = &top[0];
    assert_eq!((t.cost_nanos, t.llm_calls, t.spans), (40_000, 3, 4));
    assert_eq!(t.root_name.as_deref(), Some("agent.run"));
    assert_eq!(t.service.as_deref(), Some("api"));
    assert_eq!(t.tenant_id.as_deref(), Some("t1"));
    assert_eq!(t.day, Some(day));
}

#[tokio::test]
async fn traces_without_a_root_count_in_breakdowns_but_not_as_queries() {
    let (_dir, store) = store();
    let day = date(2025, 3, 2);
    write(
        &store,
        "acme",
        vec![S::child("orphan", "2", "1", day).llm("gpt-4o", 7_000, 1, 1)],
    )
    .await;
    let window = Window::ending(day, 1);
    assert_eq!(store.totals("acme", window).unwrap().queries, 0);
    assert_eq!(
        store.totals("acme", window).unwrap().cost_per_query_nanos,
        None
    );
    assert!(store.top_traces("acme", window, 10).unwrap().is_empty());
    assert_eq!(
        store.breakdown("acme", window, Default::default()).unwrap()[0].cost_nanos,
        7_000
    );
}

#[test]
fn a_full_queue_is_refused_at_once_with_a_distinct_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(
        SqliteStoreConfig::in_dir(dir.path())
            .with_queue_capacity(1)
            .with_max_queued_spans(10),
    )
    .unwrap();
    let day = date(2025, 3, 1);
    // An oversized batch is let in alone; while it commits, nothing else fits.
    let big: Vec<_> = (0..50_000)
        .map(|i| S::child(&format!("{}", i / 5), &format!("{i}"), "1", day).build())
        .collect();
    let first = store.submit("acme", big).unwrap();
    let refused = store
        .submit("acme", vec![S::root("x", "1", day).build()])
        .unwrap_err();
    assert!(matches!(refused, StoreError::Full { .. }), "{refused:?}");
    insta::assert_snapshot!(refused, @"store queue is full (50000 spans queued, limit 10); retry later");
    assert_eq!(first.wait().unwrap().inserted, 50_000);
    // Once committed, there is room again.
    store
        .submit("acme", vec![S::root("x", "1", day).build()])
        .unwrap()
        .wait()
        .unwrap();
}

#[test]
fn close_commits_everything_accepted_and_refuses_later_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(SqliteStoreConfig::in_dir(dir.path())).unwrap();
    let day = date(2025, 3, 1);
    let tickets: Vec<_> = (0..200)
        .map(|i| {
            let spans = (0..10)
                .map(|j| S::child(&format!("{i}"), &format!("{j}"), "1", day).build())
                .collect();
            store.submit("acme", spans).unwrap()
        })
        .collect();
    store.close().unwrap();
    for ticket in tickets {
        assert_eq!(ticket.wait().unwrap().inserted, 10);
    }
    let refused = store
        .submit("acme", vec![S::root("x", "1", day).build()])
        .unwrap_err();
    insta::assert_snapshot!(refused, @"store is shut down");
    drop(store);
    let reopened = SqliteStore::open(SqliteStoreConfig::in_dir(dir.path())).unwrap();
    assert_eq!(scalar(&reopened, "SELECT COUNT(*) FROM spans"), 2000);
}

#[tokio::test]
async fn an_empty_project_name_is_refused() {
    let (_dir, store) = store();
    let error = store.submit("", vec![]).unwrap_err();
    insta::assert_snapshot!(error, @r#"invalid project name "": must not be empty"#);
}

#[test]
fn reopening_keeps_the_schema_version_and_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("peekr.db");
    drop(SqliteStore::open_path(&path).unwrap());
    let store = SqliteStore::open_path(&path).unwrap();
    assert_eq!(scalar(&store, "PRAGMA user_version"), 1);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(conn);
    drop(store);

    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let error = SqliteStore::open_path(&path).unwrap_err();
    insta::assert_snapshot!(error, @"database schema version 99 is newer than this peekr supports (1); upgrade peekr");
}

#[tokio::test]
async fn retention_deletes_spans_traces_and_rollups_before_the_window() {
    // (delete_older_than blocks; it must not panic on a runtime thread either.)
    let (_dir, store) = store();
    for (i, day) in [
        date(2025, 2, 27),
        date(2025, 2, 28),
        date(2025, 3, 1),
        date(2025, 3, 2),
    ]
    .into_iter()
    .enumerate()
    {
        let t = format!("t{i}");
        write(
            &store,
            "acme",
            vec![
                S::root(&t, "1", day),
                S::child(&t, "2", "1", day).llm("gpt-4o", 100, 1, 1),
            ],
        )
        .await;
        write(&store, "other", vec![S::root(&t, "1", day)]).await;
    }
    // Keep 2 days ending 2025-03-02: 03-01 and 03-02.
    let report = store.delete_older_than_at(2, date(2025, 3, 2)).unwrap();
    assert_eq!(report.cutoff_day, Some(date(2025, 3, 1)));
    assert_eq!((report.spans, report.traces), (6, 4));
    assert_eq!(
        scalar(&store, "SELECT MIN(end_time) FROM spans"),
        crate::at(date(2025, 3, 1), 12)
    );
    assert_eq!(
        scalar(&store, "SELECT MIN(day) FROM daily_rollups"),
        "2025-03-01"
    );
    assert_eq!(
        scalar(&store, "SELECT MIN(day) FROM daily_queries"),
        "2025-03-01"
    );
    assert_eq!(scalar(&store, "SELECT COUNT(*) FROM traces"), 4);
    let days = store
        .cost_per_query("acme", Window::ending(date(2025, 3, 2), 4))
        .unwrap();
    let queries: Vec<i64> = days.iter().map(|d| d.queries).collect();
    assert_eq!(queries, [0, 0, 1, 1]);
}

#[test]
fn configured_retention_runs_when_the_store_opens() {
    let dir = tempfile::tempdir().unwrap();
    let old = date(2000, 1, 1);
    {
        let store = SqliteStore::open(SqliteStoreConfig::in_dir(dir.path())).unwrap();
        store
            .submit("acme", vec![S::root("a", "1", old).build()])
            .unwrap()
            .wait()
            .unwrap();
    }
    let store =
        SqliteStore::open(SqliteStoreConfig::in_dir(dir.path()).with_retention_days(Some(30)))
            .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while scalar(&store, "SELECT COUNT(*) FROM spans") != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "retention did not run"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
