//! genai with Peekr: genai's own GenAI spans get `gen_ai.usage.cost` without any change to the
//! code that calls genai.
//!
//! genai 0.7 with its `otel` feature emits `tracing` spans named `chat <model>` and
//! `embeddings <model>` (kind Client) with `gen_ai.*` attributes. The application bridges them to
//! OpenTelemetry with `tracing-opentelemetry`, as it would anyway; the only Peekr line is
//! wrapping the exporting span processor in [`peekr::CostProcessor`].
//!
//! To run offline, the example starts a local fake of the OpenAI API and points genai at it with
//! a service-target resolver (against the real API, drop the fake and the resolver, keep genai's
//! default `rustls-tls` feature and set `OPENAI_API_KEY`). Spans go to an in-memory exporter and
//! are printed; in production, use `peekr::instrument()` or an OTLP exporter instead.
//!
//! Run with:
//!
//! ```sh
//! cargo run --example genai
//! ```

#[path = "support/fake_openai.rs"]
mod fake_openai;

use genai::chat::{ChatMessage, ChatRequest};
use genai::resolver::{AuthData, Endpoint};
use genai::{Client, ServiceTarget};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{BatchSpanProcessor, InMemorySpanExporter, SdkTracerProvider};
use tracing::Instrument as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fake = fake_openai::FakeOpenAi::start().await;

    // The OpenTelemetry pipeline, with Peekr wrapping the exporting processor.
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(peekr::CostProcessor::new(
            BatchSpanProcessor::builder(exporter.clone()).build(),
        ))
        .build();
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("genai-example")))
        .init();

    // Ordinary genai code: nothing here knows about Peekr. The resolver only sends requests to
    // the fake; genai joins `chat/completions` onto the endpoint, hence the trailing slash.
    let endpoint = format!("{}/", fake.base_url);
    let client = Client::builder()
        .with_service_target_resolver_fn(move |target: ServiceTarget| {
            Ok(ServiceTarget {
                endpoint: Endpoint::from_owned(endpoint.clone()),
                auth: AuthData::from_single("sk-fake"),
                model: target.model,
            })
        })
        .build()?;
    async {
        let request = ChatRequest::new(vec![ChatMessage::user("What is the capital of France?")]);
        let answer = client.exec_chat("gpt-4o-mini", request, None).await?;
        println!("answer: {}", answer.first_text().unwrap_or_default());
        let texts = vec!["Paris".to_owned(), "France".to_owned()];
        let embedded = client
            .embed_batch("text-embedding-3-small", texts, None)
            .await?;
        println!("embedded {} documents", embedded.embedding_count());
        Ok::<_, genai::Error>(())
    }
    .instrument(tracing::info_span!("agent_run"))
    .await?;

    provider.force_flush()?;
    print_costs(&exporter.get_finished_spans()?);
    provider.shutdown()?;
    Ok(())
}

/// Prints each span's name and the cost attributes Peekr wrote.
fn print_costs(spans: &[opentelemetry_sdk::trace::SpanData]) {
    const KEYS: [&str; 6] = [
        "gen_ai.request.model",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.cost",
        "peekr.cost.status",
        "peekr.trace.cost",
    ];
    for span in spans {
        println!("span `{}`", span.name);
        for kv in span
            .attributes
            .iter()
            .filter(|kv| KEYS.contains(&kv.key.as_str()))
        {
            println!("    {} = {}", kv.key, kv.value);
        }
    }
}
