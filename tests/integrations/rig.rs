//! rig-core 0.44: its OpenAI chat, Responses and embeddings calls get priced with no change to
//! rig code, only the `tracing-opentelemetry` layer and `CostProcessor` in the pipeline.
//!
//! rig records token counts from `u64` fields, which `tracing-opentelemetry` exports as
//! **strings** (`"1200"`); these tests pin that shape, so a change in either crate shows here.

use opentelemetry::Value;
use opentelemetry::trace::SpanKind;
use rig_core::providers::openai::{self, OpenAIConfig};
use tracing::Instrument as _;

use crate::fake_openai::{CHAT_USAGE, EMBEDDING_PROMPT_TOKENS, FakeOpenAi};
use crate::support::{
    Inner, Pipeline, assert_child_of, assert_kind, attr, dump, f64_attr, i64_attr, span_named,
    str_attr,
};

/// gpt-4o-mini list price (src/pricing/data/openai.toml): $0.15 input, $0.075 cached input,
/// $0.60 output per 1M tokens. The fake's usage: 1,200 prompt tokens of which 400 cached,
/// 300 completion tokens (reasoning is part of output and billed as output).
///   input      (1,200 - 400) × 0.15 / 1M = 0.000120
///   cache read         400  × 0.075 / 1M = 0.000030
///   output             300  × 0.60  / 1M = 0.000180
const CHAT_INPUT_USD: f64 = 0.00012;
const CHAT_CACHE_READ_USD: f64 = 0.00003;
const CHAT_OUTPUT_USD: f64 = 0.00018;
const CHAT_COST_USD: f64 = 0.00033;

/// text-embedding-3-small list price: $0.02 per 1M input tokens; 5,000 tokens → $0.0001.
const EMBEDDING_COST_USD: f64 = 0.0001;

fn client(fake: &FakeOpenAi) -> openai::OpenAI {
    // Exactly what a user does to point rig at a proxy or a compatible gateway.
    OpenAIConfig::new("sk-fake")
        .with_base_url(fake.base_url.clone())
        .client()
}

#[tokio::test]
async fn rig_chat_and_embeddings_spans_get_cost_and_the_root_gets_the_trace_total() {
    let fake = FakeOpenAi::start().await;
    let pipeline = Pipeline::install(Inner::Simple);
    let openai = client(&fake);

    let run = tracing::info_span!("agent_run");
    async {
        let answer = openai
            .chat(openai::GPT_4O_MINI)
            .call("What is the capital of France?")
            .await
            .expect("rig chat call");
        assert_eq!(answer.text(), "Paris.");
        let embedded = openai
            .embedding(openai::TEXT_EMBEDDING_3_SMALL, None)
            .call(vec!["Paris".to_owned(), "France".to_owned()])
            .await
            .expect("rig embeddings call");
        assert_eq!(embedded.embeddings.len(), 2);
    }
    .instrument(run)
    .await;

    let paths: Vec<&str> = fake.received().iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        ["/v1/chat/completions", "/v1/embeddings"],
        "rig really called the fake"
    );

    let spans = pipeline.spans();
    let root = span_named(&spans, "agent_run");
    let chat = span_named(&spans, "chat");
    let embeddings = span_named(&spans, "embeddings");
    let shapes = format!("{}{}", dump(chat), dump(embeddings));

    // What rig 0.44 emits (recorded in docs/integrations.md).
    assert_kind(chat, SpanKind::Internal);
    assert_kind(embeddings, SpanKind::Internal);
    assert_child_of(chat, root);
    assert_child_of(embeddings, root);
    assert_eq!(str_attr(chat, "gen_ai.operation.name"), "chat", "{shapes}");
    assert_eq!(str_attr(chat, "gen_ai.provider.name"), "openai", "{shapes}");
    assert_eq!(
        str_attr(chat, "gen_ai.request.model"),
        "gpt-4o-mini",
        "{shapes}"
    );
    assert_eq!(
        str_attr(chat, "gen_ai.response.model"),
        "gpt-4o-mini-2024-07-18",
        "{shapes}"
    );
    assert!(
        attr(chat, "gen_ai.system").is_none(),
        "rig sets no gen_ai.system: {shapes}"
    );
    for (key, expected) in [
        ("gen_ai.usage.input_tokens", CHAT_USAGE.prompt),
        ("gen_ai.usage.output_tokens", CHAT_USAGE.completion),
        ("gen_ai.usage.cache_read.input_tokens", CHAT_USAGE.cached),
        ("gen_ai.usage.reasoning_tokens", CHAT_USAGE.reasoning),
    ] {
        assert_eq!(
            attr(chat, key),
            Some(&Value::from(expected.to_string())),
            "rig's u64 `{key}` arrives as a string: {shapes}"
        );
    }
    assert_eq!(
        str_attr(embeddings, "gen_ai.operation.name"),
        "embeddings",
        "{shapes}"
    );
    assert_eq!(
        attr(embeddings, "gen_ai.usage.input_tokens"),
        Some(&Value::from(EMBEDDING_PROMPT_TOKENS.to_string())),
        "{shapes}"
    );

    // What Peekr adds.
    assert_eq!(str_attr(chat, "peekr.cost.status"), "priced", "{shapes}");
    assert_eq!(str_attr(chat, "peekr.pricing.model"), "gpt-4o-mini");
    assert_eq!(str_attr(chat, "peekr.pricing.provider"), "openai");
    assert_eq!(f64_attr(chat, "gen_ai.usage.cost"), CHAT_COST_USD);
    assert_eq!(f64_attr(chat, "peekr.cost.input"), CHAT_INPUT_USD);
    assert_eq!(f64_attr(chat, "peekr.cost.cache_read"), CHAT_CACHE_READ_USD);
    assert_eq!(f64_attr(chat, "peekr.cost.output"), CHAT_OUTPUT_USD);

    assert_eq!(
        str_attr(embeddings, "peekr.cost.status"),
        "priced",
        "{shapes}"
    );
    assert_eq!(
        str_attr(embeddings, "peekr.pricing.model"),
        "text-embedding-3-small"
    );
    assert_eq!(
        f64_attr(embeddings, "gen_ai.usage.cost"),
        EMBEDDING_COST_USD
    );

    // 0.00033 + 0.0001, summed exactly in nanos before the one conversion to a double.
    assert_eq!(f64_attr(root, "peekr.trace.cost"), 0.00043);
    assert_eq!(i64_attr(root, "peekr.trace.llm_calls"), 2);
    assert_eq!(
        i64_attr(root, "peekr.trace.input_tokens"),
        (CHAT_USAGE.prompt + EMBEDDING_PROMPT_TOKENS) as i64
    );
    assert_eq!(
        i64_attr(root, "peekr.trace.output_tokens"),
        CHAT_USAGE.completion as i64
    );
    assert_eq!(i64_attr(root, "peekr.trace.unpriced_calls"), 0);
    assert!(
        attr(root, "gen_ai.usage.cost").is_none(),
        "the wrapper span is not priced"
    );
}

#[tokio::test]
async fn rig_default_openai_completion_route_is_priced_too() {
    // `OpenAI::completion` sends OpenAI models to the Responses API (`POST /responses`), whose
    // usage has other key names (`input_tokens_details.cached_tokens`).
    let fake = FakeOpenAi::start().await;
    let pipeline = Pipeline::install(Inner::Batch);
    let openai = client(&fake);

    let run = tracing::info_span!("agent_run");
    async {
        let answer = openai
            .completion(openai::GPT_4O_MINI)
            .call("What is the capital of France?")
            .await
            .expect("rig completion call");
        assert_eq!(answer.text(), "Paris.");
    }
    .instrument(run)
    .await;

    let paths: Vec<&str> = fake.received().iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/v1/responses"]);

    let spans = pipeline.spans();
    let root = span_named(&spans, "agent_run");
    let chat = span_named(&spans, "chat");
    let shapes = dump(chat);
    assert_eq!(
        attr(chat, "gen_ai.usage.cache_read.input_tokens"),
        Some(&Value::from(CHAT_USAGE.cached.to_string())),
        "{shapes}"
    );
    assert_eq!(str_attr(chat, "peekr.cost.status"), "priced", "{shapes}");
    assert_eq!(f64_attr(chat, "gen_ai.usage.cost"), CHAT_COST_USD);
    assert_eq!(f64_attr(root, "peekr.trace.cost"), CHAT_COST_USD);
    assert_eq!(i64_attr(root, "peekr.trace.llm_calls"), 1);
}

#[tokio::test]
async fn rig_streamed_chat_is_priced_from_the_final_usage_chunk() {
    // rig asks OpenAI for `stream_options.include_usage` on its own, so a streamed turn reports
    // the same usage as a unary one, recorded when the stream ends.
    let fake = FakeOpenAi::start().await;
    let pipeline = Pipeline::install(Inner::Simple);
    let openai = client(&fake);

    let run = tracing::info_span!("agent_run");
    async {
        let stream = openai
            .chat(openai::GPT_4O_MINI)
            .stream("What is the capital of France?")
            .expect("rig stream");
        let answer = stream.finish().await.expect("rig streamed turn");
        assert_eq!(answer.text(), "Paris.");
    }
    .instrument(run)
    .await;

    let received = fake.received();
    assert!(
        received[0].stream && received[0].include_usage,
        "{received:?}"
    );

    let spans = pipeline.spans();
    let root = span_named(&spans, "agent_run");
    let chat = span_named(&spans, "chat");
    let shapes = dump(chat);
    assert_eq!(
        attr(chat, "gen_ai.request.stream"),
        Some(&Value::Bool(true)),
        "{shapes}"
    );
    assert_eq!(str_attr(chat, "peekr.cost.status"), "priced", "{shapes}");
    assert_eq!(f64_attr(chat, "gen_ai.usage.cost"), CHAT_COST_USD);
    assert_eq!(f64_attr(root, "peekr.trace.cost"), CHAT_COST_USD);
}
