//! rig-core with Peekr: rig's own GenAI spans get `gen_ai.usage.cost` without any change to the
//! code that calls rig.
//!
//! rig 0.44 emits `tracing` spans named `chat` and `embeddings` with `gen_ai.*` attributes. The
//! application bridges them to OpenTelemetry with `tracing-opentelemetry`, as it would anyway;
//! the only Peekr line is wrapping the exporting span processor in [`peekr::CostProcessor`].
//!
//! To run offline, the example starts a local fake of the OpenAI API and points rig at it with
//! `OpenAIConfig::with_base_url` (against the real API, drop the fake, keep rig-core's default
//! `rustls` feature, and use `OpenAI::from_env()`). Spans go to an in-memory exporter and are
//! printed; in production, use `peekr::instrument()` or an OTLP exporter instead.
//!
//! Run with:
//!
//! ```sh
//! cargo run --example rig
//! ```

#[path = "support/fake_openai.rs"]
mod fake_openai;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{BatchSpanProcessor, InMemorySpanExporter, SdkTracerProvider};
use rig_core::providers::openai::{self, OpenAIConfig};
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
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("rig-example")))
        .init();

    // Ordinary rig code: nothing here knows about Peekr.
    let openai = OpenAIConfig::new("sk-fake")
        .with_base_url(fake.base_url.clone())
        .client();
    async {
        let answer = openai
            .chat(openai::GPT_4O_MINI)
            .call("What is the capital of France?")
            .await?;
        println!("answer: {}", answer.text());
        let embedded = openai
            .embedding(openai::TEXT_EMBEDDING_3_SMALL, None)
            .call(vec!["Paris".to_owned(), "France".to_owned()])
            .await?;
        println!("embedded {} documents", embedded.embeddings.len());
        Ok::<_, rig_core::ProviderError>(())
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
