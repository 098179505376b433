//! `peekr serve` alerting and metrics end to end: a receiver in-process on loopback ingests a
//! flat week and a day at twice the cost per query over OTLP/gRPC, its evaluation loop fires
//! the CostSpike once, persists it in the alert history and POSTs signed JSON to a real local
//! webhook server; `GET /metrics` shows the exact cost of what was ingested.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::common::v1::any_value::Value as PValue;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use peekr::server::alerting::{
    AlertHistory, AlertingConfig, SIGNATURE_HEADER, Webhook, daily_rule, run_evaluation, verify,
};
use peekr::server::auth::KeyScope;
use peekr::server::prometheus::MetricsAccess;
use peekr::server::store::{SqliteStore, today_utc};
use peekr::server::{Receiver, ReceiverConfig, ServeError};
use tokio::sync::oneshot;

const PROJECT: &str = "shop";
const SECRET: &str = "s3cret";
/// Queries per day: the rule's minimum in the window (20).
const PER_DAY: u64 = 20;
/// Baseline days before today.
const BASELINE_DAYS: u64 = 7;
/// $0.001 per query in the baseline, $0.002 today.
const FLAT_NANOS: i64 = 1_000_000;
const DAY_SECS: u64 = 86_400;

// ===== a webhook endpoint =====

#[derive(Clone, Default)]
struct Hook {
    received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
}

async fn hook_handler(State(hook): State<Hook>, headers: HeaderMap, body: Bytes) -> StatusCode {
    hook.received.lock().unwrap().push((headers, body));
    StatusCode::NO_CONTENT
}

async fn serve_hook(hook: Hook) -> (String, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook_handler))
        .with_state(hook);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (format!("http://{addr}/hook"), stop)
}

// ===== a receiver =====

struct Running {
    grpc: SocketAddr,
    http: SocketAddr,
    store: Arc<SqliteStore>,
    history: Arc<AlertHistory>,
    ingest_key: String,
    read_key: String,
    other_key: String,
    _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), ServeError>>>,
}

impl Running {
    async fn start(config: impl FnOnce(&mut ReceiverConfig)) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = ReceiverConfig {
            data_dir: dir.path().to_path_buf(),
            ..ReceiverConfig::default()
        };
        config(&mut cfg);
        let receiver = Receiver::open(cfg).unwrap();
        let keys = receiver.keys().clone();
        let ingest_key = keys.create(PROJECT, KeyScope::Ingest).unwrap().secret;
        let read_key = keys.create(PROJECT, KeyScope::Read).unwrap().secret;
        let other_key = keys.create("other", KeyScope::Read).unwrap().secret;
        let store = receiver.store().clone();
        let history = receiver.alert_history().clone();
        let grpc_l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http_l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (grpc, http) = (grpc_l.local_addr().unwrap(), http_l.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(receiver.serve_with_shutdown(grpc_l, Some(http_l), async {
            let _ = stopped.await;
        }));
        Running {
            grpc,
            http,
            store,
            history,
            ingest_key,
            read_key,
            other_key,
            _dir: dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    async fn send(&self, request: ExportTraceServiceRequest) {
        let mut client = TraceServiceClient::connect(format!("http://{}", self.grpc))
            .await
            .unwrap();
        let mut req = tonic::Request::new(request);
        req.metadata_mut().insert(
            "authorization",
            format!("Bearer {}", self.ingest_key).parse().unwrap(),
        );
        let res = client.export(req).await.unwrap().into_inner();
        assert!(res.partial_success.is_none(), "{:?}", res.partial_success);
    }

    /// GET `path` with extra headers; returns the status and the body.
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
        let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
        let mut req = hyper::Request::get(format!("http://{}{path}", self.http));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = client
            .request(req.body(Empty::new()).unwrap())
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
    }
}

// ===== the traffic =====

fn kv(key: &str, value: PValue) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn s(key: &str, v: &str) -> KeyValue {
    kv(key, PValue::StringValue(v.to_owned()))
}

/// 00:00:00 UTC today, in Unix seconds.
fn today_start_secs() -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    now - now % DAY_SECS
}

/// One query: a root `agent` span and one `chat` call with a provided cost, ending `end_secs`.
fn query(n: u32, end_secs: u64, cost_usd: f64) -> [Span; 2] {
    let mut trace_id = [0u8; 16];
    trace_id[..4].copy_from_slice(&n.to_be_bytes());
    trace_id[15] = 1;
    let end = end_secs * 1_000_000_000;
    let span = |id: u8, parent: Option<u8>, name: &str, attributes| Span {
        trace_id: trace_id.to_vec(),
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: name.to_owned(),
        start_time_unix_nano: end - 2_000_000_000,
        end_time_unix_nano: end,
        attributes,
        ..Span::default()
    };
    [
        span(
            2,
            Some(1),
            "chat gpt-4o-mini",
            vec![
                s("gen_ai.operation.name", "chat"),
                s("gen_ai.provider.name", "openai"),
                s("gen_ai.request.model", "gpt-4o-mini"),
                kv("gen_ai.usage.input_tokens", PValue::IntValue(100)),
                kv("gen_ai.usage.output_tokens", PValue::IntValue(10)),
                kv("gen_ai.usage.cost", PValue::DoubleValue(cost_usd)),
                s("tenant.id", "acme"),
            ],
        ),
        span(1, None, "agent", vec![s("tenant.id", "acme")]),
    ]
}

/// `PER_DAY` queries on each of the 7 days before today at $0.001, and `PER_DAY` today at
/// $0.002: today's cost per query is exactly twice the baseline's.
fn week_then_double() -> ExportTraceServiceRequest {
    let today = today_start_secs();
    let mut spans = Vec::new();
    let mut n = 0;
    for back in (0..=BASELINE_DAYS).rev() {
        let cost = if back == 0 { 0.002 } else { 0.001 };
        for i in 0..PER_DAY {
            n += 1;
            spans.extend(query(n, today - back * DAY_SECS + 60 + i, cost));
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![s("service.name", "agent")],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

/// Waits out the first and last two minutes of a UTC day, so the test's "today" is the
/// receiver's.
async fn away_from_midnight() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let into_day = now % DAY_SECS;
    if into_day < 120 {
        tokio::time::sleep(Duration::from_secs(121 - into_day)).await;
    } else if into_day > DAY_SECS - 120 {
        tokio::time::sleep(Duration::from_secs(DAY_SECS - into_day + 121)).await;
    }
}

async fn wait_for<T>(mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn unix_now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

// ===== the tests =====

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doubled_cost_per_query_fires_once_is_kept_in_the_history_and_reaches_the_webhook() {
    away_from_midnight().await;
    let hook = Hook::default();
    let (url, hook_stop) = serve_hook(hook.clone()).await;
    let interval = Duration::from_millis(200);
    let running = Running::start(|c| {
        c.alerting = AlertingConfig {
            multiplier: 2.0,
            interval,
            first_run_after: Duration::from_millis(100),
            webhooks: vec![
                Webhook::new(&url, SECRET)
                    .unwrap()
                    .with_backoff(Duration::from_millis(10)),
            ],
        };
    })
    .await;

    let before = unix_now();
    running.send(week_then_double()).await;

    // The loop fires once the batch is committed.
    let (headers, body) = wait_for(|| hook.received.lock().unwrap().first().cloned()).await;
    assert_eq!(headers["content-type"], "application/json");
    let signature = headers[SIGNATURE_HEADER].to_str().unwrap();
    assert!(
        verify(SECRET.as_bytes(), &body, signature),
        "signature {signature} does not verify"
    );
    assert!(!verify(b"wrong", &body, signature));
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["state"], "firing");
    assert_eq!(json["kind"], "cost_spike");
    assert_eq!(json["scope"], "project");
    assert_eq!(json["project"], PROJECT);
    assert_eq!(json["multiplier"], 2.0);
    assert_eq!(json["ratio"], 2.0);
    assert_eq!(json["window"]["queries"], PER_DAY);
    assert_eq!(json["window"]["cost_usd"], "0.040000000");
    assert_eq!(json["window"]["cost_per_query_usd"], "0.002000000");
    assert_eq!(json["baseline"]["queries"], BASELINE_DAYS * PER_DAY);
    assert_eq!(json["baseline"]["cost_usd"], "0.140000000");
    assert_eq!(json["baseline"]["cost_per_query_usd"], "0.001000000");

    // Several more evaluations: still firing, nothing new is sent.
    tokio::time::sleep(interval * 6).await;
    assert_eq!(
        hook.received.lock().unwrap().len(),
        1,
        "fired more than once"
    );

    // The history row, with its firing time, read back through the API and from the file.
    let rows = running.history.list(PROJECT, 10).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert!(
        (before..=unix_now()).contains(&row.fired_at),
        "fired_at {} not in [{before}, now]",
        row.fired_at
    );
    assert_eq!(row.resolved_at, None);
    assert_eq!(
        (row.kind.as_str(), row.scope.as_str()),
        ("cost_spike", "project")
    );
    assert_eq!(
        (row.window_queries, row.window_cost_nanos),
        (20, 20 * 2 * FLAT_NANOS)
    );
    assert_eq!(
        (row.baseline_queries, row.baseline_cost_nanos),
        (140, 140 * FLAT_NANOS)
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(
            &running.history.payload(row.id).unwrap().unwrap()
        )
        .unwrap(),
        json,
        "the history keeps the payload that was sent"
    );
    let file_rows = peekr::server::store::run_readonly_sql(
        running.store.path(),
        "SELECT project, fired_at, resolved_at FROM alert_history",
        None,
    )
    .unwrap()
    .rows;
    assert_eq!(
        file_rows,
        vec![vec![
            serde_json::json!(PROJECT),
            serde_json::json!(row.fired_at),
            serde_json::Value::Null
        ]]
    );

    let (status, body) = running
        .get(
            "/api/v1/alert_history",
            &[("authorization", &format!("Bearer {}", running.read_key))],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let api: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(api["project"], PROJECT);
    assert_eq!(api["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(api["alerts"][0]["fired_at"], row.fired_at);
    assert_eq!(api["alerts"][0]["resolved_at"], serde_json::Value::Null);
    let (_, body) = running
        .get(
            "/api/v1/alert_history",
            &[("authorization", &format!("Bearer {}", running.other_key))],
        )
        .await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["alerts"],
        serde_json::json!([]),
        "another project sees none of it"
    );
    assert_eq!(running.get("/api/v1/alert_history", &[]).await.0, 401);

    // An evaluation starting from the persisted state (as after a restart) stays quiet.
    let again = run_evaluation(
        &*running.store,
        &running.history,
        &daily_rule(2.0),
        today_utc(),
        SystemTime::now(),
    )
    .unwrap();
    assert!(again.is_empty(), "{again:?}");

    running.stop().await;
    let _ = hook_stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_the_exact_cost_and_queries_of_the_ingested_spans() {
    let running = Running::start(|c| c.alerting.interval = Duration::ZERO).await;
    running.send(week_then_double()).await;

    let (status, text) = running.get("/metrics", &[]).await;
    assert_eq!(status, 200, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let has = |line: &str| {
        assert!(lines.contains(&line), "missing `{line}` in\n{text}");
    };
    // 140 calls at $0.001 and 20 at $0.002.
    has("# TYPE peekr_cost_USD_total counter");
    has(
        "peekr_cost_USD_total{project=\"shop\",gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"openai\",gen_ai_request_model=\"gpt-4o-mini\",tenant_id=\"acme\"} 0.180000000",
    );
    // 160 root spans, each a query costing its one call.
    has("peekr_query_cost_USD_count{project=\"shop\",tenant_id=\"acme\"} 160");
    has("peekr_query_cost_USD_sum{project=\"shop\",tenant_id=\"acme\"} 0.180000000");
    has("peekr_query_cost_USD_bucket{project=\"shop\",tenant_id=\"acme\",le=\"0.0005\"} 0");
    has("peekr_query_cost_USD_bucket{project=\"shop\",tenant_id=\"acme\",le=\"0.001\"} 140");
    has("peekr_query_cost_USD_bucket{project=\"shop\",tenant_id=\"acme\",le=\"0.0025\"} 160");
    has(
        "gen_ai_client_token_usage_sum{project=\"shop\",gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"openai\",gen_ai_request_model=\"gpt-4o-mini\",gen_ai_token_type=\"input\"} 16000",
    );
    // Health.
    has("peekr_receiver_spans_committed_total 320");
    has("peekr_receiver_spans_rejected_total 0");
    has("peekr_traces_evicted_total 0");

    // Loopback only by default: a request relayed by a proxy on this host is refused.
    let (status, _) = running
        .get("/metrics", &[("x-forwarded-for", "203.0.113.7")])
        .await;
    assert_eq!(status, 403);
    // A project's key does not open cross-project figures through a proxy either.
    let (status, _) = running
        .get(
            "/metrics",
            &[
                ("x-forwarded-for", "203.0.113.7"),
                ("authorization", &format!("Bearer {}", running.read_key)),
            ],
        )
        .await;
    assert_eq!(status, 403);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_metrics_key_the_scrape_needs_it() {
    let running = Running::start(|c| {
        c.alerting.interval = Duration::ZERO;
        c.metrics_access = MetricsAccess::Key("scrape-me".into());
    })
    .await;
    assert_eq!(running.get("/metrics", &[]).await.0, 401);
    assert_eq!(
        running
            .get("/metrics", &[("authorization", "Bearer nope")])
            .await
            .0,
        401
    );
    let (status, text) = running
        .get(
            "/metrics",
            &[
                ("authorization", "Bearer scrape-me"),
                ("x-forwarded-for", "203.0.113.7"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        text.contains("peekr_receiver_spans_committed_total 0\n"),
        "{text}"
    );
    // The Costs page is unaffected.
    assert_eq!(running.get("/healthz", &[]).await, (200, "ok".to_owned()));
    running.stop().await;
}
