//! CostProcessor: extraction, pricing and attributes, end to end through real SDK pipelines.

#[path = "../support/mod.rs"]
mod support;

mod bad_input;
mod otlp_e2e;
mod pipeline;
mod props;
mod tracing_bridge;

use std::sync::Arc;

use opentelemetry::trace::{Span as _, SpanKind, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor, SpanData,
};
use peekr::enrich::Dialects;
use peekr::{CostProcessor, PricingTable};

/// A table with round prices, so expected costs are easy to check by hand.
pub(crate) const TEST_PRICES: &str = r#"
[[model]]
id = "test-chat"
provider = "openai"
aliases = ["test-chat-2025-01-01"]
[[model.price]]
input = 2
cache_read = 1
cache_write = 2.5
output = 8
reasoning = 8

[[model]]
id = "test-embed"
provider = "openai"
kind = "embedding"
[[model.price]]
input = 0.1
output = 0
"#;

pub(crate) fn test_table() -> Arc<PricingTable> {
    Arc::new(PricingTable::from_toml_str(TEST_PRICES, "test.toml").unwrap())
}

/// A provider whose spans are priced by `CostProcessor` and land in memory.
pub(crate) struct Harness {
    pub(crate) provider: SdkTracerProvider,
    pub(crate) exporter: InMemorySpanExporter,
}

impl Harness {
    pub(crate) fn new(table: Option<Arc<PricingTable>>, dialects: Dialects) -> Harness {
        let exporter = InMemorySpanExporter::default();
        let mut b = CostProcessor::builder(SimpleSpanProcessor::new(exporter.clone()))
            .with_dialects(dialects);
        if let Some(t) = table {
            b = b.with_pricing(t);
        }
        let provider = SdkTracerProvider::builder()
            .with_span_processor(b.build())
            .build();
        Harness { provider, exporter }
    }

    pub(crate) fn test() -> Harness {
        Harness::new(Some(test_table()), Dialects::default())
    }

    /// Emits one root span with one child carrying `attrs`; returns (child, root) as exported.
    pub(crate) fn one_call(&self, name: &str, attrs: Vec<KeyValue>) -> (SpanData, SpanData) {
        let tracer = self.provider.tracer("test");
        let root = tracer
            .span_builder("agent run")
            .with_kind(SpanKind::Server)
            .start(&tracer);
        let cx = Context::current_with_span(root);
        let mut child = tracer
            .span_builder(name.to_owned())
            .with_kind(SpanKind::Client)
            .with_attributes(attrs)
            .start_with_context(&tracer, &cx);
        child.end();
        cx.span().end();
        let spans = self.exporter.get_finished_spans().unwrap();
        self.exporter.reset();
        let child = spans.iter().find(|s| s.name == name).unwrap().clone();
        let root = spans
            .iter()
            .find(|s| s.name == "agent run")
            .unwrap()
            .clone();
        (child, root)
    }
}

pub(crate) fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .rev()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

pub(crate) fn attr_str(span: &SpanData, key: &str) -> Option<String> {
    attr(span, key).map(|v| v.as_str().into_owned())
}

pub(crate) fn attr_f64(span: &SpanData, key: &str) -> Option<f64> {
    match attr(span, key)? {
        Value::F64(d) => Some(*d),
        _ => None,
    }
}

pub(crate) fn attr_i64(span: &SpanData, key: &str) -> Option<i64> {
    match attr(span, key)? {
        Value::I64(i) => Some(*i),
        _ => None,
    }
}

pub(crate) fn count(span: &SpanData, key: &str) -> usize {
    span.attributes
        .iter()
        .filter(|kv| kv.key.as_str() == key)
        .count()
}

pub(crate) fn chat(model: &str, input: i64, output: i64) -> Vec<KeyValue> {
    vec![
        KeyValue::new("gen_ai.operation.name", "chat"),
        KeyValue::new("gen_ai.provider.name", "openai"),
        KeyValue::new("gen_ai.request.model", model.to_owned()),
        KeyValue::new("gen_ai.usage.input_tokens", input),
        KeyValue::new("gen_ai.usage.output_tokens", output),
    ]
}
