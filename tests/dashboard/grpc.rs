//! `peekr.v1.QueryService` over gRPC: the same answers as the JSON API, scoped by key.

use peekr::server::pb;
use peekr::server::pb::query_service_client::QueryServiceClient;
use tonic::Code;

use crate::support::{DAY_A, DAY_B, Server, trace_id};

fn range() -> Option<pb::QueryRequest> {
    Some(pb::QueryRequest {
        range: Some(pb::DateRange {
            from: DAY_A.into(),
            to: DAY_B.into(),
            days: 0,
        }),
        filter: None,
    })
}

fn with_key<T>(message: T, key: &str) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    req.metadata_mut()
        .insert("authorization", format!("Bearer {key}").parse().unwrap());
    req
}

async fn client(server: &Server) -> QueryServiceClient<tonic::transport::Channel> {
    QueryServiceClient::connect(format!("http://{}", server.grpc))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_query_api_answers_with_the_same_exact_figures() {
    let server = Server::with_dataset().await;
    let mut c = client(&server).await;
    let key = server.read_key.clone();

    let series = c
        .get_cost_per_query(with_key(range().unwrap(), &key))
        .await
        .unwrap()
        .into_inner();
    let totals = series.totals.unwrap();
    assert_eq!(
        (
            totals.queries,
            totals.cost_nanos,
            totals.cost_per_query_nanos
        ),
        (6, 48_000_000, Some(8_000_000))
    );
    assert_eq!(series.days.len(), 8);
    assert_eq!(series.days[7].cost_per_query_nanos, Some(12_666_667));
    assert_eq!(series.days[3].cost_per_query_nanos, None);

    let by = pb::BreakdownRequest {
        query: range(),
        by: pb::GroupBy::SpanName as i32,
    };
    let b = c
        .get_breakdown(with_key(by, &key))
        .await
        .unwrap()
        .into_inner();
    let rows: Vec<(Option<String>, i64)> = b
        .rows
        .iter()
        .map(|r| (r.key.clone(), r.cost_nanos))
        .collect();
    assert_eq!(rows[0], (Some("chat gpt-4o".into()), 35_000_000));
    assert_eq!(b.by, pb::GroupBy::SpanName as i32);
    let by = pb::BreakdownRequest {
        query: range(),
        by: pb::GroupBy::Operation as i32,
    };
    let b = c
        .get_breakdown(with_key(by, &key))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((b.embedding_share, b.embedding_flag), (Some(0.125), true));

    let top = c
        .get_top_traces(with_key(
            pb::TopTracesRequest {
                query: range(),
                limit: 1,
            },
            &key,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(top.traces.len(), 1);
    assert_eq!(
        (top.traces[0].trace_id.clone(), top.traces[0].cost_nanos),
        (trace_id(4), 16_000_000)
    );

    let t = c
        .get_trace(with_key(
            pb::GetTraceRequest {
                trace_id: trace_id(4),
            },
            &key,
        ))
        .await
        .unwrap()
        .into_inner();
    let costs: Vec<Option<i64>> = t.spans.iter().map(|s| s.cost_nanos).collect();
    assert_eq!(
        costs,
        [None, Some(1_000_000), Some(5_000_000), Some(10_000_000)]
    );
    assert_eq!(t.spans[3].typical_cost_nanos, Some(8_750_000));

    let cmp = pb::ComparePeriodsRequest {
        filter: None,
        current: Some(pb::DateRange {
            from: DAY_B.into(),
            ..Default::default()
        }),
        baseline: Some(pb::DateRange {
            from: DAY_A.into(),
            ..Default::default()
        }),
    };
    let cmp = c
        .compare_periods(with_key(cmp, &key))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cmp.by_model[0].key.as_deref(), Some("gpt-4o"));
    assert_eq!(cmp.by_model[0].delta_per_query_nanos, 11_666_667);
    assert_eq!(cmp.current.unwrap().cost_per_query_nanos, Some(12_666_667));

    let e = c
        .get_errors(with_key(range().unwrap(), &key))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (e.errors, e.error_cost_nanos, e.retried_calls),
        (1, 5_000_000, 1)
    );

    let i = c
        .get_insights(with_key(range().unwrap(), &key))
        .await
        .unwrap()
        .into_inner();
    let got: Vec<(String, Option<i64>)> = i
        .insights
        .iter()
        .map(|i| (i.kind.clone(), i.saving_per_day_nanos))
        .collect();
    assert_eq!(
        got,
        [
            ("model_mismatch".to_owned(), Some(26_835_617)),
            ("prompt_bloat".to_owned(), Some(5_071_435)),
            ("wasted_spend".to_owned(), Some(2_500_000)),
            ("embedding_share".to_owned(), Some(1_500_000)),
        ]
    );
    let a = c
        .get_alerts(with_key(range().unwrap(), &key))
        .await
        .unwrap()
        .into_inner();
    assert!(a.alerts.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_query_api_refuses_missing_keys_and_scopes_to_the_key_project() {
    let server = Server::with_dataset().await;
    let mut c = client(&server).await;
    let err = c
        .get_cost_per_query(tonic::Request::new(range().unwrap()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let err = c
        .get_insights(with_key(
            range().unwrap(),
            &format!("pk_{}", "1".repeat(64)),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);

    // The ingest key may read too; another project's key sees nothing of `shop`.
    let ok = c
        .get_cost_per_query(with_key(range().unwrap(), &server.ingest_key.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.totals.unwrap().queries, 6);
    let other = server.other_key.clone();
    let none = c
        .get_cost_per_query(with_key(range().unwrap(), &other))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(none.totals.unwrap().queries, 0);
    let err = c
        .get_trace(with_key(
            pb::GetTraceRequest {
                trace_id: trace_id(4),
            },
            &other,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = c
        .get_trace(with_key(
            pb::GetTraceRequest {
                trace_id: "xyz".into(),
            },
            &other,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let bad = pb::QueryRequest {
        range: Some(pb::DateRange {
            from: "March".into(),
            ..Default::default()
        }),
        filter: None,
    };
    let err = c
        .get_cost_per_query(with_key(bad, &other))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("invalid date"), "{}", err.message());
    server.stop().await;
}
