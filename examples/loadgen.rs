//! A bounded OTLP/gRPC load generator for `peekr serve`: sends GenAI chat spans without cost
//! (the receiver prices every one) in batches from several concurrent clients, and prints the
//! acknowledged spans per second. An acknowledgement means the batch is committed to SQLite.
//!
//! Run with (against a running `peekr serve`):
//!
//! ```sh
//! cargo run --release --features server --example loadgen -- \
//!     --endpoint http://127.0.0.1:4317 --key pk_... --spans 1000000 --batch 1000 --clients 8
//! ```
//!
//! `benches/ingest.sh` runs the whole measurement (server, key, load, RSS) and is what
//! BENCHMARKS.md reports.

use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

const MODELS: &[&str] = &[
    "gpt-4o-mini",
    "gpt-4o",
    "claude-sonnet-4-5",
    "gemini-2.5-flash",
    "text-embedding-3-small",
];
const TENANTS: &[&str] = &["acme", "globex", "initech", "umbrella", "hooli"];

fn batch(client: u64, n: u64, size: u64, now_ns: u64) -> ExportTraceServiceRequest {
    let mut spans = Vec::with_capacity(size as usize);
    for i in 0..size {
        let seq = (client << 40) | (n * size + i);
        // Five spans per trace: a root and four LLM calls under it.
        let trace = seq / 5;
        let is_root = seq.is_multiple_of(5);
        let model = MODELS[(seq % MODELS.len() as u64) as usize];
        let mut attributes = vec![kv(
            "tenant.id",
            Value::StringValue(TENANTS[(trace % 5) as usize].to_owned()),
        )];
        if !is_root {
            attributes.extend([
                kv(
                    "gen_ai.operation.name",
                    Value::StringValue(
                        if model.starts_with("text-embedding") {
                            "embeddings"
                        } else {
                            "chat"
                        }
                        .to_owned(),
                    ),
                ),
                kv(
                    "gen_ai.provider.name",
                    Value::StringValue("openai".to_owned()),
                ),
                kv("gen_ai.request.model", Value::StringValue(model.to_owned())),
                kv(
                    "gen_ai.usage.input_tokens",
                    Value::IntValue(1_000 + (seq % 3_000) as i64),
                ),
                kv(
                    "gen_ai.usage.output_tokens",
                    Value::IntValue(100 + (seq % 400) as i64),
                ),
            ]);
        }
        spans.push(Span {
            trace_id: (u128::from(trace) | (1u128 << 100)).to_be_bytes().to_vec(),
            span_id: (seq | (1 << 63)).to_be_bytes().to_vec(),
            parent_span_id: if is_root {
                Vec::new()
            } else {
                ((trace * 5) | (1 << 63)).to_be_bytes().to_vec()
            },
            name: if is_root {
                "invoke_agent".to_owned()
            } else {
                format!("chat {model}")
            },
            start_time_unix_nano: now_ns - 2_000_000_000,
            end_time_unix_nano: now_ns - 1_000_000_000 + i,
            attributes,
            ..Span::default()
        });
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", Value::StringValue("loadgen".to_owned()))],
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

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let endpoint = arg(&args, "--endpoint", "http://127.0.0.1:4317");
    let key = arg(&args, "--key", "");
    let total: u64 = arg(&args, "--spans", "200000").parse()?;
    let size: u64 = arg(&args, "--batch", "1000").parse()?;
    let clients: u64 = arg(&args, "--clients", "8").parse()?;
    let now_ns = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos(),
    )?;
    let per_client = total / clients / size;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let endpoint = endpoint.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = TraceServiceClient::connect(endpoint).await?;
            let (mut sent, mut retries) = (0u64, 0u64);
            for n in 0..per_client {
                let req = batch(c, n, size, now_ns);
                loop {
                    let mut r = tonic::Request::new(req.clone());
                    r.metadata_mut()
                        .insert("authorization", format!("Bearer {key}").parse()?);
                    match client.export(r).await {
                        Ok(_) => break,
                        // UNAVAILABLE: the store queue is full; back off like an OTLP exporter.
                        Err(s) if s.code() == tonic::Code::Unavailable && retries < 10_000 => {
                            retries += 1;
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        Err(s) => {
                            return Err::<(u64, u64), Box<dyn std::error::Error + Send + Sync>>(
                                s.into(),
                            );
                        }
                    }
                }
                sent += size;
            }
            Ok((sent, retries))
        }));
    }
    let (mut sent, mut retries) = (0, 0);
    for t in tasks {
        let (s, r) = t.await?.map_err(|e| e.to_string())?;
        sent += s;
        retries += r;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "acknowledged {sent} spans in {secs:.2} s: {:.0} spans/s ({retries} UNAVAILABLE retries)",
        sent as f64 / secs
    );
    Ok(())
}
