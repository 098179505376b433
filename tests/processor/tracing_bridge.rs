//! The same pipeline under `tracing` + `tracing-opentelemetry`: dotted field names and `u64`
//! counts (which arrive as strings) get priced with no code change.

use opentelemetry::trace::TracerProvider as _;
use tracing_subscriber::layer::SubscriberExt;

use super::*;

#[test]
fn tracing_spans_with_u64_fields_are_priced_and_the_root_gets_totals() {
    let h = Harness::test();
    let tracer = h.provider.tracer("tracing-test");
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
    tracing::subscriber::with_default(subscriber, || {
        let root = tracing::info_span!("handle_query", tenant.id = "acme");
        let _r = root.enter();
        let input: u64 = 1_000;
        let output: u64 = 250;
        let chat = tracing::info_span!(
            "chat test-chat",
            gen_ai.operation.name = "chat",
            gen_ai.request.model = "test-chat",
            gen_ai.usage.input_tokens = input,
            gen_ai.usage.output_tokens = output,
        );
        chat.in_scope(|| {});
    });
    h.provider.force_flush().unwrap();
    let spans = h.exporter.get_finished_spans().unwrap();
    let chat = spans.iter().find(|s| s.name == "chat test-chat").unwrap();
    // 1,000 × $2/M + 250 × $8/M = $0.004
    assert_eq!(
        attr_str(chat, "peekr.cost.status").as_deref(),
        Some("priced")
    );
    assert_eq!(attr_f64(chat, "gen_ai.usage.cost"), Some(0.004));
    let root = spans.iter().find(|s| s.name == "handle_query").unwrap();
    assert_eq!(attr_f64(root, "peekr.trace.cost"), Some(0.004));
    assert_eq!(attr_i64(root, "peekr.trace.llm_calls"), Some(1));
}
