//! The pipeline a user would build: `tracing` spans → `tracing-opentelemetry` layer →
//! `SdkTracerProvider` → `CostProcessor` → an exporting processor over an in-memory exporter.

use opentelemetry::trace::{SpanKind, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor, SpanData,
};
use peekr::CostProcessor;
use tracing_subscriber::layer::SubscriberExt as _;

/// Which exporting processor `CostProcessor` wraps.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Inner {
    Simple,
    Batch,
}

/// A tracer provider with Peekr in it, installed as this thread's `tracing` subscriber until
/// dropped.
pub(crate) struct Pipeline {
    pub(crate) exporter: InMemorySpanExporter,
    provider: SdkTracerProvider,
    _subscriber: tracing::subscriber::DefaultGuard,
}

impl Pipeline {
    /// Builds the pipeline and installs the subscriber for the current thread. Use it from a
    /// current-thread runtime (`#[tokio::test]`'s default) so every span of the request is
    /// created on this thread.
    pub(crate) fn install(inner: Inner) -> Pipeline {
        let exporter = InMemorySpanExporter::default();
        let provider = match inner {
            Inner::Simple => SdkTracerProvider::builder()
                .with_span_processor(CostProcessor::new(SimpleSpanProcessor::new(
                    exporter.clone(),
                )))
                .build(),
            Inner::Batch => SdkTracerProvider::builder()
                .with_span_processor(CostProcessor::new(
                    BatchSpanProcessor::builder(exporter.clone()).build(),
                ))
                .build(),
        };
        let tracer = provider.tracer("peekr-integrations");
        let subscriber =
            tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
        let guard = tracing::subscriber::set_default(subscriber);
        Pipeline {
            exporter,
            provider,
            _subscriber: guard,
        }
    }

    /// Flushes and returns every exported span.
    pub(crate) fn spans(&self) -> Vec<SpanData> {
        self.provider.force_flush().expect("flush");
        self.exporter.get_finished_spans().expect("finished spans")
    }
}

/// The last value of `key` on `span` (Peekr reads the last duplicate too).
pub(crate) fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .rev()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// `key` as a double, panicking with the span's attributes when absent or not a double.
pub(crate) fn f64_attr(span: &SpanData, key: &str) -> f64 {
    match attr(span, key) {
        Some(Value::F64(d)) => *d,
        other => panic!(
            "`{key}` on span `{}` is {other:?}; attributes: {}",
            span.name,
            dump(span)
        ),
    }
}

/// `key` as a string.
pub(crate) fn str_attr<'a>(span: &'a SpanData, key: &str) -> &'a str {
    match attr(span, key) {
        Some(Value::String(s)) => s.as_str(),
        other => panic!(
            "`{key}` on span `{}` is {other:?}; attributes: {}",
            span.name,
            dump(span)
        ),
    }
}

/// `key` as an integer.
pub(crate) fn i64_attr(span: &SpanData, key: &str) -> i64 {
    match attr(span, key) {
        Some(Value::I64(i)) => *i,
        other => panic!(
            "`{key}` on span `{}` is {other:?}; attributes: {}",
            span.name,
            dump(span)
        ),
    }
}

/// The one span named `name`.
pub(crate) fn span_named<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    let found: Vec<&SpanData> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(
        found.len(),
        1,
        "expected one span named `{name}`, got: {:?}",
        names(spans)
    );
    found[0]
}

/// Span names, for failure messages.
pub(crate) fn names(spans: &[SpanData]) -> Vec<String> {
    spans.iter().map(|s| s.name.to_string()).collect()
}

/// One line per attribute: `key = Type(value)`, for failure messages and the shapes recorded in
/// docs/integrations.md.
pub(crate) fn dump(span: &SpanData) -> String {
    let mut out = format!("\n  span `{}` kind={:?}", span.name, span.span_kind);
    for KeyValue { key, value, .. } in &span.attributes {
        out.push_str(&format!("\n    {key} = {value:?}"));
    }
    out
}

/// Asserts `span` is a child of `parent` in the same trace.
pub(crate) fn assert_child_of(span: &SpanData, parent: &SpanData) {
    assert_eq!(span.span_context.trace_id(), parent.span_context.trace_id());
    assert_eq!(span.parent_span_id, parent.span_context.span_id());
}

/// Asserts the span kind.
pub(crate) fn assert_kind(span: &SpanData, kind: SpanKind) {
    assert_eq!(span.span_kind, kind, "kind of `{}`", span.name);
}
