//! A receiver on ephemeral ports, a fixed dataset sent over OTLP/gRPC, and a small HTTP client.

use std::net::SocketAddr;

use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, status};
use peekr::server::auth::KeyScope;
use peekr::server::{Receiver, ReceiverConfig};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// The project the dataset is sent to.
pub(crate) const PROJECT: &str = "shop";
/// Days of the dataset: a baseline Monday and the Monday a week later.
pub(crate) const DAY_A: &str = "2026-03-02";
pub(crate) const DAY_B: &str = "2026-03-09";
/// The window covering both days, as query parameters.
pub(crate) const WINDOW: &str = "from=2026-03-02&to=2026-03-09";

/// A running `peekr serve` with keys for two projects.
pub(crate) struct Server {
    pub(crate) http: SocketAddr,
    pub(crate) grpc: SocketAddr,
    /// Ingest key of `shop`.
    pub(crate) ingest_key: String,
    /// Read-only (dashboard) key of `shop`.
    pub(crate) read_key: String,
    /// Read key of another project, `other`, which has no data.
    pub(crate) other_key: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: TempDir,
}

impl Server {
    /// Starts a receiver and sends the dataset.
    pub(crate) async fn with_dataset() -> Server {
        let server = Server::start().await;
        server.send(dataset()).await;
        server
    }

    pub(crate) async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let receiver = Receiver::open(ReceiverConfig {
            data_dir: dir.path().to_path_buf(),
            ..ReceiverConfig::default()
        })
        .unwrap();
        let ingest_key = receiver
            .keys()
            .create(PROJECT, KeyScope::Ingest)
            .unwrap()
            .secret;
        let read_key = receiver
            .keys()
            .create(PROJECT, KeyScope::Read)
            .unwrap()
            .secret;
        let other_key = receiver
            .keys()
            .create("other", KeyScope::Read)
            .unwrap()
            .secret;
        let grpc_l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http_l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (grpc, http) = (grpc_l.local_addr().unwrap(), http_l.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            receiver
                .serve_with_shutdown(grpc_l, Some(http_l), async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Server {
            http,
            grpc,
            ingest_key,
            read_key,
            other_key,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    /// Sends spans over OTLP/gRPC with the ingest key; panics unless all are accepted.
    pub(crate) async fn send(&self, request: ExportTraceServiceRequest) {
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

    /// GET `path` with an optional key; returns the status and the body.
    pub(crate) async fn get(&self, path: &str, key: Option<&str>) -> (u16, String) {
        self.request(
            "GET",
            path,
            key.map(|k| ("authorization", format!("Bearer {k}"))),
            None,
        )
        .await
    }

    /// GET `path` and parse the JSON body; panics on a non-200.
    pub(crate) async fn json(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.get(path, Some(&self.read_key.clone())).await;
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    pub(crate) async fn request(
        &self,
        method: &str,
        path: &str,
        header: Option<(&str, String)>,
        form: Option<String>,
    ) -> (u16, String) {
        self.request_full(method, path, header, form)
            .await
            .map_body()
    }

    /// The whole response: status, headers and body.
    pub(crate) async fn request_full(
        &self,
        method: &str,
        path: &str,
        header: Option<(&str, String)>,
        form: Option<String>,
    ) -> Reply {
        let client = Client::builder(TokioExecutor::new())
            .build_http::<http_body_util::Either<Empty<Bytes>, Full<Bytes>>>();
        let mut builder = hyper::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.http));
        if let Some((name, value)) = header {
            builder = builder.header(name, value);
        }
        let body = match form {
            Some(f) => {
                builder = builder.header("content-type", "application/x-www-form-urlencoded");
                http_body_util::Either::Right(Full::new(Bytes::from(f)))
            }
            None => http_body_util::Either::Left(Empty::new()),
        };
        let res = client.request(builder.body(body).unwrap()).await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// Stops the server and hands back its data directory (holding `peekr.db`).
    pub(crate) async fn stop_keeping_data(mut self) -> TempDir {
        self.shutdown().await;
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self._dir, dir)
    }

    pub(crate) async fn stop(mut self) {
        self.shutdown().await;
    }

    async fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap();
        }
    }
}

/// An HTTP response.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: hyper::HeaderMap,
    pub(crate) body: String,
}

impl Reply {
    fn map_body(self) -> (u16, String) {
        (self.status, self.body)
    }
}

// ===== the dataset =====

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}
fn s(key: &str, v: &str) -> KeyValue {
    kv(key, any_value::Value::StringValue(v.into()))
}
fn i(key: &str, v: i64) -> KeyValue {
    kv(key, any_value::Value::IntValue(v))
}
fn d(key: &str, v: f64) -> KeyValue {
    kv(key, any_value::Value::DoubleValue(v))
}

/// Unix ns of `day` (YYYY-MM-DD) at `secs` past midnight UTC.
pub(crate) fn at(day: &str, secs: u64) -> u64 {
    let date: jiff::civil::Date = day.parse().unwrap();
    let days = date
        .since(jiff::civil::date(1970, 1, 1))
        .unwrap()
        .get_days();
    (u64::try_from(days).unwrap() * 86_400 + secs) * 1_000_000_000
}

/// The trace id of query `n` (1-based), as 32 hex digits.
pub(crate) fn trace_id(n: u8) -> String {
    format!("{:032x}", 0xa000 + u32::from(n))
}

fn id16(n: u8) -> Vec<u8> {
    let mut v = vec![0; 16];
    v[14] = 0xa0;
    v[15] = n;
    v
}

fn span_id(trace: u8, n: u8) -> Vec<u8> {
    vec![0, 0, 0, 0, 0, 0, trace, n]
}

/// One LLM call of a query.
struct Call {
    name: &'static str,
    op: &'static str,
    model: &'static str,
    input: i64,
    output: i64,
    cost_usd: f64,
    score: Option<f64>,
    failed: bool,
    service: &'static str,
}

fn emb(service: &'static str) -> Call {
    Call {
        name: "embeddings text-embedding-3-small",
        op: "embeddings",
        model: "text-embedding-3-small",
        input: 10,
        output: 0,
        cost_usd: 0.001,
        score: None,
        failed: false,
        service,
    }
}

fn chat(model: &'static str, input: i64, cost_usd: f64, score: Option<f64>) -> Call {
    let name = if model == "gpt-4o" {
        "chat gpt-4o"
    } else {
        "chat gpt-4o-mini"
    };
    Call {
        name,
        op: "chat",
        model,
        input,
        output: 100,
        cost_usd,
        score,
        failed: false,
        service: "agent",
    }
}

/// Spans of one query: a root `invoke_agent` span and its calls, one second apart.
fn query(
    n: u8,
    day: &str,
    secs: u64,
    tenant: &str,
    session: &str,
    calls: Vec<Call>,
) -> Vec<(&'static str, Span)> {
    let ids = [s("tenant.id", tenant), s("session.id", session)];
    let start = at(day, secs);
    let mut out = vec![(
        "agent",
        Span {
            trace_id: id16(n),
            span_id: span_id(n, 1),
            name: "invoke_agent shop-agent".into(),
            kind: 2,
            start_time_unix_nano: start,
            end_time_unix_nano: start + (calls.len() as u64 + 1) * 1_000_000_000,
            attributes: [s("gen_ai.operation.name", "invoke_agent")]
                .into_iter()
                .chain(ids.iter().cloned())
                .collect(),
            ..Span::default()
        },
    )];
    for (k, c) in calls.into_iter().enumerate() {
        let t = start + k as u64 * 1_000_000_000 + 1_000_000;
        let mut attrs = vec![
            s("gen_ai.operation.name", c.op),
            s("gen_ai.provider.name", "openai"),
            s("gen_ai.request.model", c.model),
            i("gen_ai.usage.input_tokens", c.input),
            i("gen_ai.usage.output_tokens", c.output),
            d("gen_ai.usage.cost", c.cost_usd),
        ];
        if let Some(score) = c.score {
            attrs.push(d("gen_ai.evaluation.score.value", score));
        }
        attrs.extend(ids.iter().cloned());
        out.push((
            c.service,
            Span {
                trace_id: id16(n),
                span_id: span_id(n, 2 + k as u8),
                parent_span_id: span_id(n, 1),
                name: c.name.into(),
                kind: 3,
                start_time_unix_nano: t,
                end_time_unix_nano: t + 900_000_000,
                attributes: attrs,
                status: c.failed.then(|| Status {
                    code: status::StatusCode::Error as i32,
                    message: "upstream 500".into(),
                }),
                ..Span::default()
            },
        ));
    }
    out
}

/// The fixed dataset (costs in USD as provided on the spans; nano-USD in the comments):
///
/// | query | day | tenant | session | calls |
/// |---|---|---|---|---|
/// | 1 | A | t1 | s1 (turn 1) | embeddings 1,000,000; gpt-4o-mini 1000 in, 1,000,000, score 0.90 |
/// | 2 | A | t1 | s1 (turn 2) | embeddings 1,000,000; gpt-4o-mini 2000 in, 2,000,000, score 0.88 |
/// | 3 | A | t1 | s1 (turn 3) | embeddings 1,000,000; gpt-4o-mini 4000 in, 4,000,000, score 0.86 |
/// | 4 | B | t2 | s2 | embeddings 1,000,000; gpt-4o **failed** 5,000,000; gpt-4o 10,000,000, score 0.89 |
/// | 5 | B | t2 | s3 | embeddings from service `retriever` 1,000,000; gpt-4o 10,000,000, score 0.91 |
/// | 6 | B | t2 | s4 | embeddings 1,000,000; gpt-4o 10,000,000, score 0.87 |
///
/// Every LLM call has 100 output tokens except embeddings (0) and the failed call (100 too).
pub(crate) fn dataset() -> ExportTraceServiceRequest {
    let mut failed = chat("gpt-4o", 1000, 0.005, None);
    failed.failed = true;
    let spans: Vec<(&str, Span)> = [
        query(
            1,
            DAY_A,
            3600,
            "t1",
            "s1",
            vec![emb("agent"), chat("gpt-4o-mini", 1000, 0.001, Some(0.90))],
        ),
        query(
            2,
            DAY_A,
            3700,
            "t1",
            "s1",
            vec![emb("agent"), chat("gpt-4o-mini", 2000, 0.002, Some(0.88))],
        ),
        query(
            3,
            DAY_A,
            3800,
            "t1",
            "s1",
            vec![emb("agent"), chat("gpt-4o-mini", 4000, 0.004, Some(0.86))],
        ),
        query(
            4,
            DAY_B,
            3600,
            "t2",
            "s2",
            vec![
                emb("agent"),
                failed,
                chat("gpt-4o", 1000, 0.010, Some(0.89)),
            ],
        ),
        query(
            5,
            DAY_B,
            7200,
            "t2",
            "s3",
            vec![emb("retriever"), chat("gpt-4o", 1000, 0.010, Some(0.91))],
        ),
        query(
            6,
            DAY_B,
            9000,
            "t2",
            "s4",
            vec![emb("agent"), chat("gpt-4o", 1000, 0.010, Some(0.87))],
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut by_service: Vec<ResourceSpans> = Vec::new();
    for service in ["agent", "retriever"] {
        by_service.push(ResourceSpans {
            resource: Some(Resource {
                attributes: vec![s("service.name", service)],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: spans
                    .iter()
                    .filter(|(svc, _)| *svc == service)
                    .map(|(_, span)| span.clone())
                    .collect(),
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        });
    }
    ExportTraceServiceRequest {
        resource_spans: by_service,
    }
}
