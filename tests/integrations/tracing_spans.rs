//! Hand-written `tracing` spans with `gen_ai.*` fields, as in docs/integrations.md ("Use with
//! tracing"): priced like any instrumentation's, whatever integer type the counts have.

use opentelemetry::Value;
use opentelemetry::trace::SpanKind;
use tracing::field::Empty;

use crate::support::{
    Inner, Pipeline, assert_child_of, assert_kind, attr, f64_attr, span_named, str_attr,
};

#[test]
fn hand_written_tracing_spans_are_priced_with_u64_and_i64_counts() {
    let pipeline = Pipeline::install(Inner::Simple);

    tracing::info_span!("handle_query").in_scope(|| {
        // The documented snippet: fields declared up front, usage recorded after the call.
        let span = tracing::info_span!(
            "chat gpt-4o-mini",
            otel.kind = "client",
            gen_ai.operation.name = "chat",
            gen_ai.provider.name = "openai",
            gen_ai.request.model = "gpt-4o-mini",
            gen_ai.usage.input_tokens = Empty,
            gen_ai.usage.output_tokens = Empty,
        );
        let (input, output): (u64, i64) = (1_200, 300);
        span.record("gen_ai.usage.input_tokens", input); // u64: exported as the string "1200"
        span.record("gen_ai.usage.output_tokens", output); // i64: exported as an int
        drop(span);
    });

    let spans = pipeline.spans();
    let root = span_named(&spans, "handle_query");
    let chat = span_named(&spans, "chat gpt-4o-mini");
    assert_kind(chat, SpanKind::Client);
    assert_child_of(chat, root);
    assert_eq!(
        attr(chat, "gen_ai.usage.input_tokens"),
        Some(&Value::from("1200"))
    );
    assert_eq!(
        attr(chat, "gen_ai.usage.output_tokens"),
        Some(&Value::I64(300))
    );
    assert_eq!(str_attr(chat, "peekr.cost.status"), "priced");
    // 1,200 × $0.15 / 1M + 300 × $0.60 / 1M
    assert_eq!(f64_attr(chat, "gen_ai.usage.cost"), 0.00036);
    assert_eq!(f64_attr(root, "peekr.trace.cost"), 0.00036);
}
