//! `peekr report` on a small fixed dataset, with exact numbers.

use jiff::civil::date;
use peekr::server::report::{ReportError, ReportOptions, render_report};
use peekr::server::store::Dimension;

use crate::{S, store, write};

/// Three days of `acme` (and a noisy `other` project that must not show):
///
/// - 2025-03-01: trace a (tenant t1): gpt-4o $0.012345678, gpt-4o-mini $0.00015, embedding
///   $0.000002; trace b (tenant t2): gpt-4o $0.02, failed. 2 queries, $0.032497678.
/// - 2025-03-02: nothing.
/// - 2025-03-03: trace c (tenant t1): claude-sonnet-4 $1. Trace d has no root: its $0.005
///   counts in the breakdown, not in cost per query.
async fn fixture() -> (tempfile::TempDir, peekr::server::store::SqliteStore) {
    let (dir, store) = store();
    let d1 = date(2025, 3, 1);
    let d3 = date(2025, 3, 3);
    write(
        &store,
        "acme",
        vec![
            S::child("a", "2", "1", d1)
                .llm("gpt-4o", 12_345_678, 1000, 200)
                .tenant("t1"),
            S::child("a", "3", "1", d1)
                .llm("gpt-4o-mini", 150_000, 500, 100)
                .tenant("t1"),
            S::child("a", "4", "1", d1)
                .llm("text-embedding-3-small", 2_000, 300, 0)
                .op("embeddings")
                .tenant("t1"),
            S::root("a", "1", d1).tenant("t1"),
        ],
    )
    .await;
    write(
        &store,
        "acme",
        vec![
            S::root("b", "1", d1).tenant("t2").error(),
            S::child("b", "2", "1", d1)
                .llm("gpt-4o", 20_000_000, 2000, 400)
                .tenant("t2")
                .error(),
        ],
    )
    .await;
    write(
        &store,
        "acme",
        vec![
            S::root("c", "1", d3).tenant("t1"),
            S::child("c", "2", "1", d3)
                .llm("claude-sonnet-4", 1_000_000_000, 10_000, 2_000)
                .tenant("t1"),
            S::child("d", "2", "1", d3).llm("gpt-4o", 5_000_000, 100, 10),
        ],
    )
    .await;
    write(
        &store,
        "other",
        vec![
            S::root("z", "1", d1),
            S::child("z", "2", "1", d1).llm("gpt-4o", 999_000_000_000, 1, 1),
        ],
    )
    .await;
    (dir, store)
}

fn options(by: Dimension, json: bool) -> ReportOptions {
    ReportOptions {
        days: 3,
        by,
        project: Some("acme".into()),
        json,
        today: Some(date(2025, 3, 3)),
    }
}

#[tokio::test]
async fn the_report_table_shows_exact_cost_per_query_and_the_breakdown() {
    let (_dir, store) = fixture().await;
    let out = render_report(&store, &options(Dimension::Model, false)).unwrap();
    insta::assert_snapshot!(out, @r#"
        cost per query, project acme, 2025-03-01 to 2025-03-03 (3 UTC days)

        day         queries     cost  cost/query  ¢/query  llm calls  tokens
        2025-03-01        2  $0.0325     $0.0162    1.62¢          4   4,500
        2025-03-02        0    $0.00           -        -          0       0
        2025-03-03        1    $1.00     $1.0000  100.00¢          1  12,000
        --------------------------------------------------------------------
        total             3    $1.03     $0.3442   34.42¢          5  16,500

        by model (each span on the UTC day it ended)

        model                          cost  share  llm calls  tokens in  tokens out  errors
        claude-sonnet-4               $1.00  96.4%          1     10,000       2,000       0
        gpt-4o                      $0.0373   3.6%          3      3,100         610       1
        gpt-4o-mini               $0.000150   0.0%          1        500         100       0
        text-embedding-3-small  $0.00000200   0.0%          1        300           0       0
        "#);
}

#[tokio::test]
async fn the_report_breaks_down_by_tenant_and_operation() {
    let (_dir, store) = fixture().await;
    let out = render_report(&store, &options(Dimension::Tenant, false)).unwrap();
    let breakdown = &out[out.find("by tenant").unwrap()..];
    insta::assert_snapshot!(breakdown, @r#"
        by tenant (each span on the UTC day it ended)

        tenant      cost  share  llm calls  tokens in  tokens out  errors
        t1         $1.01  97.6%          4     11,800       2,300       0
        t2       $0.0200   1.9%          1      2,000         400       2
        (none)  $0.00500   0.5%          1        100          10       0
        "#);
    let out = render_report(&store, &options(Dimension::Operation, false)).unwrap();
    let breakdown = &out[out.find("by operation").unwrap()..];
    insta::assert_snapshot!(breakdown, @r#"
        by operation (each span on the UTC day it ended)

        operation          cost   share  llm calls  tokens in  tokens out  errors
        chat              $1.04  100.0%          5     13,600       2,710       1
        embeddings  $0.00000200    0.0%          1        300           0       0
        "#);
}

#[tokio::test]
async fn the_report_json_is_a_stable_object_with_exact_money() {
    let (_dir, store) = fixture().await;
    let out = render_report(&store, &options(Dimension::Model, true)).unwrap();
    insta::assert_snapshot!(out, @r#"
        {
          "project": "acme",
          "days": 3,
          "from": "2025-03-01",
          "to": "2025-03-03",
          "totals": {
            "queries": 3,
            "cost_nanos": 1032497678,
            "cost_usd": "1.032497678",
            "cost_per_query_nanos": 344165893,
            "cost_per_query_usd": "0.344165893",
            "llm_calls": 5,
            "tokens_input": 13800,
            "tokens_output": 2700
          },
          "series": [
            {
              "day": "2025-03-01",
              "queries": 2,
              "cost_nanos": 32497678,
              "cost_usd": "0.032497678",
              "cost_per_query_nanos": 16248839,
              "cost_per_query_usd": "0.016248839",
              "llm_calls": 4,
              "tokens_input": 3800,
              "tokens_output": 700
            },
            {
              "day": "2025-03-02",
              "queries": 0,
              "cost_nanos": 0,
              "cost_usd": "0.000000000",
              "cost_per_query_nanos": null,
              "cost_per_query_usd": null,
              "llm_calls": 0,
              "tokens_input": 0,
              "tokens_output": 0
            },
            {
              "day": "2025-03-03",
              "queries": 1,
              "cost_nanos": 1000000000,
              "cost_usd": "1.000000000",
              "cost_per_query_nanos": 1000000000,
              "cost_per_query_usd": "1.000000000",
              "llm_calls": 1,
              "tokens_input": 10000,
              "tokens_output": 2000
            }
          ],
          "by": "model",
          "breakdown": [
            {
              "key": "claude-sonnet-4",
              "cost_nanos": 1000000000,
              "cost_usd": "1.000000000",
              "share": 0.963858,
              "llm_calls": 1,
              "tokens_input": 10000,
              "tokens_output": 2000,
              "errors": 0,
              "error_cost_nanos": 0
            },
            {
              "key": "gpt-4o",
              "cost_nanos": 37345678,
              "cost_usd": "0.037345678",
              "share": 0.035996,
              "llm_calls": 3,
              "tokens_input": 3100,
              "tokens_output": 610,
              "errors": 1,
              "error_cost_nanos": 20000000
            },
            {
              "key": "gpt-4o-mini",
              "cost_nanos": 150000,
              "cost_usd": "0.000150000",
              "share": 0.000145,
              "llm_calls": 1,
              "tokens_input": 500,
              "tokens_output": 100,
              "errors": 0,
              "error_cost_nanos": 0
            },
            {
              "key": "text-embedding-3-small",
              "cost_nanos": 2000,
              "cost_usd": "0.000002000",
              "share": 2e-6,
              "llm_calls": 1,
              "tokens_input": 300,
              "tokens_output": 0,
              "errors": 0,
              "error_cost_nanos": 0
            }
          ]
        }
        "#);
}

#[tokio::test]
async fn the_report_needs_a_project_when_there_are_several() {
    let (_dir, store) = fixture().await;
    let mut opts = options(Dimension::Model, false);
    opts.project = None;
    let error = render_report(&store, &opts).unwrap_err();
    insta::assert_snapshot!(error, @"the store holds several projects (acme, other); choose one with --project");
    opts.days = 0;
    opts.project = Some("acme".into());
    let error = render_report(&store, &opts).unwrap_err();
    assert!(matches!(error, ReportError::InvalidDays(0)));
    insta::assert_snapshot!(error, @"invalid --days 0: expected 1 to 3660");
}

#[tokio::test]
async fn an_empty_store_has_nothing_to_report_and_a_quiet_project_shows_zeros() {
    let (_dir, store) = store();
    let mut opts = options(Dimension::Model, false);
    opts.project = None;
    let error = render_report(&store, &opts).unwrap_err();
    insta::assert_snapshot!(error, @"the store holds no spans yet; nothing to report");
    opts.project = Some("acme".into());
    let out = render_report(&store, &opts).unwrap();
    insta::assert_snapshot!(out, @r#"
        cost per query, project acme, 2025-03-01 to 2025-03-03 (3 UTC days)

        day         queries   cost  cost/query  ¢/query  llm calls  tokens
        2025-03-01        0  $0.00           -        -          0       0
        2025-03-02        0  $0.00           -        -          0       0
        2025-03-03        0  $0.00           -        -          0       0
        ------------------------------------------------------------------
        total             0  $0.00           -        -          0       0

        by model (each span on the UTC day it ended)

        no llm calls in this window
        "#);
}
