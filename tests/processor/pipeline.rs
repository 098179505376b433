use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{Span as _, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use peekr::enrich::Dialects;

use super::*;

#[test]
fn cost_processor_prices_a_chat_span_and_writes_every_component() {
    let h = Harness::test();
    let mut attrs = chat("test-chat", 10_000, 2_000);
    attrs.push(KeyValue::new("gen_ai.usage.cache_read.input_tokens", 4_000));
    attrs.push(KeyValue::new(
        "gen_ai.usage.cache_creation.input_tokens",
        1_000,
    ));
    attrs.push(KeyValue::new("gen_ai.usage.reasoning.output_tokens", 500));
    let (child, _) = h.one_call("chat test-chat", attrs);
    // 5,000 fresh input × $2/M = $0.010; 4,000 cached × $1/M = $0.004; 1,000 writes × $2.5/M =
    // $0.0025; 2,000 output (incl. 500 reasoning at the same rate) × $8/M = $0.016.
    assert_eq!(
        attr_str(&child, "peekr.cost.status").as_deref(),
        Some("priced")
    );
    assert_eq!(attr_f64(&child, "peekr.cost.input"), Some(0.010));
    assert_eq!(attr_f64(&child, "peekr.cost.cache_read"), Some(0.004));
    assert_eq!(attr_f64(&child, "peekr.cost.cache_write"), Some(0.0025));
    assert_eq!(attr_f64(&child, "peekr.cost.output"), Some(0.016));
    assert_eq!(
        attr(&child, "peekr.cost.other"),
        None,
        "zero components are not written"
    );
    assert_eq!(attr_f64(&child, "gen_ai.usage.cost"), Some(0.0325));
    assert_eq!(
        attr_str(&child, "peekr.pricing.model").as_deref(),
        Some("test-chat")
    );
    assert_eq!(
        attr_str(&child, "peekr.pricing.provider").as_deref(),
        Some("openai")
    );
    assert_eq!(
        attr_str(&child, "peekr.pricing.source").as_deref(),
        Some("test.toml")
    );
}

#[test]
fn the_local_root_span_carries_the_trace_totals() {
    let h = Harness::test();
    let tracer = h.provider.tracer("t");
    let root = tracer.start("agent run");
    let cx = Context::current_with_span(root);
    for (i, n) in [1_000i64, 2_000].iter().enumerate() {
        let mut s = tracer.build_with_context(
            tracer
                .span_builder(format!("chat {i}"))
                .with_attributes(chat("test-chat", *n, 100)),
            &cx,
        );
        s.end();
    }
    let mut unknown = tracer.build_with_context(
        tracer
            .span_builder("chat x")
            .with_attributes(chat("no-such-model", 10, 10)),
        &cx,
    );
    unknown.end();
    let mut tool = tracer.build_with_context(
        tracer
            .span_builder("execute_tool search")
            .with_attributes([KeyValue::new("gen_ai.operation.name", "execute_tool")]),
        &cx,
    );
    tool.end();
    cx.span().end();
    let spans = h.exporter.get_finished_spans().unwrap();
    let root = spans.iter().find(|s| s.name == "agent run").unwrap();
    // (1,000 + 2,000) × $2/M + 200 × $8/M = $0.0076
    assert_eq!(attr_f64(root, "peekr.trace.cost"), Some(0.0076));
    assert_eq!(attr_i64(root, "peekr.trace.llm_calls"), Some(3));
    assert_eq!(attr_i64(root, "peekr.trace.input_tokens"), Some(3_010));
    assert_eq!(attr_i64(root, "peekr.trace.output_tokens"), Some(210));
    assert_eq!(attr_i64(root, "peekr.trace.unpriced_calls"), Some(1));
    let tool = spans
        .iter()
        .find(|s| s.name == "execute_tool search")
        .unwrap();
    assert_eq!(
        attr(tool, "peekr.cost.status"),
        None,
        "tool spans are not priced"
    );
}

#[test]
fn a_cost_already_on_the_span_is_kept_and_marked_provided() {
    let h = Harness::test();
    let mut attrs = chat("test-chat", 1_000, 100);
    attrs.push(KeyValue::new("gen_ai.usage.cost", 0.5));
    let (child, root) = h.one_call("chat", attrs);
    assert_eq!(
        attr_str(&child, "peekr.cost.status").as_deref(),
        Some("provided")
    );
    assert_eq!(attr_f64(&child, "gen_ai.usage.cost"), Some(0.5));
    assert_eq!(count(&child, "gen_ai.usage.cost"), 1);
    assert_eq!(attr_f64(&root, "peekr.trace.cost"), Some(0.5));
}

#[test]
fn peekr_attributes_are_replaced_not_duplicated() {
    let h = Harness::test();
    let mut attrs = chat("test-chat", 1_000, 0);
    attrs.push(KeyValue::new("peekr.cost.status", "stale"));
    attrs.push(KeyValue::new("peekr.cost.input", 99.0));
    let (child, _) = h.one_call("chat", attrs);
    assert_eq!(count(&child, "peekr.cost.status"), 1);
    assert_eq!(
        attr_str(&child, "peekr.cost.status").as_deref(),
        Some("priced")
    );
    assert_eq!(count(&child, "peekr.cost.input"), 1);
    assert_eq!(attr_f64(&child, "peekr.cost.input"), Some(0.002));
}

#[test]
fn opt_in_dialects_write_their_keys_and_the_proposal_replaces_the_default_key() {
    let h = Harness::new(
        Some(test_table()),
        Dialects {
            openinference: true,
            semconv_proposal: false,
            logfire: true,
        },
    );
    let (child, _) = h.one_call("chat", chat("test-chat", 1_000, 0));
    assert_eq!(attr_f64(&child, "llm.cost.total"), Some(0.002));
    assert_eq!(attr_f64(&child, "operation.cost"), Some(0.002));
    assert_eq!(attr_f64(&child, "gen_ai.usage.cost"), Some(0.002));

    let h = Harness::new(
        Some(test_table()),
        Dialects {
            openinference: false,
            semconv_proposal: true,
            logfire: false,
        },
    );
    let (child, _) = h.one_call("chat", chat("test-chat", 1_000, 0));
    assert_eq!(attr_f64(&child, "gen_ai.usage.cost.amount"), Some(0.002));
    assert_eq!(
        attr_str(&child, "gen_ai.usage.cost.currency").as_deref(),
        Some("USD")
    );
    assert_eq!(
        attr_str(&child, "gen_ai.usage.cost.source").as_deref(),
        Some("local")
    );
    assert_eq!(
        attr(&child, "gen_ai.usage.cost"),
        None,
        "nesting backends cannot hold both"
    );
}

#[test]
fn baggage_tenant_is_copied_onto_every_span() {
    let h = Harness::test();
    let tracer = h.provider.tracer("t");
    let cx = Context::current().with_baggage([
        KeyValue::new("tenant.id", "acme"),
        KeyValue::new("unrelated", "x"),
    ]);
    let _g = cx.attach();
    let mut s = tracer
        .span_builder("chat")
        .with_attributes(chat("test-chat", 10, 10))
        .start(&tracer);
    s.end();
    let spans = h.exporter.get_finished_spans().unwrap();
    assert_eq!(attr_str(&spans[0], "tenant.id").as_deref(), Some("acme"));
    assert_eq!(
        attr(&spans[0], "unrelated"),
        None,
        "only configured baggage keys are copied"
    );
}

#[test]
fn a_dated_snapshot_without_its_own_entry_falls_back_to_its_base_model() {
    let h = Harness::test();
    let mut attrs = chat("test-chat", 1_000, 0);
    attrs.push(KeyValue::new(
        "gen_ai.response.model",
        "test-chat-2026-03-03",
    ));
    let (child, _) = h.one_call("chat", attrs);
    assert_eq!(
        attr_str(&child, "peekr.pricing.model").as_deref(),
        Some("test-chat")
    );
    assert_eq!(attr_f64(&child, "gen_ai.usage.cost"), Some(0.002));
}

#[test]
fn the_builtin_catalog_prices_real_model_names() {
    let h = Harness::new(None, Dialects::default());
    let mut attrs = chat("gpt-4o-mini", 1_000_000, 1_000_000);
    attrs.push(KeyValue::new(
        "gen_ai.response.model",
        "gpt-4o-mini-2024-07-18",
    ));
    let (child, _) = h.one_call("chat gpt-4o-mini", attrs);
    // gpt-4o-mini list price $0.15 in / $0.60 out per 1M (OpenAI pricing page, 2026-12).
    assert_eq!(attr_f64(&child, "gen_ai.usage.cost"), Some(0.75));
    assert_eq!(
        attr_str(&child, "peekr.pricing.model").as_deref(),
        Some("gpt-4o-mini")
    );
}

#[test]
fn cost_exporter_enriches_on_the_export_path() {
    use opentelemetry_sdk::trace::SpanExporter as _;
    let inner = InMemorySpanExporter::default();
    let exporter = peekr::CostExporter::new(inner.clone());
    let plain = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(plain.clone())
        .build();
    let tracer = provider.tracer("t");
    let mut s = tracer
        .span_builder("chat")
        .with_attributes(chat("gpt-4o-mini", 1_000_000, 0))
        .start(&tracer);
    s.end();
    let spans = plain.get_finished_spans().unwrap();
    futures_lite_block_on(exporter.export(spans)).unwrap();
    let out = inner.get_finished_spans().unwrap();
    assert_eq!(attr_f64(&out[0], "gen_ai.usage.cost"), Some(0.15));
}

fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}
