//! Every bad input gives a status, never a panic and never a silent $0.

use opentelemetry::KeyValue;

use super::*;

fn status_of(attrs: Vec<KeyValue>) -> (Option<String>, Option<f64>) {
    let h = Harness::test();
    let (child, _) = h.one_call("chat", attrs);
    (
        attr_str(&child, "peekr.cost.status"),
        attr_f64(&child, "gen_ai.usage.cost"),
    )
}

fn with(mut base: Vec<KeyValue>, extra: KeyValue) -> Vec<KeyValue> {
    base.push(extra);
    base
}

#[test]
fn each_bad_input_gets_its_exact_status() {
    let op = KeyValue::new("gen_ai.operation.name", "chat");
    let model = KeyValue::new("gen_ai.request.model", "test-chat");
    let cases: Vec<(&str, Vec<KeyValue>, &str)> = vec![
        (
            "missing model",
            vec![op.clone(), KeyValue::new("gen_ai.usage.input_tokens", 10)],
            "unpriced_model",
        ),
        (
            "unknown model",
            chat("gpt-9-ultra", 10, 10),
            "unpriced_model",
        ),
        (
            "no token counts",
            vec![op.clone(), model.clone()],
            "no_usage",
        ),
        ("negative input", chat("test-chat", -5, 10), "invalid_usage"),
        (
            "NaN output",
            vec![
                op.clone(),
                model.clone(),
                KeyValue::new("gen_ai.usage.input_tokens", 1),
                KeyValue::new("gen_ai.usage.output_tokens", f64::NAN),
            ],
            "invalid_usage",
        ),
        (
            "non-numeric string",
            vec![
                op.clone(),
                model.clone(),
                KeyValue::new("gen_ai.usage.input_tokens", "lots"),
            ],
            "invalid_usage",
        ),
        (
            "fractional double",
            vec![
                op.clone(),
                model.clone(),
                KeyValue::new("gen_ai.usage.input_tokens", 10.5),
            ],
            "invalid_usage",
        ),
        (
            "huge count",
            vec![
                op.clone(),
                model.clone(),
                KeyValue::new("gen_ai.usage.input_tokens", 10_000_000_000_000_i64),
            ],
            "invalid_usage",
        ),
        (
            "bool count",
            vec![
                op.clone(),
                model.clone(),
                KeyValue::new("gen_ai.usage.input_tokens", true),
            ],
            "invalid_usage",
        ),
        (
            "cache above input",
            with(
                chat("test-chat", 10, 10),
                KeyValue::new("gen_ai.usage.cache_read.input_tokens", 11),
            ),
            "invalid_usage",
        ),
        (
            "reasoning above output",
            with(
                chat("test-chat", 10, 10),
                KeyValue::new("gen_ai.usage.reasoning.output_tokens", 11),
            ),
            "invalid_usage",
        ),
        (
            "string counts (tracing u64)",
            vec![
                op.clone(),
                model.clone(),
                KeyValue::new("gen_ai.usage.input_tokens", "1000"),
                KeyValue::new("gen_ai.usage.output_tokens", "0"),
            ],
            "priced",
        ),
        (
            "integral double counts",
            vec![
                op.clone(),
                model.clone(),
                KeyValue::new("gen_ai.usage.input_tokens", 1000.0),
            ],
            "priced",
        ),
    ];
    for (what, attrs, expected) in cases {
        let (status, cost) = status_of(attrs);
        assert_eq!(status.as_deref(), Some(expected), "{what}");
        if expected != "priced" {
            assert_eq!(cost, None, "{what}: never a silent $0");
        }
    }
}

#[test]
fn the_last_duplicate_of_a_key_wins_and_priority_keys_beat_legacy_ones() {
    let (status, cost) = status_of(vec![
        KeyValue::new("gen_ai.operation.name", "chat"),
        KeyValue::new("gen_ai.request.model", "test-chat"),
        KeyValue::new("gen_ai.usage.input_tokens", 5),
        KeyValue::new("gen_ai.usage.prompt_tokens", 999_999),
        KeyValue::new("gen_ai.usage.input_tokens", 1_000),
    ]);
    assert_eq!(status.as_deref(), Some("priced"));
    assert_eq!(
        cost,
        Some(0.002),
        "1,000 × $2/M: last `input_tokens` wins over the legacy key"
    );
}

#[test]
fn an_agent_span_with_aggregated_usage_is_never_priced() {
    let h = Harness::test();
    let (child, root) = h.one_call(
        "invoke_agent planner",
        vec![
            KeyValue::new("gen_ai.operation.name", "invoke_agent"),
            KeyValue::new("gen_ai.request.model", "test-chat"),
            KeyValue::new("gen_ai.usage.input_tokens", 50_000),
            KeyValue::new("gen_ai.usage.output_tokens", 5_000),
        ],
    );
    assert_eq!(attr(&child, "peekr.cost.status"), None);
    assert_eq!(attr(&child, "gen_ai.usage.cost"), None);
    assert_eq!(attr_f64(&root, "peekr.trace.cost"), Some(0.0));
    assert_eq!(attr_i64(&root, "peekr.trace.llm_calls"), Some(0));
}

#[test]
fn other_dialects_are_read() {
    // OpenInference
    let (status, cost) = status_of(vec![
        KeyValue::new("openinference.span.kind", "LLM"),
        KeyValue::new("llm.model_name", "test-chat"),
        KeyValue::new("llm.token_count.prompt", 1_000),
        KeyValue::new("llm.token_count.completion", 1_000),
        KeyValue::new("llm.token_count.prompt_details.cache_read", 1_000),
    ]);
    assert_eq!((status.as_deref(), cost), (Some("priced"), Some(0.009)));
    // Vercel AI SDK: inference spans are `*.doGenerate`; the wrapper is not priced.
    let h = Harness::test();
    let (child, _) = h.one_call(
        "ai.generateText.doGenerate",
        vec![
            KeyValue::new("gen_ai.request.model", "test-chat"),
            KeyValue::new("ai.usage.promptTokens", 1_000),
            KeyValue::new("ai.usage.completionTokens", 0),
        ],
    );
    assert_eq!(attr_f64(&child, "gen_ai.usage.cost"), Some(0.002));
    let (wrapper, _) = h.one_call(
        "ai.generateText",
        vec![
            KeyValue::new("gen_ai.request.model", "test-chat"),
            KeyValue::new("ai.usage.promptTokens", 1_000),
        ],
    );
    assert_eq!(attr(&wrapper, "gen_ai.usage.cost"), None);
    // Deprecated gen_ai keys, no operation name (older OpenLLMetry).
    let (status, cost) = status_of(vec![
        KeyValue::new("gen_ai.system", "openai"),
        KeyValue::new("gen_ai.request.model", "test-chat"),
        KeyValue::new("gen_ai.usage.prompt_tokens", 1_000),
        KeyValue::new("gen_ai.usage.completion_tokens", 0),
    ]);
    assert_eq!((status.as_deref(), cost), (Some("priced"), Some(0.002)));
}

#[test]
fn non_genai_spans_are_left_untouched() {
    let h = Harness::test();
    let (child, _) = h.one_call(
        "GET /users",
        vec![KeyValue::new("http.request.method", "GET")],
    );
    assert_eq!(child.attributes.len(), 1);
}
