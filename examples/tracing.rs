//! The same agent written with `tracing`: dotted field names and `u64` token counts (which
//! `tracing-opentelemetry` records as strings) are priced by Peekr with no code change.
//!
//! Run with:
//!
//! ```sh
//! cargo run --example tracing
//! ```

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor};
use peekr::CostProcessor;
use tracing_subscriber::layer::SubscriberExt;

fn chat(model: &str, input: u64, output: u64) {
    let span = tracing::info_span!(
        "chat",
        otel.name = format!("chat {model}"),
        gen_ai.operation.name = "chat",
        gen_ai.provider.name = "openai",
        gen_ai.request.model = model,
        gen_ai.usage.input_tokens = input,
        gen_ai.usage.output_tokens = output,
    );
    span.in_scope(|| {});
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let memory = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(CostProcessor::new(SimpleSpanProcessor::new(memory.clone())))
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("tracing-example")));
    tracing::subscriber::with_default(subscriber, || {
        for turn in 1..=3u64 {
            let query = tracing::info_span!("handle_query", turn, tenant.id = "acme");
            let _q = query.enter();
            chat("gpt-4o-mini", 900 * turn, 120);
            chat("claude-sonnet-4-5", 3_000 * turn, 500);
        }
    });
    provider.force_flush()?;
    for span in memory.get_finished_spans()? {
        let get = |k: &str| {
            span.attributes
                .iter()
                .find(|kv| kv.key.as_str() == k)
                .map(|kv| kv.value.to_string())
        };
        match (get("gen_ai.usage.cost"), get("peekr.trace.cost")) {
            (Some(cost), _) => println!(
                "{:<28} cost ${cost} ({})",
                span.name,
                get("peekr.cost.status").unwrap_or_default()
            ),
            (None, Some(total)) => println!("{:<28} query total ${total}", span.name),
            _ => {}
        }
    }
    provider.shutdown()?;
    Ok(())
}
