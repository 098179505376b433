//! An agent-like workload priced by Peekr: a root span per query, with embeddings, a planning
//! call, tool calls and an answer call under it. Prints the cost of each query and the cost per
//! query, read back from the exported spans.
//!
//! Run with (no network needed; spans stay in memory):
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! To also ship the spans over OTLP/gRPC (to `peekr serve`, Jaeger, Tempo, a Collector), set
//! an endpoint (and, for a Peekr receiver, a key):
//!
//! ```sh
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 PEEKR_API_KEY=pk_... cargo run --example quickstart
//! ```

use opentelemetry::trace::{Span as _, SpanKind, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor};
use peekr::CostProcessor;

fn llm_call(
    tracer: &impl Tracer<Span = impl opentelemetry::trace::Span + Send + Sync + 'static>,
    cx: &Context,
    op: &str,
    model: &str,
    input: i64,
    output: i64,
) {
    let mut span = tracer
        .span_builder(format!("{op} {model}"))
        .with_kind(SpanKind::Client)
        .with_attributes([
            KeyValue::new("gen_ai.operation.name", op.to_owned()),
            KeyValue::new("gen_ai.provider.name", "openai"),
            KeyValue::new("gen_ai.request.model", model.to_owned()),
            KeyValue::new("gen_ai.usage.input_tokens", input),
            KeyValue::new("gen_ai.usage.output_tokens", output),
        ])
        .start_with_context(tracer, cx);
    span.end();
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let memory = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(CostProcessor::new(SimpleSpanProcessor::new(memory.clone())))
        .build();
    let tracer = provider.tracer("quickstart");
    // Optional: the same workload through the real OTLP pipeline (CostProcessor →
    // BatchSpanProcessor → OTLP/gRPC), when an endpoint is configured.
    let otlp = match std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT") {
        Some(_) => Some(
            peekr::Instrument::builder()
                .with_service_name("quickstart-agent")
                .with_global(false)
                .install()?,
        ),
        None => None,
    };
    let otlp_tracer = otlp.as_ref().map(|g| g.provider().tracer("quickstart"));

    let questions = [
        "Where is my order?",
        "Cancel my subscription",
        "Compare plan A and plan B in detail",
    ];
    for (i, q) in questions.iter().enumerate() {
        for t in std::iter::once(&tracer).chain(otlp_tracer.iter()) {
            let root = t
                .span_builder("invoke_agent support")
                .with_kind(SpanKind::Server)
                .with_attributes([
                    KeyValue::new("gen_ai.operation.name", "invoke_agent"),
                    KeyValue::new("question", (*q).to_owned()),
                ])
                .start(t);
            let cx = Context::current_with_span(root);
            llm_call(t, &cx, "embeddings", "text-embedding-3-small", 40, 0);
            llm_call(t, &cx, "chat", "gpt-4o-mini", 1_200 + 800 * i as i64, 150);
            for _ in 0..i {
                let mut tool = t
                    .span_builder("execute_tool lookup")
                    .with_attributes([KeyValue::new("gen_ai.operation.name", "execute_tool")])
                    .start_with_context(t, &cx);
                tool.end();
            }
            llm_call(t, &cx, "chat", "gpt-4o", 2_000 + 1_500 * i as i64, 400);
            cx.span().end();
        }
    }

    let spans = memory.get_finished_spans()?;
    let mut total = 0.0;
    let mut queries = 0;
    for root in spans.iter().filter(|s| s.name == "invoke_agent support") {
        let get = |k: &str| {
            root.attributes
                .iter()
                .find(|kv| kv.key.as_str() == k)
                .map(|kv| kv.value.clone())
        };
        let (Some(Value::F64(cost)), Some(Value::I64(calls)), Some(q)) = (
            get("peekr.trace.cost"),
            get("peekr.trace.llm_calls"),
            get("question"),
        ) else {
            continue;
        };
        println!("{:<40} {calls} LLM calls  ${cost:.6}", q.as_str());
        total += cost;
        queries += 1;
    }
    println!(
        "cost per query: ${:.6} over {queries} queries",
        total / f64::from(queries.max(1))
    );
    for s in spans
        .iter()
        .filter(|s| s.name.starts_with("chat") || s.name.starts_with("embeddings"))
        .take(3)
    {
        let cost = s
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == "gen_ai.usage.cost")
            .map(|kv| kv.value.to_string())
            .unwrap_or_default();
        println!("  span {:<32} gen_ai.usage.cost = {cost}", s.name);
    }
    provider.shutdown()?;
    Ok(())
}
