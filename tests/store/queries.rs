//! Reads: project isolation, rollups against brute force, the DESIGN.md sessions query.

use jiff::civil::date;
use peekr::server::store::{Dimension, Store, Window};

use crate::{S, store, write};

#[tokio::test]
async fn a_project_never_sees_another_projects_data_in_any_query() {
    let (_dir, store) = store();
    let day = date(2025, 3, 1);
    // The same trace and span ids in both projects: two separate traces, not duplicates.
    let trace = |model: &str, cost: i64, tenant: &str| {
        vec![
            S::root("same", "1", day).tenant(tenant),
            S::child("same", "2", "1", day)
                .llm(model, cost, 10, 1)
                .op("chat")
                .tenant(tenant),
        ]
    };
    let a = write(&store, "alpha", trace("gpt-4o", 1_000, "ta")).await;
    let b = write(&store, "beta", trace("claude-sonnet-4", 9_000, "tb")).await;
    assert_eq!((a.inserted, b.inserted), (2, 2));

    let window = Window::ending(day, 7);
    assert_eq!(store.projects().unwrap(), ["alpha", "beta"]);
    for (project, model, cost, tenant) in [
        ("alpha", "gpt-4o", 1_000, "ta"),
        ("beta", "claude-sonnet-4", 9_000, "tb"),
    ] {
        let totals = store.totals(project, window).unwrap();
        assert_eq!((totals.queries, totals.cost_nanos), (1, cost), "{project}");
        let days = store.cost_per_query(project, window).unwrap();
        assert_eq!(days.iter().map(|d| d.cost_nanos).sum::<i64>(), cost);
        for (by, key) in [
            (Dimension::Model, model),
            (Dimension::Operation, "chat"),
            (Dimension::Tenant, tenant),
        ] {
            let rows = store.breakdown(project, window, by).unwrap();
            assert_eq!(rows.len(), 1, "{project} by {by}");
            assert_eq!(
                (rows[0].key.as_deref(), rows[0].cost_nanos),
                (Some(key), cost)
            );
            assert_eq!(rows[0].share, 1.0);
        }
        let top = store.top_traces(project, window, 10).unwrap();
        assert_eq!(top.len(), 1);
        assert_eq!(top[0].cost_nanos, cost);
        let spans = store
            .trace_spans(project, &format!("{:0>32}", "same"))
            .unwrap();
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[1].model.as_deref(), Some(model));
    }
    let nobody = Window::ending(day, 30);
    assert_eq!(store.totals("gamma", nobody).unwrap().queries, 0);
    assert!(
        store
            .breakdown("gamma", nobody, Dimension::Model)
            .unwrap()
            .is_empty()
    );
    assert!(store.top_traces("gamma", nobody, 10).unwrap().is_empty());
    assert!(
        store
            .trace_spans("gamma", &format!("{:0>32}", "same"))
            .unwrap()
            .is_empty()
    );
}

/// A tiny deterministic generator (no test may depend on the clock or a seedless RNG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn rollups_and_traces_equal_a_brute_force_sum_over_spans() {
    let (_dir, store) = store();
    let mut rng = Lcg(7);
    let days = [date(2025, 2, 27), date(2025, 2, 28), date(2025, 3, 1)];
    let models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4"];
    let mut spans = Vec::new();
    for t in 0..300 {
        let project = ["alpha", "beta"][rng.next(2) as usize];
        let day = days[rng.next(3) as usize];
        let trace = format!("{t}");
        // One trace in ten never gets its root.
        if rng.next(10) != 0 {
            let mut root = S::root(&trace, "1", day).hour(23);
            if rng.next(2) == 0 {
                root = root.tenant(["t1", "t2"][rng.next(2) as usize]);
            }
            spans.push((project, root));
        }
        for c in 0..rng.next(6) {
            // Children may end on the next day (after midnight) or the previous one.
            let mut child =
                S::child(&trace, &format!("{}", c + 2), "1", day).hour(rng.next(30) as i64);
            if rng.next(4) != 0 {
                let model = models[rng.next(3) as usize];
                child = child.llm(
                    model,
                    rng.next(5_000_000) as i64,
                    rng.next(2000) as i64,
                    rng.next(500) as i64,
                );
            }
            if rng.next(3) == 0 {
                child = child.op("embeddings").tenant("t1");
            }
            if rng.next(8) == 0 {
                child = child.error();
            }
            spans.push((project, child));
        }
    }
    // Shuffle, then send in batches of random size, re-sending some batches (exporter retries).
    for i in (1..spans.len()).rev() {
        spans.swap(i, rng.next(i as u64 + 1) as usize);
    }
    let mut rest = spans.as_slice();
    while !rest.is_empty() {
        let n = (rng.next(40) as usize + 1).min(rest.len());
        let (batch, tail) = rest.split_at(n);
        rest = tail;
        for project in ["alpha", "beta"] {
            let mine: Vec<S> = batch
                .iter()
                .filter(|(p, _)| *p == project)
                .map(|(_, s)| s.clone())
                .collect();
            if mine.is_empty() {
                continue;
            }
            write(&store, project, mine.clone()).await;
            if rng.next(5) == 0 {
                write(&store, project, mine).await;
            }
        }
    }

    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let differ = |a: &str, b: &str| -> i64 {
        let sql = format!(
            "SELECT (SELECT COUNT(*) FROM ({a} EXCEPT {b})) + (SELECT COUNT(*) FROM ({b} EXCEPT {a}))"
        );
        conn.query_row(&sql, [], |row| row.get(0)).unwrap()
    };
    let rollups = "SELECT project, day, model, operation, tenant, spans, llm_calls, cost_nanos,
                          tokens_input, tokens_output, errors, error_cost_nanos FROM daily_rollups";
    let brute_rollups = "SELECT project, date(end_time / 1000000000, 'unixepoch'), COALESCE(model, ''),
                COALESCE(operation, ''), COALESCE(tenant_id, ''), COUNT(*),
                SUM(cost_status IS NOT NULL OR cost_nanos IS NOT NULL), COALESCE(SUM(cost_nanos), 0),
                SUM(tokens_input), SUM(tokens_output), SUM(status_code = 2),
                COALESCE(SUM(CASE WHEN status_code = 2 THEN cost_nanos END), 0)
         FROM spans GROUP BY 1, 2, 3, 4, 5";
    assert_eq!(differ(rollups, brute_rollups), 0);

    let per_trace = "SELECT project, trace_id, COALESCE(SUM(cost_nanos), 0) AS c,
                SUM(cost_status IS NOT NULL OR cost_nanos IS NOT NULL) AS l, SUM(tokens_input) AS ti,
                SUM(tokens_output) AS tout, COUNT(*) AS n, SUM(status_code = 2) AS e,
                MIN(start_time) AS s, MAX(end_time) AS f
         FROM spans GROUP BY 1, 2";
    let roots =
        "SELECT project, trace_id, date(end_time / 1000000000, 'unixepoch') AS day, name, service,
                tenant_id FROM spans WHERE parent_span_id IS NULL";
    let traces =
        "SELECT project, trace_id, day, root_name, service, cost_nanos, llm_calls, tokens_input,
                tokens_output, spans, errors, start_time, end_time FROM traces";
    let brute_traces = format!(
        "SELECT t.project, t.trace_id, r.day, r.name, r.service, c, l, ti, tout, n, e, s, f
         FROM ({per_trace}) t LEFT JOIN ({roots}) r USING (project, trace_id)"
    );
    assert_eq!(differ(traces, &brute_traces), 0);

    let queries =
        "SELECT project, day, queries, cost_nanos, llm_calls, tokens_input, tokens_output, spans,
                errors FROM daily_queries";
    let brute_queries = format!(
        "SELECT r.project, r.day, COUNT(*), SUM(c), SUM(l), SUM(ti), SUM(tout), SUM(n), SUM(e)
         FROM ({roots}) r JOIN ({per_trace}) t USING (project, trace_id) GROUP BY 1, 2"
    );
    assert_eq!(differ(queries, &brute_queries), 0);

    // And the query API reads the same numbers.
    let window = Window::ending(date(2025, 3, 2), 5);
    let brute_cost: i64 = conn
        .query_row(
            &format!("SELECT SUM(t.c) FROM ({roots}) r JOIN ({per_trace}) t USING (project, trace_id) WHERE project = 'alpha'"),
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(
        store.totals("alpha", window).unwrap().cost_nanos,
        brute_cost
    );
    assert!(brute_cost > 0);
}

#[tokio::test]
async fn the_design_sessions_query_runs_as_written() {
    let (_dir, store) = store();
    let day = date(2025, 3, 1);
    let turn = |trace: &str, session: &str, tokens: i64| {
        vec![
            S::root(trace, "1", day).session(session),
            S::child(trace, "2", "1", day)
                .name("openai.chat.completions")
                .llm("gpt-4o", 1, tokens, 0)
                .session(session),
        ]
    };
    write(&store, "acme", turn("a", "s1", 100)).await;
    write(&store, "acme", turn("b", "s1", 300)).await;
    write(&store, "acme", turn("c", "s2", 50)).await;
    let out = store
        .sql(
            "SELECT session_id, AVG(tokens_total) AS avg_tokens, COUNT(*) AS turns FROM spans WHERE name = 'openai.chat.completions' GROUP BY session_id ORDER BY turns DESC;",
            None,
        )
        .unwrap();
    assert_eq!(out.columns, ["session_id", "avg_tokens", "turns"]);
    assert_eq!(
        out.rows,
        vec![
            vec![
                serde_json::json!("s1"),
                serde_json::json!(200.0),
                serde_json::json!(2)
            ],
            vec![
                serde_json::json!("s2"),
                serde_json::json!(50.0),
                serde_json::json!(1)
            ],
        ]
    );
}
