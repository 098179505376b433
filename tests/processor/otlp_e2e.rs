//! The real opentelemetry-otlp exporter sends through CostProcessor to a real tonic
//! TraceService on 127.0.0.1; the attributes that arrive are what a backend stores.

use opentelemetry::trace::{Span as _, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Context, KeyValue};

use super::support::{FakeCollector, proto_f64, proto_i64, proto_str};
use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_export_carries_cost_components_status_and_root_totals() {
    let collector = FakeCollector::start().await;
    let guard = peekr::Instrument::builder()
        .with_endpoint(collector.endpoint())
        .with_api_key("pk_test")
        .with_service_name("checkout-agent")
        .with_pricing(test_table())
        .with_global(false)
        .install()
        .unwrap();
    let tracer = guard.provider().tracer("e2e");
    let root = tracer.start("agent run");
    let cx = Context::current_with_span(root);
    let mut attrs = chat("test-chat", 10_000, 1_000);
    attrs.push(KeyValue::new("gen_ai.usage.cache_read.input_tokens", 2_000));
    let mut c = tracer.build_with_context(
        tracer.span_builder("chat test-chat").with_attributes(attrs),
        &cx,
    );
    c.end();
    cx.span().end();
    let flushed = tokio::task::spawn_blocking(move || {
        let r = guard.flush();
        drop(guard);
        r
    })
    .await
    .unwrap();
    flushed.unwrap();

    let spans = collector.wait_for(2).await;
    assert_eq!(spans.len(), 2);
    let (service, chat) = spans
        .iter()
        .find(|(_, s)| s.name == "chat test-chat")
        .unwrap();
    assert_eq!(service, "checkout-agent", "resource service.name intact");
    // 8,000 × $2/M = $0.016; 2,000 × $1/M = $0.002; 1,000 × $8/M = $0.008
    assert_eq!(proto_f64(chat, "gen_ai.usage.cost"), Some(0.026));
    assert_eq!(proto_f64(chat, "peekr.cost.input"), Some(0.016));
    assert_eq!(proto_f64(chat, "peekr.cost.cache_read"), Some(0.002));
    assert_eq!(proto_f64(chat, "peekr.cost.output"), Some(0.008));
    assert_eq!(proto_str(chat, "peekr.cost.status"), Some("priced"));
    assert_eq!(proto_str(chat, "peekr.pricing.model"), Some("test-chat"));
    let (_, root) = spans.iter().find(|(_, s)| s.name == "agent run").unwrap();
    assert_eq!(proto_f64(root, "peekr.trace.cost"), Some(0.026));
    assert_eq!(proto_i64(root, "peekr.trace.llm_calls"), Some(1));
    assert_eq!(proto_i64(root, "peekr.trace.input_tokens"), Some(10_000));
    let auth = collector.received.authorization.lock().unwrap().clone();
    assert!(
        auth.iter().all(|a| a.as_deref() == Some("Bearer pk_test")),
        "{auth:?}"
    );
}
