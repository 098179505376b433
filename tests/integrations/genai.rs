//! genai 0.7 (feature `otel`): its chat and embeddings calls get priced with no change to genai
//! code, only the `tracing-opentelemetry` layer and `CostProcessor` in the pipeline.
//!
//! genai records token counts as `i64`, names its spans `chat <model>` / `embeddings <model>`
//! through `otel.name`, and marks them `otel.kind = client`.

use futures::StreamExt as _;
use genai::chat::{ChatMessage, ChatOptions, ChatRequest, ChatStreamEvent};
use genai::resolver::{AuthData, Endpoint};
use genai::{Client, ServiceTarget};
use opentelemetry::Value;
use opentelemetry::trace::SpanKind;
use tracing::Instrument as _;

use crate::fake_openai::{CHAT_USAGE, EMBEDDING_PROMPT_TOKENS, FakeOpenAi};
use crate::support::{
    Inner, Pipeline, assert_child_of, assert_kind, attr, dump, f64_attr, i64_attr, span_named,
    str_attr,
};

/// gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per 1M tokens;
/// (1,200 - 400) × 0.15 + 400 × 0.075 + 300 × 0.60 = 330 per 1M → $0.00033.
const CHAT_COST_USD: f64 = 0.00033;
/// text-embedding-3-small: $0.02 per 1M; 5,000 tokens → $0.0001.
const EMBEDDING_COST_USD: f64 = 0.0001;

fn client(fake: &FakeOpenAi) -> Client {
    // genai's documented way to send a model to another endpoint: a service-target resolver.
    // The trailing slash matters: genai joins `chat/completions` onto the base URL.
    let endpoint = format!("{}/", fake.base_url);
    Client::builder()
        .with_service_target_resolver_fn(move |target: ServiceTarget| {
            Ok(ServiceTarget {
                endpoint: Endpoint::from_owned(endpoint.clone()),
                auth: AuthData::from_single("sk-fake"),
                model: target.model,
            })
        })
        .build()
        .expect("genai client")
}

#[tokio::test]
async fn genai_chat_and_embeddings_spans_get_cost_and_the_root_gets_the_trace_total() {
    let fake = FakeOpenAi::start().await;
    let pipeline = Pipeline::install(Inner::Batch);
    let client = client(&fake);

    let run = tracing::info_span!("agent_run");
    async {
        let request = ChatRequest::new(vec![ChatMessage::user("What is the capital of France?")]);
        let answer = client
            .exec_chat("gpt-4o-mini", request, None)
            .await
            .expect("genai chat call");
        assert_eq!(answer.first_text(), Some("Paris."));
        let embedded = client
            .embed_batch(
                "text-embedding-3-small",
                vec!["Paris".to_owned(), "France".to_owned()],
                None,
            )
            .await
            .expect("genai embeddings call");
        assert_eq!(embedded.embedding_count(), 2);
    }
    .instrument(run)
    .await;

    let paths: Vec<&str> = fake.received().iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        ["/v1/chat/completions", "/v1/embeddings"],
        "genai really called the fake"
    );

    let spans = pipeline.spans();
    let root = span_named(&spans, "agent_run");
    let chat = span_named(&spans, "chat gpt-4o-mini");
    let embeddings = span_named(&spans, "embeddings text-embedding-3-small");
    let shapes = format!("{}{}", dump(chat), dump(embeddings));

    // What genai 0.7 emits (recorded in docs/integrations.md).
    assert_kind(chat, SpanKind::Client);
    assert_kind(embeddings, SpanKind::Client);
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
        "genai sets no gen_ai.system: {shapes}"
    );
    for (key, expected) in [
        ("gen_ai.usage.input_tokens", CHAT_USAGE.prompt),
        ("gen_ai.usage.output_tokens", CHAT_USAGE.completion),
        ("gen_ai.usage.cache_read.input_tokens", CHAT_USAGE.cached),
        ("gen_ai.usage.reasoning.output_tokens", CHAT_USAGE.reasoning),
    ] {
        assert_eq!(
            attr(chat, key),
            Some(&Value::I64(expected as i64)),
            "genai's `{key}` arrives as an int: {shapes}"
        );
    }
    assert_eq!(
        str_attr(embeddings, "gen_ai.operation.name"),
        "embeddings",
        "{shapes}"
    );
    assert_eq!(
        attr(embeddings, "gen_ai.usage.input_tokens"),
        Some(&Value::I64(EMBEDDING_PROMPT_TOKENS as i64)),
        "{shapes}"
    );

    // What Peekr adds.
    assert_eq!(str_attr(chat, "peekr.cost.status"), "priced", "{shapes}");
    assert_eq!(str_attr(chat, "peekr.pricing.model"), "gpt-4o-mini");
    assert_eq!(f64_attr(chat, "gen_ai.usage.cost"), CHAT_COST_USD);
    assert_eq!(f64_attr(chat, "peekr.cost.cache_read"), 0.00003);

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
}

/// Sends one streamed chat turn and reads the stream to its end.
async fn stream_one_turn(client: &Client, options: Option<&ChatOptions>) {
    let request = ChatRequest::new(vec![ChatMessage::user("What is the capital of France?")]);
    let mut stream = client
        .exec_chat_stream("gpt-4o-mini", request, options)
        .await
        .expect("genai stream")
        .stream;
    let mut text = String::new();
    while let Some(event) = stream.next().await {
        if let ChatStreamEvent::Chunk(chunk) = event.expect("stream event") {
            text.push_str(&chunk.content);
        }
    }
    assert_eq!(text, "Paris.");
}

#[tokio::test]
async fn genai_streamed_chat_is_priced_when_usage_capture_is_on() {
    let fake = FakeOpenAi::start().await;
    let pipeline = Pipeline::install(Inner::Simple);
    let client = client(&fake);

    let options = ChatOptions::default().with_capture_usage(true);
    stream_one_turn(&client, Some(&options))
        .instrument(tracing::info_span!("agent_run"))
        .await;

    let received = fake.received();
    assert!(
        received[0].stream && received[0].include_usage,
        "{received:?}"
    );
    let spans = pipeline.spans();
    let root = span_named(&spans, "agent_run");
    let chat = span_named(&spans, "chat gpt-4o-mini");
    let shapes = dump(chat);
    assert_eq!(
        attr(chat, "gen_ai.request.stream"),
        Some(&Value::Bool(true)),
        "{shapes}"
    );
    assert_eq!(
        attr(chat, "gen_ai.usage.cache_read.input_tokens"),
        Some(&Value::I64(CHAT_USAGE.cached as i64)),
        "{shapes}"
    );
    assert_eq!(str_attr(chat, "peekr.cost.status"), "priced", "{shapes}");
    assert_eq!(f64_attr(chat, "gen_ai.usage.cost"), CHAT_COST_USD);
    assert_eq!(f64_attr(root, "peekr.trace.cost"), CHAT_COST_USD);
}

#[tokio::test]
async fn genai_streamed_chat_without_usage_capture_is_reported_as_no_usage_not_zero() {
    // genai asks for `stream_options.include_usage` only with `with_capture_usage(true)`;
    // without it the provider sends no usage, the span carries no token counts, and Peekr says
    // so (`no_usage`, counted as an unpriced call) instead of writing a $0 cost.
    let fake = FakeOpenAi::start().await;
    let pipeline = Pipeline::install(Inner::Simple);
    let client = client(&fake);

    stream_one_turn(&client, None)
        .instrument(tracing::info_span!("agent_run"))
        .await;

    let received = fake.received();
    assert!(
        received[0].stream && !received[0].include_usage,
        "{received:?}"
    );
    let spans = pipeline.spans();
    let root = span_named(&spans, "agent_run");
    let chat = span_named(&spans, "chat gpt-4o-mini");
    let shapes = dump(chat);
    assert!(
        attr(chat, "gen_ai.usage.input_tokens").is_none(),
        "{shapes}"
    );
    assert_eq!(str_attr(chat, "peekr.cost.status"), "no_usage", "{shapes}");
    assert!(
        attr(chat, "gen_ai.usage.cost").is_none(),
        "never a silent $0: {shapes}"
    );
    assert_eq!(i64_attr(root, "peekr.trace.llm_calls"), 1);
    assert_eq!(i64_attr(root, "peekr.trace.unpriced_calls"), 1);
    assert_eq!(f64_attr(root, "peekr.trace.cost"), 0.0);
}
