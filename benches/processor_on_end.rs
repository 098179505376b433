//! `CostProcessor::on_end` against the same pipeline without it (DESIGN.md §9 budgets:
//! ≤ 300 ns extra on a GenAI span, ≤ 20 ns on a non-GenAI span).
//!
//! Both sides wrap a no-op inner processor and clone the same `SpanData` per iteration, so the
//! difference is Peekr's own work: extraction, model resolution (cached), exact pricing,
//! attribute writes and the per-trace rollup.
//!
//! Run with: `cargo bench --bench processor_on_end`. Results: BENCHMARKS.md.

use std::borrow::Cow;
use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanEvents, SpanLinks, SpanProcessor};
use peekr::CostProcessor;

#[derive(Debug)]
struct Noop;

impl SpanProcessor for Noop {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}
    fn on_end(&self, span: SpanData) {
        black_box(span);
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

fn span(name: &'static str, attributes: Vec<KeyValue>, parent: SpanId) -> SpanData {
    SpanData {
        span_context: SpanContext::new(
            TraceId::from(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef_u128),
            SpanId::from(0x1111_2222_3333_4444_u64),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: parent,
        parent_span_is_remote: false,
        span_kind: SpanKind::Client,
        name: Cow::Borrowed(name),
        start_time: SystemTime::now(),
        end_time: SystemTime::now(),
        attributes,
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: InstrumentationScope::builder("bench").build(),
    }
}

fn genai_span() -> SpanData {
    span(
        "chat gpt-4o-mini",
        vec![
            KeyValue::new("gen_ai.operation.name", "chat"),
            KeyValue::new("gen_ai.provider.name", "openai"),
            KeyValue::new("gen_ai.request.model", "gpt-4o-mini"),
            KeyValue::new("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
            KeyValue::new("gen_ai.usage.input_tokens", 1_842),
            KeyValue::new("gen_ai.usage.output_tokens", 311),
            KeyValue::new("gen_ai.usage.cache_read.input_tokens", 1_024),
            KeyValue::new("server.address", "api.openai.com"),
        ],
        SpanId::from(0x9999_u64),
    )
}

fn plain_span() -> SpanData {
    span(
        "GET /orders/{id}",
        vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.route", "/orders/{id}"),
            KeyValue::new("http.response.status_code", 200),
            KeyValue::new("server.address", "orders.internal"),
        ],
        SpanId::from(0x9999_u64),
    )
}

fn on_end(c: &mut Criterion) {
    let baseline = Noop;
    let peekr = CostProcessor::new(Noop);
    let mut g = c.benchmark_group("on_end");
    for (label, data) in [("genai", genai_span()), ("non_genai", plain_span())] {
        g.bench_function(format!("{label}/without_peekr"), |b| {
            b.iter(|| baseline.on_end(black_box(data.clone())))
        });
        g.bench_function(format!("{label}/with_peekr"), |b| {
            b.iter(|| peekr.on_end(black_box(data.clone())))
        });
    }
    g.finish();
}

fn pricing(c: &mut Criterion) {
    use peekr::pricing::{PriceRequest, PricingTable};
    use peekr::usage::Usage;
    let table = PricingTable::builtin();
    let usage = Usage {
        input: 1_842,
        output: 311,
        cache_read: 1_024,
        ..Usage::default()
    };
    let mut g = c.benchmark_group("pricing");
    g.bench_function("resolve_cached/gpt-4o-mini-2024-07-18", |b| {
        b.iter(|| table.resolve(black_box("gpt-4o-mini-2024-07-18"), Some("openai")))
    });
    g.bench_function("price/gpt-4o-mini", |b| {
        b.iter(|| table.price(black_box(&PriceRequest::new("gpt-4o-mini", &usage))))
    });
    g.bench_function("resolve_uncached/bedrock-region-id", |b| {
        b.iter_batched(
            || PricingTable::clone(&table),
            |t| {
                t.resolve(
                    black_box("us.anthropic.claude-3-5-sonnet-20240620-v1:0"),
                    None,
                )
            },
            criterion::BatchSize::LargeInput,
        );
    });
    g.finish();
}

criterion_group!(benches, on_end, pricing);
criterion_main!(benches);
