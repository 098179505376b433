//! Exact figures from `/api/v1/...` over the fixed dataset.

use serde_json::{Value, json};

use crate::support::{DAY_A, DAY_B, Server, WINDOW, trace_id};

fn rows(v: &Value) -> Vec<(Option<&str>, i64)> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str(), r["cost_nanos"].as_i64().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cost_per_query_series_is_exact_per_day_and_in_total() {
    let server = Server::with_dataset().await;
    let v = server
        .json(&format!("/api/v1/cost_per_query?{WINDOW}"))
        .await;
    let days = v["days"].as_array().unwrap();
    assert_eq!(days.len(), 8);
    let a = &days[0];
    assert_eq!(
        (
            a["day"].as_str(),
            a["queries"].as_i64(),
            a["cost_nanos"].as_i64()
        ),
        (Some(DAY_A), Some(3), Some(10_000_000))
    );
    // 10,000,000 / 3 = 3,333,333.3 → rounded half up.
    assert_eq!(a["cost_per_query_nanos"], 3_333_333);
    let b = &days[7];
    assert_eq!(
        (
            b["day"].as_str(),
            b["queries"].as_i64(),
            b["cost_nanos"].as_i64()
        ),
        (Some(DAY_B), Some(3), Some(38_000_000))
    );
    assert_eq!(b["cost_per_query_nanos"], 12_666_667);
    assert!(
        days[1..7]
            .iter()
            .all(|d| d["queries"] == 0 && d["cost_per_query_nanos"].is_null())
    );
    assert_eq!(v["totals"]["queries"], 6);
    assert_eq!(v["totals"]["cost_nanos"], 48_000_000);
    assert_eq!(v["totals"]["cost_per_query_nanos"], 8_000_000);
    assert_eq!(v["totals"]["llm_calls"], 13);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_narrow_queries_by_tenant_and_spans_by_model() {
    let server = Server::with_dataset().await;
    let t1 = server
        .json(&format!("/api/v1/cost_per_query?{WINDOW}&tenant=t1"))
        .await;
    assert_eq!(
        (
            t1["totals"]["queries"].as_i64(),
            t1["totals"]["cost_nanos"].as_i64()
        ),
        (Some(3), Some(10_000_000))
    );
    // A model filter keeps every query and counts only that model's cost: gpt-4o's share of
    // cost per query.
    let m = server
        .json(&format!("/api/v1/cost_per_query?{WINDOW}&model=gpt-4o"))
        .await;
    assert_eq!(m["totals"]["queries"], 6);
    assert_eq!(m["totals"]["cost_nanos"], 35_000_000);
    assert_eq!(m["days"][7]["cost_per_query_nanos"], 11_666_667);
    assert_eq!(m["days"][0]["cost_nanos"], 0);
    let svc = server
        .json(&format!(
            "/api/v1/cost_per_query?{WINDOW}&service=retriever"
        ))
        .await;
    assert_eq!(svc["totals"]["cost_nanos"], 1_000_000);
    let top = server
        .json(&format!("/api/v1/top_traces?{WINDOW}&model=gpt-4o-mini"))
        .await;
    let ids: Vec<&str> = top
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["trace_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [trace_id(3), trace_id(2), trace_id(1)]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breakdowns_by_operation_model_tenant_service_and_span_name() {
    let server = Server::with_dataset().await;
    let op = server
        .json(&format!("/api/v1/breakdown?{WINDOW}&by=operation"))
        .await;
    assert_eq!(
        rows(&op),
        [(Some("chat"), 42_000_000), (Some("embeddings"), 6_000_000)]
    );
    assert_eq!(op["queries"], 6);
    assert_eq!(op["total_cost_nanos"], 48_000_000);
    // 6 / 48 = 12.5% of spend on embeddings: above the 10% flag.
    assert_eq!(op["embedding_share"], 0.125);
    assert_eq!(op["embedding_flag"], true);
    let model = server
        .json(&format!("/api/v1/breakdown?{WINDOW}&by=model"))
        .await;
    assert_eq!(
        rows(&model),
        [
            (Some("gpt-4o"), 35_000_000),
            (Some("gpt-4o-mini"), 7_000_000),
            (Some("text-embedding-3-small"), 6_000_000)
        ]
    );
    assert_eq!(model["rows"][0]["errors"], 1);
    assert_eq!(model["rows"][0]["error_cost_nanos"], 5_000_000);
    assert_eq!(model["rows"][0]["llm_calls"], 4);
    let tenant = server
        .json(&format!("/api/v1/breakdown?{WINDOW}&by=tenant"))
        .await;
    assert_eq!(
        rows(&tenant),
        [(Some("t2"), 38_000_000), (Some("t1"), 10_000_000)]
    );
    let service = server
        .json(&format!("/api/v1/breakdown?{WINDOW}&by=service"))
        .await;
    assert_eq!(
        rows(&service),
        [(Some("agent"), 47_000_000), (Some("retriever"), 1_000_000)]
    );
    let name = server
        .json(&format!("/api/v1/breakdown?{WINDOW}&by=name"))
        .await;
    assert_eq!(
        rows(&name),
        [
            (Some("chat gpt-4o"), 35_000_000),
            (Some("chat gpt-4o-mini"), 7_000_000),
            (Some("embeddings text-embedding-3-small"), 6_000_000)
        ]
    );
    // The same breakdown with a filter reads the spans instead of the rollups.
    let t2 = server
        .json(&format!("/api/v1/breakdown?{WINDOW}&by=model&tenant=t2"))
        .await;
    assert_eq!(
        rows(&t2),
        [
            (Some("gpt-4o"), 35_000_000),
            (Some("text-embedding-3-small"), 3_000_000)
        ]
    );
    let (status, body) = server
        .get(
            &format!("/api/v1/breakdown?{WINDOW}&by=colour"),
            Some(&server.read_key.clone()),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("unknown breakdown"), "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_traces_open_a_waterfall_with_every_span_cost_and_tokens() {
    let server = Server::with_dataset().await;
    let top = server
        .json(&format!("/api/v1/top_traces?{WINDOW}&limit=3"))
        .await;
    let got: Vec<(&str, i64)> = top
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["trace_id"].as_str().unwrap(),
                t["cost_nanos"].as_i64().unwrap(),
            )
        })
        .collect();
    let (t4, t5, t6) = (trace_id(4), trace_id(5), trace_id(6));
    assert_eq!(
        got,
        [
            (t4.as_str(), 16_000_000),
            (t5.as_str(), 11_000_000),
            (t6.as_str(), 11_000_000)
        ]
    );
    assert_eq!(top[0]["errors"], 1);
    assert_eq!(top[0]["tenant_id"], "t2");

    let t = server.json(&format!("/api/v1/traces/{t4}")).await;
    assert_eq!(t["cost_nanos"], 16_000_000);
    assert_eq!(t["tokens_input"], 2010);
    let spans = t["spans"].as_array().unwrap();
    let summary: Vec<(u64, &str, Option<i64>, i64)> = spans
        .iter()
        .map(|s| {
            (
                s["depth"].as_u64().unwrap(),
                s["name"].as_str().unwrap(),
                s["cost_nanos"].as_i64(),
                s["tokens_input"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (0, "invoke_agent shop-agent", None, 0),
            (1, "embeddings text-embedding-3-small", Some(1_000_000), 10),
            (1, "chat gpt-4o", Some(5_000_000), 1000),
            (1, "chat gpt-4o", Some(10_000_000), 1000),
        ]
    );
    assert_eq!(spans[2]["status_code"], 2);
    assert_eq!(spans[3]["share"], 0.625);
    // What a `chat gpt-4o` call usually costs: 35,000,000 over 4 calls.
    assert_eq!(spans[3]["typical_cost_nanos"], 8_750_000);
    assert_eq!(spans[3]["evaluation_score"], 0.89);
    assert_eq!(spans[3]["start_offset_ns"], 2_001_000_000_i64);

    let (status, _) = server
        .get(
            &format!("/api/v1/traces/{}", "f".repeat(32)),
            Some(&server.read_key.clone()),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .get("/api/v1/traces/not-hex", Some(&server.read_key.clone()))
        .await;
    assert_eq!(status, 400);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_ranks_what_changed_cost_per_query_most() {
    let server = Server::with_dataset().await;
    let c = server
        .json(&format!(
            "/api/v1/compare?current_from={DAY_B}&baseline_from={DAY_A}"
        ))
        .await;
    assert_eq!(c["current"]["cost_per_query_nanos"], 12_666_667);
    assert_eq!(c["baseline"]["cost_per_query_nanos"], 3_333_333);
    let changes = |k: &str| -> Vec<(String, i64)> {
        c[k].as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["key"].as_str().unwrap().to_owned(),
                    r["delta_per_query_nanos"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        changes("by_model"),
        [
            ("gpt-4o".to_owned(), 11_666_667),
            ("gpt-4o-mini".to_owned(), -2_333_333),
            ("text-embedding-3-small".to_owned(), 0)
        ]
    );
    assert_eq!(
        changes("by_operation"),
        [("chat".to_owned(), 9_333_334), ("embeddings".to_owned(), 0)]
    );
    assert_eq!(
        changes("by_name")[0],
        ("chat gpt-4o".to_owned(), 11_666_667)
    );
    assert_eq!(c["by_model"][0]["current_cost_nanos"], 35_000_000);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_and_retries_are_counted_and_costed() {
    let server = Server::with_dataset().await;
    let e = server.json(&format!("/api/v1/errors?{WINDOW}")).await;
    assert_eq!(
        (
            &e["llm_calls"],
            &e["errors"],
            &e["error_cost_nanos"],
            &e["retried_calls"],
            &e["retried_cost_nanos"]
        ),
        (
            &json!(13),
            &json!(1),
            &json!(5_000_000),
            &json!(1),
            &json!(5_000_000)
        )
    );
    assert_eq!(e["by_model"][0]["key"], "gpt-4o");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insights_say_what_to_do_and_what_it_saves_per_day() {
    let server = Server::with_dataset().await;
    let list = server.json(&format!("/api/v1/insights?{WINDOW}")).await;
    let got: Vec<(&str, i64)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap(),
                i["saving_per_day_nanos"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            // gpt-4o's 3 scored calls (3,300 tokens, 30,000,000) at gpt-4o-mini's scored cost
            // per token (7,000,000 / 7,300) cost 3,164,383: the rest is saved, on its 1 day.
            ("model_mismatch", 26_835_617),
            // Session s1: turns of 1,010 → 2,010 → 4,010 input tokens; the excess tokens' share
            // of turns 2 and 3 costs 1,421,800 + 3,649,635, all on day A.
            ("prompt_bloat", 5_071_435),
            // 5,000,000 on the failed call over 2 active days.
            ("wasted_spend", 2_500_000),
            // 6,000,000 on embeddings over 2 days, half of it.
            ("embedding_share", 1_500_000),
        ]
    );
    let mismatch = &list[0];
    assert!(
        mismatch["title"]
            .as_str()
            .unwrap()
            .starts_with("chat: gpt-4o costs"),
        "{mismatch}"
    );
    assert!(
        mismatch["detail"]
            .as_str()
            .unwrap()
            .contains("gpt-4o-mini 0.880, gpt-4o 0.890"),
        "{mismatch}"
    );
    assert!(mismatch["action"].as_str().unwrap().contains("gpt-4o-mini"));
    let bloat = &list[1];
    assert!(
        bloat["title"].as_str().unwrap().contains("1 of 1 sessions"),
        "{bloat}"
    );
    assert_eq!(bloat["items"][0]["label"], "session s1");
    assert_eq!(bloat["trace_id"], trace_id(3));
    // Too few queries per day for a cost-per-query jump or a spike alert.
    assert_eq!(
        server.json(&format!("/api/v1/alerts?{WINDOW}")).await,
        json!([])
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_response_holds_every_panel_and_the_filter_values() {
    let server = Server::with_dataset().await;
    let d = server.json(&format!("/api/v1/dashboard?{WINDOW}")).await;
    assert_eq!(d["project"], "shop");
    assert_eq!(d["series"]["totals"]["cost_nanos"], 48_000_000);
    assert_eq!(
        rows(&d["by_service"]),
        [(Some("agent"), 47_000_000), (Some("retriever"), 1_000_000)]
    );
    assert_eq!(
        rows(&d["by_tenant"]),
        [(Some("t2"), 38_000_000), (Some("t1"), 10_000_000)]
    );
    assert_eq!(d["top_traces"][0]["trace_id"], trace_id(4));
    assert_eq!(d["errors"]["errors"], 1);
    assert_eq!(d["insights"].as_array().unwrap().len(), 4);
    // Default comparison: the window's last day but one against a week before it.
    assert_eq!(d["compare"]["current"]["from"], "2026-03-08");
    assert_eq!(d["compare"]["baseline"]["from"], "2026-03-01");
    assert_eq!(d["filter_values"]["tenants"], json!(["t1", "t2"]));
    assert_eq!(
        d["filter_values"]["models"],
        json!(["gpt-4o", "gpt-4o-mini", "text-embedding-3-small"])
    );
    assert_eq!(d["filter_values"]["services"], json!(["agent"]));
    let (status, body) = server
        .get(
            "/api/v1/dashboard?from=2026-03-09&to=2026-03-01",
            Some(&server.read_key.clone()),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peekr_report_insights_prints_the_same_insights() {
    let server = Server::with_dataset().await;
    let dir = server.stop_keeping_data().await;
    let text = tokio::task::spawn_blocking(move || {
        let store =
            peekr::server::store::SqliteStore::open_path(dir.path().join("peekr.db")).unwrap();
        let mut options = peekr::server::report::ReportOptions {
            days: 8,
            project: Some("shop".into()),
            today: Some(DAY_B.parse().unwrap()),
            ..Default::default()
        };
        let text = peekr::server::query::insights_report(&store, &options).unwrap();
        options.json = true;
        let json: Value =
            serde_json::from_str(&peekr::server::query::insights_report(&store, &options).unwrap())
                .unwrap();
        assert_eq!(json[0]["saving_per_day_nanos"], 26_835_617);
        text
    })
    .await
    .unwrap();
    assert!(
        text.starts_with("insights, project shop, 2026-03-02 to 2026-03-09\n"),
        "{text}"
    );
    assert!(
        text.contains("1. [model_mismatch] chat: gpt-4o costs"),
        "{text}"
    );
    assert!(text.contains("   saves about $0.0268 per day\n"), "{text}");
    assert!(text.contains("2. [prompt_bloat]"), "{text}");
    assert!(
        text.contains("   - session s1: 3 turns, input 1,010 → 4,010 tokens"),
        "{text}"
    );
}
